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
  logTransitions(client, log, name);
  return client;
}

/**
 * The adapter's subscriber. Unlike command clients it keeps an offline queue (the
 * adapter subscribes at construction, maybe before the connection is up) and never
 * gives up on a queued command; ioredis re-subscribes every channel on reconnect.
 */
export function createRedisSubscriber(url: string, log: Logger, name: string): Redis {
  const client = new Redis(url, {
    connectionName: name,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    autoResubscribe: true,
    // The ready check (INFO) may reach Redis after a (S)SUBSCRIBE written while connecting,
    // and Redis refuses INFO on a subscribed connection: the client would drop and retry.
    enableReadyCheck: false,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  logTransitions(client, log, name);
  // The adapter calls (un)subscribe without handling a rejection (e.g. after
  // disconnect() at shutdown); Node 20 would exit on the unhandled rejection.
  swallowRejections(client, ['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe'], log, name);
  return client;
}

/**
 * The adapter's publisher: fails fast like command clients (a broadcast is never
 * replayed late), and its publish rejections are counted instead of crashing the
 * process: the adapter fires PUBLISH without handling the promise.
 */
export function createRedisPublisher(url: string, log: Logger, name: string, onPublishFailed?: () => void): Redis {
  const client = createRedis(url, log, name);
  swallowRejections(client, ['publish', 'spublish'], log, name, onPublishFailed);
  return client;
}

function logTransitions(client: Redis, log: Logger, name: string): void {
  let down = false;
  client.on('error', (err) => {
    if (!down) log.warn({ err: err.message, client: name }, 'redis error');
    down = true;
  });
  client.on('ready', () => {
    if (down) log.info({ client: name }, 'redis reconnected');
    down = false;
  });
}

type RedisMethod = 'publish' | 'spublish' | 'subscribe' | 'psubscribe' | 'ssubscribe' | 'unsubscribe' | 'punsubscribe' | 'sunsubscribe';

/** Wraps fire-and-forget methods so a rejected call is logged at debug and counted, never unhandled. */
function swallowRejections(client: Redis, methods: RedisMethod[], log: Logger, name: string, onFailed?: () => void): void {
  for (const method of methods) {
    const original = (client[method] as (...args: unknown[]) => Promise<unknown>).bind(client);
    (client as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const result = original(...args);
      result.catch((err: unknown) => {
        onFailed?.();
        log.debug({ err: err instanceof Error ? err.message : String(err), client: name, method }, 'redis call failed');
      });
      return result;
    };
  }
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
