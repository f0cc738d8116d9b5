// Starts the embedded database once for the whole run (unless MONGODB_URI is set)
// and checks that Redis answers: a test that needs Redis fails, never skips.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import type { TestProject } from 'vitest/node';
import { startDevdb, type Devdb } from '../../server/src/data/devdb';
import { freePort } from './ports';

let devdb: Devdb | null = null;
let dir: string | null = null;

export async function setup(project: TestProject): Promise<void> {
  let mongoBase = process.env.MONGODB_URI ?? null;
  if (!mongoBase) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-test-devdb-'));
    devdb = await startDevdb({ port: await freePort(), dir, backend: 'sqlite', stdio: 'ignore' });
    mongoBase = devdb.uri;
  }
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis is required for the tests and did not answer at ${redisUrl}: ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
  project.provide('mongoBaseUri', mongoBase);
  project.provide('redisUrl', redisUrl);
}

export async function teardown(): Promise<void> {
  await devdb?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    mongoBaseUri: string;
    redisUrl: string;
  }
}
