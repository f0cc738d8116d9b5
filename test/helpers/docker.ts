// Helpers for test/docker: the docker CLI, containers of this run (named and labelled
// chat-dt, host networking, loopback only), and the ECS descriptions in deploy/ecs.
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const IMAGE = process.env.DOCKER_TEST_IMAGE ?? 'chat-dt/app:latest';
/** One label per run: its containers are removed together, and never another run's. */
export const RUN_ID = crypto.randomBytes(4).toString('hex');

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the docker CLI; resolves with the exit code and both streams (never rejects). */
export function docker(args: string[], opts: { timeoutMs?: number } = {}): Promise<Exec> {
  return new Promise((resolve) => {
    execFile('docker', args, { maxBuffer: 256 * 1024 * 1024, timeout: opts.timeoutMs ?? 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Like docker() but throws unless the command exits 0; returns stdout trimmed. */
export async function dockerOk(args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const r = await docker(args, opts);
  if (r.code !== 0) throw new Error(`docker ${args.slice(0, 3).join(' ')} … exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** `docker image inspect` of the image under test. */
export async function inspectImage(image = IMAGE): Promise<any> {
  return JSON.parse(await dockerOk(['image', 'inspect', image]))[0];
}

/** Every path in the image's file system (`docker export` of a created container). */
export async function imagePaths(image = IMAGE): Promise<string[]> {
  const id = await dockerOk(['create', '--label', `chat-dt.run=${RUN_ID}`, '--network', 'none', image]);
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const exp = spawn('docker', ['export', id], { stdio: ['ignore', 'pipe', 'inherit'] });
      const tar = spawn('tar', ['-t'], { stdio: ['pipe', 'pipe', 'inherit'] });
      exp.stdout.pipe(tar.stdin);
      let out = '';
      tar.stdout.on('data', (d) => (out += d));
      tar.once('error', reject);
      tar.once('exit', (code) => (code === 0 ? resolve(out.split('\n').filter(Boolean)) : reject(new Error(`tar exited ${code}`))));
    });
  } finally {
    await docker(['rm', '-f', id]);
  }
}

export interface ContainerOptions {
  /** Short role name; the container is chat-dt-<run>-<name>. */
  name: string;
  env: Record<string, string>;
  /** Command override (as an ECS task definition's `command`). */
  command?: string[];
  /** Extra `docker run` flags. */
  flags?: string[];
  /** Attach and wait for the exit instead of detaching. */
  foreground?: boolean;
  /** Default host: the host's loopback MongoDB and Redis; none for a container that needs no network. */
  network?: 'host' | 'none';
}

/** `docker run` of the image under test: host network, tini as PID 1 (ECS initProcessEnabled). */
export function runArgs(opts: ContainerOptions): string[] {
  const args = ['run', '--name', `chat-dt-${RUN_ID}-${opts.name}`, '--label', 'chat-dt=1', '--label', `chat-dt.run=${RUN_ID}`, '--init', '--network', opts.network ?? 'host'];
  args.push(opts.foreground ? '--rm' : '--detach');
  for (const [k, v] of Object.entries(opts.env)) args.push('--env', `${k}=${v}`);
  args.push(...(opts.flags ?? []), IMAGE, ...(opts.command ?? []));
  return args;
}

export interface Container {
  name: string;
  id: string;
  logs(): Promise<string>;
  /** `docker inspect` .State */
  state(): Promise<{ Status: string; ExitCode: number; Health?: { Status: string }; StartedAt: string; FinishedAt: string; OOMKilled: boolean }>;
}

/** Starts a detached container of this run. */
export async function startContainer(opts: ContainerOptions): Promise<Container> {
  const id = await dockerOk(runArgs(opts));
  const name = `chat-dt-${RUN_ID}-${opts.name}`;
  return {
    name,
    id,
    logs: async () => {
      const r = await docker(['logs', '--tail', '200', id]);
      return `${r.stdout}${r.stderr}`;
    },
    state: async () => JSON.parse(await dockerOk(['inspect', '-f', '{{json .State}}', id])),
  };
}

/** Removes every container of this run (running or not). */
export async function removeRunContainers(): Promise<void> {
  const ids = (await dockerOk(['ps', '-aq', '--filter', `label=chat-dt.run=${RUN_ID}`])).split('\n').filter(Boolean);
  if (ids.length > 0) await docker(['rm', '-f', ...ids]);
}

// ---------------------------------------------------------------- deploy/ecs

export interface EcsContainer {
  name: string;
  command?: string[];
  portMappings?: Array<{ containerPort: number; hostPort?: number; protocol?: string }>;
  environment?: Array<{ name: string; value: string }>;
  secrets?: Array<{ name: string; valueFrom: string }>;
  stopTimeout?: number;
  linuxParameters?: { initProcessEnabled?: boolean };
  ulimits?: Array<{ name: string; softLimit: number; hardLimit: number }>;
  healthCheck?: { command: string[]; interval?: number; timeout?: number; retries?: number; startPeriod?: number };
}

export function readEcs(file: string): any {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'deploy', 'ecs', file), 'utf8'));
}

/** Every container definition in deploy/ecs/*.json, with the file it came from. */
export function ecsContainers(): Array<EcsContainer & { file: string }> {
  const dir = path.join(ROOT, 'deploy', 'ecs');
  const out: Array<EcsContainer & { file: string }> = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const doc = readEcs(file);
    for (const c of (doc.containerDefinitions ?? []) as EcsContainer[]) out.push({ ...c, file });
  }
  return out;
}

/** The environment a container definition sets, as a plain object. */
export function ecsEnvironment(c: EcsContainer): Record<string, string> {
  return Object.fromEntries((c.environment ?? []).map((e) => [e.name, e.value]));
}

/**
 * `docker run` flags for what the definition sets beyond env and command (ulimits). A
 * sandbox may not let the engine raise open files as far as ECS does: `nofileMax` (the
 * engine's own limit) caps it, and the cap is reported.
 */
export function ecsRunFlags(c: EcsContainer, nofileMax = Infinity): string[] {
  return (c.ulimits ?? []).flatMap((u) => {
    const cap = u.name === 'nofile' ? nofileMax : Infinity;
    if (u.hardLimit > cap) process.stderr.write(`docker-test: ulimit ${u.name} ${u.softLimit}:${u.hardLimit} capped to ${cap}, this engine's limit\n`);
    return ['--ulimit', `${u.name}=${Math.min(u.softLimit, cap)}:${Math.min(u.hardLimit, cap)}`];
  });
}

/** The open-files limit containers of this engine may go up to. */
export async function engineNofileLimit(): Promise<number> {
  const out = await dockerOk(['run', '--rm', '--network', 'none', '--entrypoint', 'sh', IMAGE, '-c', 'ulimit -Hn']);
  return out === 'unlimited' ? Infinity : Number(out);
}
