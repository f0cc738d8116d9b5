// Multi-process cluster harness: real server processes (tsx server/src/main.ts) on one
// database and one Redis, a private redis-server for outage tests, and a client that
// reconnects to another node and recovers from history the way the contract says.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { inject } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { freshMongoUri, GENEROUS_ACCOUNT_LIMITS, TEST_JWT_SECRET, UNHURRIED_LOAD_BOUNDS } from './app';
import type { Message } from './chat';
import { freePort } from './ports';

export const ROOT = path.resolve(__dirname, '..', '..');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value (or throws after timeoutMs). */
export async function until<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition', everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------- server processes

export interface NodeProcess {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** stdout + stderr so far (shown when a test fails). */
  output(): string;
  running(): boolean;
  /** SIGTERM/SIGINT go to the server process; SIGKILL to its whole process group. */
  kill(signal: NodeJS.Signals): void;
}

/** Spawns one server process and resolves once it prints where it listens. */
export async function spawnNode(name: string, port: number, env: Record<string, string>): Promise<NodeProcess> {
  // One process (node with tsx as a loader), not the tsx CLI: the CLI relays a SIGTERM to
  // its child and SIGKILLs it when the child does not confirm within 30 ms, which on a loaded
  // machine turned a graceful stop into a kill. `detached` gives the server its own process
  // group, which kill('SIGKILL') takes down whole.
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), NODE_ID: name },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let exitCode: number | null | undefined;
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  // TEST_NODE_LOG_DIR=/tmp/x keeps each node's whole output (with TEST_LOG_LEVEL=info, to debug a stall).
  if (process.env.TEST_NODE_LOG_DIR) {
    const file = fs.createWriteStream(path.join(process.env.TEST_NODE_LOG_DIR, `${name}.log`), { flags: 'a' });
    child.stdout!.pipe(file);
    child.stderr!.pipe(file);
  }
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      resolve(code);
    }),
  );
  const node: NodeProcess = {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    exited,
    output: () => out,
    running: () => exitCode === undefined,
    kill(signal) {
      if (exitCode !== undefined) return;
      if (signal === 'SIGKILL') {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      } else child.kill(signal);
    },
  };
  await until(
    () => {
      if (exitCode !== undefined) throw new Error(`node ${name} exited (${exitCode}) before listening:\n${out}`);
      return out.includes('listening on');
    },
    60_000,
    `node ${name} to listen`,
  );
  return node;
}

export interface ClusterOptions {
  nodes: number;
  redisUrl?: string;
  /** Extra environment for every node. */
  env?: Record<string, string>;
}

/** The environment the cluster tests run nodes with: fast presence timers, high limits. */
export const CLUSTER_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  HOST: '127.0.0.1',
  JWT_SECRET: TEST_JWT_SECRET,
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
  DATA_DIR: '.data/test',
  // HISTORY_READS=range|points npx vitest run ... forces one history read path on every node.
  ...(process.env.HISTORY_READS ? { HISTORY_READS: process.env.HISTORY_READS } : {}),
  RATE_LIMIT_MESSAGES: '100000',
  RATE_LIMIT_JOINS: '100000',
  MAX_CONNECTIONS_PER_USER: '1000',
  ...UNHURRIED_LOAD_BOUNDS,
  PRESENCE_GRACE_MS: '300',
  PRESENCE_HEARTBEAT_MS: '300',
  PRESENCE_NODE_TTL_MS: '1500',
  SHUTDOWN_GRACE_MS: '1500',
  ...GENEROUS_ACCOUNT_LIMITS,
  // TEST_REDIS_ADAPTER=sharded runs every cluster test over Redis 7 sharded pub/sub (CI does both).
  REDIS_ADAPTER: process.env.TEST_REDIS_ADAPTER ?? 'classic',
};

export class TestCluster {
  readonly nodes: NodeProcess[] = [];

  private constructor(
    readonly env: Record<string, string>,
    private readonly names: string[],
    private readonly ports: number[],
  ) {}

  /** Starts `nodes` processes on one fresh database, one Redis and a per-cluster key prefix. */
  static async start(opts: ClusterOptions): Promise<TestCluster> {
    const { uri } = freshMongoUri('cl');
    const prefix = `t${crypto.randomBytes(4).toString('hex')}:`;
    const env = { ...CLUSTER_ENV, MONGODB_URI: uri, REDIS_URL: opts.redisUrl ?? inject('redisUrl'), REDIS_KEY_PREFIX: prefix, ...opts.env };
    const ports = await Promise.all(Array.from({ length: opts.nodes }, () => freePort()));
    const names = ports.map((_, i) => `node-${i + 1}-${prefix.slice(1, 5)}`);
    const cluster = new TestCluster(env, names, ports);
    const started = await Promise.all(ports.map((port, i) => spawnNode(names[i], port, env)));
    cluster.nodes.push(...started);
    return cluster;
  }

  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /** URLs of the nodes whose process is running. */
  liveUrls(): string[] {
    return this.nodes.filter((n) => n.running()).map((n) => n.url);
  }

  /** Starts node i again (same name and port) after it exited. */
  async restart(i: number): Promise<NodeProcess> {
    const node = await spawnNode(this.names[i], this.ports[i], this.env);
    this.nodes[i] = node;
    return node;
  }

  /** Sends `signal` to node i and resolves with its exit code. */
  async stop(i: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const node = this.nodes[i];
    node.kill(signal);
    return node.exited;
  }

  /** Everything the nodes printed (for failure messages). */
  logs(): string {
    return this.nodes.map((n) => `--- ${n.name}\n${n.output().slice(-4000)}`).join('\n');
  }

  async close(): Promise<void> {
    await Promise.all(
      this.nodes.map((n) => {
        n.kill('SIGKILL');
        return n.exited;
      }),
    );
    await deleteKeys(this.env.REDIS_URL, this.env.REDIS_KEY_PREFIX);
  }
}

/** Deletes a test's keys from a shared Redis (its presence keys and registrations). */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    for (let cursor = '0'; ; ) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      if (next === '0') break;
      cursor = next;
    }
  } catch {
    // A stopped private Redis has nothing to clean.
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------- a private redis-server

export interface RedisServer {
  port: number;
  url: string;
  /** Kills the server (no persistence: its data is gone). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

/** A redis-server of our own, so an outage test never touches the shared one. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await until(() => pingPort(port), 10_000, 'redis-server to answer');
  };
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await gone;
      child = null;
    },
    start,
  };
  await start();
  return server;
}

async function pingPort(port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.once('error', () => resolve(false));
  });
}

// ---------------------------------------------------------------- a reconnecting client

export interface ClientLog {
  /** Every message:new received, per room, in arrival order (across reconnects). */
  live: Map<string, number[]>;
  /** The client's merged view (live + history), deduped by seq as the contract asks. */
  view: Map<string, Map<number, Message>>;
  /** The same seq seen twice on one socket (per room), which the node should never send. */
  sameSocketDuplicates: number;
  /** message:new older than one already received on the same socket. */
  outOfOrder: number;
}

/**
 * A client that behaves like the mobile app: on disconnect (or server:draining) it
 * connects to another live node, then pages `message:history afterSeq` for each room it
 * follows until hasMore is false, filling gaps the same way when a seq jumps.
 */
export class ReconnectingClient {
  socket: Socket | null = null;
  readonly log: ClientLog = { live: new Map(), view: new Map(), sameSocketDuplicates: 0, outOfOrder: 0 };
  reconnects = 0;
  private closed = false;
  private connecting: Promise<Socket> | null = null;
  private readonly rooms = new Set<string>();
  private readonly recovering = new Map<string, Promise<void>>();
  private readonly recoverAgain = new Set<string>();
  private next = 0;

  constructor(
    readonly token: string,
    private readonly urls: () => string[],
    private readonly opts: { transports?: Array<'websocket' | 'polling'>; start?: number } = {},
  ) {
    this.next = opts.start ?? 0;
  }

  /** Connects (to the next live node, round robin). */
  connect(): Promise<Socket> {
    this.connecting ??= this.open().finally(() => (this.connecting = null));
    return this.connecting;
  }

  /** Follows a room: its messages are recorded and recovered after each reconnect. */
  async follow(roomId: string): Promise<void> {
    this.rooms.add(roomId);
    if (!this.log.view.has(roomId)) this.log.view.set(roomId, new Map());
    if (!this.log.live.has(roomId)) this.log.live.set(roomId, []);
    await this.recover(roomId);
  }

  /** The socket once connected (reconnecting if needed). */
  async ready(): Promise<Socket> {
    if (this.socket?.connected) return this.socket;
    return this.connect();
  }

  /** Sends until acked, retrying with the same clientMsgId after failures and reconnects. */
  async sendReliably(roomId: string, text: string, clientMsgId = `c-${crypto.randomUUID()}`, timeoutMs = 60_000): Promise<{ message: Message; attempts: number }> {
    const deadline = Date.now() + timeoutMs;
    for (let attempts = 1; ; attempts++) {
      if (Date.now() > deadline) throw new Error(`send ${clientMsgId} never acked`);
      try {
        const socket = await this.ready();
        const ack = await socket.timeout(3000).emitWithAck('message:send', { roomId, clientMsgId, text });
        if (ack?.ok) return { message: ack.data as Message, attempts };
        // UNAVAILABLE means nothing was stored: retrying is what a client should do.
        if (ack?.error?.code !== 'UNAVAILABLE') throw new Error(`send refused: ${JSON.stringify(ack.error)}`);
      } catch (err) {
        if ((err as Error).message.startsWith('send refused')) throw err;
      }
      await sleep(100);
    }
  }

  /**
   * Pages history after the highest seq held until hasMore is false (retrying across
   * reconnects). One recovery per room at a time, as the SDK does: a gap seen meanwhile
   * runs it once more. A client that started a recovery per gap flooded a slow node with
   * identical history requests (each ~100 lookups) until nothing else got through.
   */
  recover(roomId: string): Promise<void> {
    const running = this.recovering.get(roomId);
    if (running) {
      this.recoverAgain.add(roomId);
      return running;
    }
    const run = (async () => {
      do {
        this.recoverAgain.delete(roomId);
        await this.recoverOnce(roomId);
      } while (this.recoverAgain.has(roomId) && !this.closed);
    })().finally(() => this.recovering.delete(roomId));
    this.recovering.set(roomId, run);
    return run;
  }

  private async recoverOnce(roomId: string): Promise<void> {
    for (let attempt = 0; attempt < 50 && !this.closed; attempt++) {
      try {
        const socket = await this.ready();
        for (;;) {
          const after = this.highest(roomId);
          const ack = await socket.timeout(3000).emitWithAck('message:history', { roomId, afterSeq: after, limit: 100 });
          if (!ack?.ok) throw new Error(`history refused: ${JSON.stringify(ack?.error)}`);
          for (const m of ack.data.items as Message[]) this.record(roomId, m);
          if (!ack.data.hasMore) return;
        }
      } catch {
        await sleep(100);
      }
    }
  }

  highest(roomId: string): number {
    const view = this.log.view.get(roomId);
    if (!view || view.size === 0) return 0;
    let seq = 0;
    while (view.has(seq + 1)) seq += 1;
    return seq;
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
  }

  private record(roomId: string, m: Message): void {
    const view = this.log.view.get(roomId);
    if (view && !view.has(m.seq)) view.set(m.seq, m);
  }

  private async open(): Promise<Socket> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new Error('client closed');
      const urls = this.urls();
      const url = urls[this.next++ % Math.max(1, urls.length)];
      try {
        const socket = await this.tryConnect(url);
        this.socket = socket;
        return socket;
      } catch {
        await sleep(Math.min(50 * (attempt + 1), 500));
      }
    }
  }

  private tryConnect(url: string): Promise<Socket> {
    const socket = io(url, { auth: { token: this.token }, transports: this.opts.transports ?? ['websocket'], reconnection: false, forceNew: true, timeout: 3000 });
    const seenHere = new Map<string, Set<number>>();
    const lastHere = new Map<string, number>();
    socket.on('message:new', (m: Message) => {
      if (!this.rooms.has(m.roomId)) return;
      this.log.live.get(m.roomId)!.push(m.seq);
      const seen = seenHere.get(m.roomId) ?? new Set<number>();
      if (seen.has(m.seq)) this.log.sameSocketDuplicates += 1;
      seen.add(m.seq);
      seenHere.set(m.roomId, seen);
      if (m.seq < (lastHere.get(m.roomId) ?? 0)) this.log.outOfOrder += 1;
      lastHere.set(m.roomId, Math.max(m.seq, lastHere.get(m.roomId) ?? 0));
      const jump = m.seq > this.highest(m.roomId) + 1;
      this.record(m.roomId, m);
      if (jump) void this.recover(m.roomId);
    });
    socket.on('server:draining', ({ reconnectInMs }: { reconnectInMs: number }) => {
      // Leave when told to; the node would close the connection at that time anyway.
      setTimeout(() => {
        if (this.socket === socket) socket.close();
        void this.afterDisconnect(socket);
      }, reconnectInMs);
    });
    socket.on('disconnect', () => void this.afterDisconnect(socket));
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (err) => {
        socket.close();
        reject(err);
      });
    });
  }

  private async afterDisconnect(socket: Socket): Promise<void> {
    if (this.closed || this.socket !== socket) return;
    this.socket = null;
    this.reconnects += 1;
    await this.connect();
    await Promise.all([...this.rooms].map((r) => this.recover(r)));
  }
}

/** Asserts the client's view of a room is exactly `expected` (by id and seq), each once. */
export function viewOf(client: ReconnectingClient, roomId: string): Message[] {
  return [...(client.log.view.get(roomId)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
}
