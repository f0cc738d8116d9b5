// Several in-process app nodes forming one cluster: one database, one Redis and a key prefix
// of their own (so other test files never see their presence, revocations or broadcasts).
// Unlike TestCluster (separate processes), a test can reach into each node's dependencies.
import crypto from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { createApp } from '../../server/src/app';
import { loadConfig } from '../../server/src/config';
import { createLogger } from '../../server/src/logger';
import { freshMongoUri, testEnv, type TestApp } from './app';
import { CHAT_ENV, closeClients } from './chat';

/** Starts `n` nodes one after the other (the first runs the database's start-up migrations alone). */
export async function startNodes(n: number, env: Record<string, string | undefined> = {}): Promise<TestApp[]> {
  const { uri, dbName } = freshMongoUri();
  const prefix = `t${crypto.randomBytes(4).toString('hex')}:`;
  const nodes: TestApp[] = [];
  for (let i = 0; i < n; i++) {
    const config = loadConfig(
      testEnv({ ...CHAT_ENV, MONGODB_URI: uri, REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: prefix, NODE_ID: `node${i}`, ...env }),
    );
    const app = await createApp(config, { log: createLogger(config.logLevel) });
    const port = await app.listen();
    nodes.push({ app, config, url: `http://127.0.0.1:${port}`, port, dbName, close: () => app.close() });
  }
  return nodes;
}

/**
 * `n` nodes for the enclosing describe (startNodes with `env`): the array is filled before its
 * tests run; after them, the clients are closed and then the nodes.
 */
export function useNodes(n: number, env: Record<string, string | undefined> = {}): TestApp[] {
  const nodes: TestApp[] = [];
  beforeAll(async () => {
    nodes.push(...(await startNodes(n, env)));
  });
  afterAll(async () => {
    closeClients();
    await Promise.all(nodes.splice(0).map((node) => node.close()));
  });
  return nodes;
}

/** A gate a test holds shut: `wait()` blocks until `open()`; `entered` resolves at the first wait. */
export function gate(): { wait(): Promise<void>; open(): void; entered: Promise<void>; readonly waiting: number } {
  let open!: () => void;
  let enter!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const entered = new Promise<void>((r) => (enter = r));
  let waiting = 0;
  return {
    wait() {
      waiting += 1;
      enter();
      return opened;
    },
    open,
    entered,
    get waiting() {
      return waiting;
    },
  };
}
