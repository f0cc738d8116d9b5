// Server nodes as real processes for the chaos run: `node --import tsx server/src/main.ts`,
// one process each (so SIGKILL really kills the server), restartable on the same port.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(__dirname, '..', '..');

export interface ChaosNode {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  running(): boolean;
  /** Starts the process and resolves once it listens. */
  start(): Promise<void>;
  /** Sends a signal and resolves with the exit code (or signal) once it is gone. */
  stop(signal: NodeJS.Signals): Promise<string>;
  /** The last lines the node printed. */
  tail(lines?: number): string;
}

/** `logFile`: everything the node prints is appended there too (for a post-mortem). */
export function chaosNode(name: string, port: number, env: Record<string, string>, logFile?: string): ChaosNode {
  let child: ChildProcess | null = null;
  let exited: Promise<string> | null = null;
  let out: string[] = [];
  const tsx = pathToFileURL(require.resolve('tsx')).href;

  const node: ChaosNode = {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    running: () => child !== null,
    async start() {
      if (child) return;
      out = [];
      const proc = spawn(process.execPath, ['--import', tsx, 'server/src/main.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), NODE_ID: name },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      const keep = (d: Buffer) => {
        if (logFile) fs.appendFileSync(logFile, d);
        out.push(...d.toString().split('\n').filter(Boolean));
        if (out.length > 400) out = out.slice(-200);
      };
      proc.stdout!.on('data', keep);
      proc.stderr!.on('data', keep);
      exited = new Promise((resolve) =>
        proc.once('exit', (code, signal) => {
          if (child === proc) child = null;
          resolve(signal ?? String(code));
        }),
      );
      const deadline = Date.now() + 60_000;
      while (!out.some((l) => l.includes('listening on'))) {
        if (!child) throw new Error(`${name} exited before listening:\n${out.slice(-20).join('\n')}`);
        if (Date.now() > deadline) throw new Error(`${name} did not listen within 60 s:\n${out.slice(-20).join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(signal) {
      const proc = child;
      if (!proc || !exited) return 'not running';
      const gone = exited;
      proc.kill(signal);
      const force = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      const how = await gone;
      clearTimeout(force);
      return how;
    },
    tail: (lines = 20) => out.slice(-lines).join('\n'),
  };
  return node;
}
