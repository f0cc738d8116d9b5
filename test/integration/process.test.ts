// The real entry point as a child process: config errors and graceful shutdown.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { inject, describe, expect, it } from 'vitest';
import { freshMongoUri } from '../helpers/app';
import { freePort } from '../helpers/ports';

const ROOT = path.resolve(__dirname, '..', '..');

function run(env: Record<string, string>) {
  // As `npm start` runs it: one process (the tsx CLI would SIGKILL a child slow to confirm a signal).
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('main process', () => {
  it('stops with exit 1 and one line naming a bad variable', async () => {
    const p = run({ PORT: 'abc' });
    expect(await p.exited).toBe(1);
    expect(p.err().trim()).toMatch(/^Invalid configuration: PORT: must be integer/);
    expect(p.err().trim().split('\n')).toHaveLength(1);
  });

  it('prints where it listens and exits 0 on SIGTERM', async () => {
    void inject;
    const port = await freePort();
    const p = run({ PORT: String(port), HOST: '127.0.0.1', MONGODB_URI: freshMongoUri().uri, JWT_SECRET: 'x'.repeat(32), LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: '1000' });
    const deadline = Date.now() + 20000;
    while (!p.out().includes('listening on') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(p.out()).toContain(`listening on http://127.0.0.1:${port}`);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    const started = Date.now();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(6000);
  });
});
