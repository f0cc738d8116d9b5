// Helpers for the workers tests: a real webhook receiver that records every attempt,
// the environment (a unique queue prefix per test, so parallel files and the shared
// Redis never collide), the workers in-process or as the real process, and cleanup.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Redis from 'ioredis';
import { afterAll, beforeAll, inject } from 'vitest';
import { loadConfig } from '../../server/src/config';
import { createLogger } from '../../server/src/logger';
import { runJobsCommand } from '../../workers/src/cli/jobs.command';
import { startWorkers, type Workers, type WorkersOptions } from '../../workers/src/workers';
import { startTestApp, testEnv, type TestApp } from './app';
import { closeClients } from './chat';

export const ROOT = path.resolve(__dirname, '..', '..');
export const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
export const NOTIFY_SECRET = 'notify-secret-0123456789';
export const EVENTS_SECRET = 'events-secret-0123456789';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `check` returns a truthy value (which is returned) or the time is up. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** The queues whose jobs deliver something (retention only sweeps, and always has its next sweep delayed). */
const DELIVERING_QUEUES = ['domain-events', 'notifications', 'webhooks'];

/**
 * "Nothing more will arrive", as a condition instead of a sleep: resolves once no delivering
 * job is waiting, running or waiting for a retry (read with `jobs stats`, so it holds for
 * workers in this process or in others). Only a re-drive or a re-added job can deliver after it.
 */
export async function queuesIdle(env: Record<string, string | undefined>, timeoutMs = 20_000): Promise<void> {
  await eventually(
    async () => {
      let out = '';
      const code = await runJobsCommand(['stats', '--json'], testEnv(env), { out: (l) => (out += l), err: () => undefined });
      if (code !== 0) return false;
      const stats = JSON.parse(out) as Record<string, Record<string, number>>;
      return DELIVERING_QUEUES.every((q) => stats[q].waiting === 0 && stats[q].active === 0 && stats[q].delayed === 0 && (stats[q].prioritized ?? 0) === 0);
    },
    timeoutMs,
    'the job queues to go idle',
  );
}

/** The same for zero-config mode (jobs in the server's process), read from its /metrics. */
export async function inProcessJobsIdle(baseUrl: string, timeoutMs = 20_000): Promise<void> {
  await eventually(
    async () => {
      const text = await (await fetch(`${baseUrl}/metrics`)).text();
      const busy = text.split('\n').filter((l) => {
        const m = /^chat_jobs_queue_depth\{([^}]*)\} (\S+)$/.exec(l);
        return m && /state="(waiting|active|delayed)"/.test(m[1]) && DELIVERING_QUEUES.some((q) => m[1].includes(`queue="${q}"`)) && Number(m[2]) !== 0;
      });
      return busy.length === 0 && text.includes('chat_jobs_queue_depth{');
    },
    timeoutMs,
    'the in-process jobs to go idle',
  );
}

// ---------------------------------------------------------------- receiver

export interface Received {
  /** The request path: one receiver can stand for several webhook URLs. */
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  rawBody: string;
  body: any;
  /** When the request arrived (ms since epoch). */
  at: number;
  /** 1-based count of requests with this id so far. */
  attempt: number;
  /** What the receiver answered (0 while held or if the client went away). */
  status: number;
}

export interface Receiver {
  url: string;
  /** Every request, in arrival order. */
  requests: Received[];
  /** Requests answered 2xx. */
  delivered(): Received[];
  /** Requests carrying this X-Webhook-Id. */
  attemptsOf(id: string): Received[];
  close(): Promise<void>;
}

export interface ReceiverOptions {
  /** Fail this many attempts of each id (with failStatus) before answering 200. */
  failFirst?: number;
  failStatus?: number;
  /** Full control: resolves the status for a request (may wait, to hold it open). */
  respond?: (r: Received) => number | Promise<number>;
}

/** A real HTTP receiver on a free port: records everything, dedupes nothing. */
export async function startReceiver(opts: ReceiverOptions = {}): Promise<Receiver> {
  const requests: Received[] = [];
  const counts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const id = String(req.headers['x-webhook-id'] ?? '');
      const attempt = (counts.get(id) ?? 0) + 1;
      counts.set(id, attempt);
      let body: any = null;
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = null;
      }
      const r: Received = {
        path: (req.url ?? '/').split('?')[0],
        id,
        timestamp: String(req.headers['x-webhook-timestamp'] ?? ''),
        signature: String(req.headers['x-webhook-signature'] ?? ''),
        rawBody,
        body,
        at: Date.now(),
        attempt,
        status: 0,
      };
      requests.push(r);
      const decide = opts.respond ?? ((x: Received) => (x.attempt <= (opts.failFirst ?? 0) ? (opts.failStatus ?? 500) : 200));
      void Promise.resolve(decide(r)).then((status) => {
        if (res.destroyed || req.socket.destroyed) return;
        r.status = status;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    delivered: () => requests.filter((r) => r.status >= 200 && r.status < 300),
    attemptsOf: (id) => requests.filter((r) => r.id === id),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** docs/workers.md: a notification's id (X-Webhook-Id, body `id`, job id) is `ntf_` and 32 hex digits. */
export const NOTIFICATION_ID = /^ntf_[0-9a-f]{32}$/;

/**
 * The id the receiver saw for the notification of (message, user), read from what arrived
 * rather than recomputed with the server's own function: every request for that pair must
 * carry the same id, in the documented form (so a wrong derivation fails here or in the
 * dedupe checks that use it). Throws if none arrived yet.
 */
export function notificationIdSeen(receiver: Receiver, messageId: string, userId: string): string {
  const seen = receiver.requests.filter((r) => r.body?.type === 'notification.message' && r.body?.data?.userId === userId && r.body?.data?.message?.id === messageId);
  if (seen.length === 0) throw new Error(`no notification of message ${messageId} to ${userId} arrived`);
  const ids = new Set(seen.flatMap((r) => [r.id, r.body.id]));
  if (ids.size !== 1) throw new Error(`the notification of message ${messageId} to ${userId} arrived under several ids: ${[...ids].join(', ')}`);
  const [id] = ids;
  if (!NOTIFICATION_ID.test(id)) throw new Error(`notification id ${id} is not ntf_ and 32 hex digits`);
  return id;
}

/** Recomputes the signature the way a receiver would (constant-time compare). */
export function signatureValid(secret: string, r: Received): boolean {
  const expected = `sha256=${crypto.createHmac('sha256', secret).update(`${r.timestamp}.${r.rawBody}`).digest('hex')}`;
  const a = Buffer.from(expected);
  const b = Buffer.from(r.signature);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

// ---------------------------------------------------------------- environment

/** A queue prefix no other test (or developer) uses. */
export function uniquePrefix(): string {
  return `t-${crypto.randomBytes(5).toString('hex')}`;
}

/**
 * What the server and the workers of one test share: Redis, a unique queue prefix,
 * the notification webhook, small backoff and lock times, chat limits out of the way.
 */
export function jobsEnv(prefix: string, overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    REDIS_URL: inject('redisUrl'),
    QUEUE_PREFIX: prefix,
    // Presence keys of this test under the same prefix: dropPrefix removes them too.
    REDIS_KEY_PREFIX: `${prefix}:`,
    NOTIFY_WEBHOOK_SECRET: NOTIFY_SECRET,
    EVENTS_WEBHOOK_SECRET: EVENTS_SECRET,
    WEBHOOK_BACKOFF_MS: '50',
    WEBHOOK_TIMEOUT_MS: '1000',
    WORKER_LOCK_MS: '1000',
    WORKERS_METRICS_PORT: '0',
    RATE_LIMIT_MESSAGES: '100000',
    RATE_LIMIT_JOINS: '100000',
    PRESENCE_GRACE_MS: '100',
    ...overrides,
  };
}

/** The workers in this process, against the test app's database and Redis (presence included). */
export async function startTestWorkers(t: TestApp, env: Record<string, string | undefined>, opts: WorkersOptions = {}): Promise<Workers> {
  const config = loadConfig(testEnv({ MONGODB_URI: t.config.mongodbUri!, ...env }));
  return startWorkers(config, { log: createLogger(config.logLevel, { role: 'workers' }), ...opts });
}

export interface WorkersProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  out(): string;
  err(): string;
}

/** The real workers process (`workers/src/main.ts`, as `npm run workers` runs it); resolves once it says it runs. */
export async function spawnWorkers(env: Record<string, string | undefined>, opts: { waitReady?: boolean } = {}): Promise<WorkersProcess> {
  const fullEnv: Record<string, string> = { PATH: process.env.PATH ?? '' };
  for (const [k, v] of Object.entries(testEnv(env))) if (v !== undefined) fullEnv[k] = v;
  // node with tsx's loader rather than the tsx wrapper: one process, so a SIGKILL really kills the worker.
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/src/main.ts'], { cwd: ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const p = { child, exited, out: () => stdout, err: () => stderr };
  if (opts.waitReady !== false) {
    let done = false;
    void exited.then(() => (done = true));
    await eventually(() => stdout.includes('Workers running') || done, 20_000, 'the workers process to start');
    if (!stdout.includes('Workers running')) throw new Error(`workers process exited: ${stderr}`);
  }
  return p;
}

/** Backdates a room's messages with seq ≤ n by `days` (the API has no way to write the past). */
export async function backdate(t: TestApp, roomId: string, n: number, days: number): Promise<void> {
  const Message = t.app.deps.db.model('Message');
  await Message.updateMany({ roomId, seq: { $lte: n } }, { $set: { createdAt: new Date(Date.now() - days * 24 * 3600 * 1000) } }).exec();
}

/** Deletes every key of a test's queue prefix from the shared Redis. */
export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------- one test file's stack

/** `npm run jobs -- …` in this process (no tsx start-up per call). */
export async function jobsCommand(env: Record<string, string | undefined>, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runJobsCommand(args, testEnv(env), { out: (l) => (out += `${l}\n`), err: (l) => (err += `${l}\n`) });
  return { code, out, err };
}

/** What a workers test file runs against; the fields are set once its beforeAll has run. */
export interface WorkersStack {
  receiver: Receiver;
  prefix: string;
  /** The server's and the workers' environment (MONGODB_URI included: workers processes share the app's database). */
  env: Record<string, string | undefined>;
  t: TestApp;
  /** The workers in this process, if started (closed after the file; a test may replace or close it and set null). */
  w: Workers | null;
  /** Workers processes a test spawned: SIGKILLed after the file if still running. */
  procs: WorkersProcess[];
}

export interface WorkersStackOptions {
  /** The receiver's answer to each request (default 200). */
  respond?: (r: Received) => number | Promise<number>;
  /** Environment on top of jobsEnv, given the receiver's url. */
  env?: (receiverUrl: string) => Record<string, string | undefined>;
  /** Start the workers in this process once the app runs (default true). */
  workers?: boolean;
}

/** A receiver, a unique queue prefix, the app and (by default) in-process workers for one file; all torn down after it. */
export function useWorkersStack(opts: WorkersStackOptions = {}): WorkersStack {
  const stack = { w: null, procs: [] } as unknown as WorkersStack;
  beforeAll(async () => {
    stack.receiver = await startReceiver({ respond: opts.respond });
    stack.prefix = uniquePrefix();
    stack.env = jobsEnv(stack.prefix, opts.env?.(stack.receiver.url));
    stack.t = await startTestApp(stack.env);
    stack.env.MONGODB_URI = stack.t.config.mongodbUri!;
    if (opts.workers !== false) stack.w = await startTestWorkers(stack.t, stack.env);
  });
  afterAll(async () => {
    closeClients();
    for (const p of stack.procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await stack.w?.close();
    await stack.t?.close();
    await stack.receiver?.close();
    if (stack.prefix) await dropPrefix(stack.prefix);
  });
  return stack;
}
