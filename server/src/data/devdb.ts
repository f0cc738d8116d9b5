// Builds and runs the embedded FerretDB (tools/devdb) so zero-config runs and
// tests need no downloaded mongod. Never used when MONGODB_URI is set.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');
const SOURCE_DIR = path.join(PROJECT_ROOT, 'tools', 'devdb');

export interface DevdbOptions {
  port: number;
  dir: string;
  backend: 'sqlite' | 'postgresql';
  postgresqlUrl?: string | null;
  binDir?: string;
  /** Where devdb's own stderr goes; default: inherited. */
  stdio?: 'inherit' | 'ignore';
}

export interface Devdb {
  uri: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of fs.readdirSync(dir)) {
    if (/\.(go|mod|sum)$/.test(name)) newest = Math.max(newest, fs.statSync(path.join(dir, name)).mtimeMs);
  }
  return newest;
}

/** Builds the devdb binary with `go build` when it is missing or older than its sources. */
export function ensureDevdbBinary(binDir = path.join(PROJECT_ROOT, '.data', 'bin')): string {
  const bin = path.join(binDir, 'devdb');
  const fresh = fs.existsSync(bin) && fs.statSync(bin).mtimeMs >= newestMtime(SOURCE_DIR);
  if (fresh) return bin;
  fs.mkdirSync(binDir, { recursive: true });
  process.stderr.write('devdb: building the embedded database (first run only, about a minute)...\n');
  const res = spawnSync('go', ['build', '-o', bin, '.'], { cwd: SOURCE_DIR, stdio: 'inherit' });
  if (res.error) throw new Error(`devdb: cannot run "go build" (${res.error.message}); install Go or set MONGODB_URI`);
  if (res.status !== 0) throw new Error(`devdb: "go build" failed with exit code ${res.status}`);
  return bin;
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Starts devdb and resolves once it accepts connections. */
export async function startDevdb(opts: DevdbOptions): Promise<Devdb> {
  const bin = ensureDevdbBinary(opts.binDir);
  if (await portAnswers(opts.port)) {
    throw new Error(`devdb: port ${opts.port} is already in use (set DEVDB_PORT, or MONGODB_URI to use that server)`);
  }
  const env = {
    ...process.env,
    DEVDB_PORT: String(opts.port),
    DEVDB_DIR: opts.dir,
    DEVDB_BACKEND: opts.backend,
    ...(opts.postgresqlUrl ? { DEVDB_POSTGRESQL_URL: opts.postgresqlUrl } : {}),
  };
  const child = spawn(bin, [], { env, stdio: ['ignore', 'ignore', opts.stdio ?? 'inherit'] });
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  const deadline = Date.now() + 30_000;
  while (!(await portAnswers(opts.port))) {
    if (exited !== null) throw new Error(`devdb: exited with code ${exited} before listening`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('devdb: did not listen within 30 s');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    uri: `mongodb://127.0.0.1:${opts.port}/chat`,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
