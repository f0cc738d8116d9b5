// The real entry points refuse an open production setup at start, with one line naming the
// variable (issue 19): the API for CORS_ORIGINS=* and for a missing METRICS_TOKEN, the
// workers for a missing METRICS_TOKEN.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const PROD = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), MONGODB_URI: 'mongodb://127.0.0.1:1/never', REDIS_URL: 'redis://127.0.0.1:1', DATA_DIR: '.data/test' };

function run(entry: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(TSX, [entry], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

describe.concurrent('production start refusals', () => {
  it.each([
    ['CORS_ORIGINS=*', { CORS_ORIGINS: '*', METRICS_TOKEN: 'metrics-token-123' }, /^Invalid configuration: CORS_ORIGINS: must list the allowed origins/],
    ['CORS_ORIGINS unset', { METRICS_TOKEN: 'metrics-token-123' }, /^Invalid configuration: CORS_ORIGINS:/],
    ['no METRICS_TOKEN', { CORS_ORIGINS: 'https://app.example.com' }, /^Invalid configuration: METRICS_TOKEN: required when NODE_ENV=production/],
  ])('the server refuses %s: exit 1, one line', async (_name, extra, line) => {
    const { code, stderr } = await run('server/src/main.ts', { ...PROD, ...extra });
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(line);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('the workers refuse a missing METRICS_TOKEN the same way (CORS is not theirs)', async () => {
    const { code, stderr } = await run('workers/src/main.ts', { ...PROD });
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^Invalid configuration: METRICS_TOKEN:/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});
