// A redis-server of our own on a spare port, for faults we may inflict (stop, restart)
// without touching the shared Redis on 6379. Used by the chaos script and by tests.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface SpareRedis {
  url: string;
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL); data is not persisted. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  running(): boolean;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `redis-server` (from PATH) on a free port, without persistence. */
export async function startSpareRedis(port?: number): Promise<SpareRedis> {
  const p = port ?? (await freeTcpPort());
  let child: ChildProcess | null = null;
  const start = async () => {
    if (child) return;
    const proc = spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child = proc;
    let failed: Error | null = null;
    proc.once('error', (err) => {
      failed = err;
    });
    proc.once('exit', () => {
      if (child === proc) child = null;
    });
    const deadline = Date.now() + 10_000;
    while (!(await answers(p))) {
      if (failed) throw new Error(`redis-server could not start: ${(failed as Error).message}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${p} within 10 s`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      const proc = child;
      if (!proc || proc.exitCode !== null) return resolve();
      const kill = setTimeout(() => proc.kill('SIGKILL'), 3000);
      proc.once('exit', () => {
        clearTimeout(kill);
        child = null;
        resolve();
      });
      proc.kill('SIGTERM');
    });
  await start();
  return { url: `redis://127.0.0.1:${p}`, port: p, start, stop, running: () => child !== null };
}
