// ioredis clients. Commands fail fast while Redis is down (no offline queue) so
// that callers answer UNAVAILABLE instead of hanging; the client reconnects by itself.
import Redis from 'ioredis';
import type { Logger } from '../logger';
import { withTimeout } from './mongo';

/** A client for commands; `name` shows up in logs and CLIENT LIST. */
export function createRedis(url: string, log: Logger, name: string): Redis {
  const client = new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
  });
  let down = false;
  client.on('error', (err) => {
    if (!down) log.warn({ err: err.message, client: name }, 'redis error');
    down = true;
  });
  client.on('ready', () => {
    if (down) log.info({ client: name }, 'redis reconnected');
    down = false;
  });
  return client;
}

/** Resolves once the client is ready (or rejects after the timeout). */
export function redisReady(client: Redis, timeoutMs = 5000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return withTimeout(
    new Promise<void>((resolve) => client.once('ready', () => resolve())),
    timeoutMs,
  );
}

export async function pingRedis(client: Redis, timeoutMs = 1000): Promise<boolean> {
  if (client.status !== 'ready') return false;
  try {
    await withTimeout(client.ping(), timeoutMs);
    return true;
  } catch {
    return false;
  }
}
