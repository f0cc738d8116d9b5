// Message updates made outside the API nodes (the workers' bulk purge): published on one
// Redis channel that every node subscribes to, so each node updates its newest-page cache and
// tells its own sockets, whichever adapter mode the cluster runs (the Socket.IO Redis emitter
// speaks only the classic one). Without Redis the jobs run in the server process: the channel
// is in memory. At most once: a node cut off from Redis while a batch is published misses it
// (its history cache is cleared when its cluster link recovers; clients see the deletes on
// their next history page).
import type Redis from 'ioredis';
import type { MessageDto } from '../contracts/dto';
import type { Logger } from '../logger';

export interface MessageUpdate {
  message: MessageDto;
  /** The stored update counter: orders updates in the history caches. */
  v: number;
}

export interface MessageUpdatesChannel {
  publish(updates: MessageUpdate[]): Promise<void>;
  /** Every batch published anywhere (this process included). */
  subscribe(listener: (updates: MessageUpdate[]) => void): void;
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createMessageUpdatesChannel(redis: Redis | null, keyPrefix: string, log: Logger): MessageUpdatesChannel {
  const channel = `${keyPrefix}chat:message-updates`;
  const listeners: Array<(u: MessageUpdate[]) => void> = [];
  let subscriber: Redis | null = null;
  const deliver = (updates: MessageUpdate[]) => {
    for (const l of listeners) {
      try {
        l(updates);
      } catch (err) {
        log.warn({ err }, 'message update listener failed');
      }
    }
  };
  return {
    async publish(updates) {
      if (updates.length === 0) return;
      if (!redis) return deliver(updates);
      await redis.publish(channel, JSON.stringify(updates));
    },
    subscribe: (l) => void listeners.push(l),
    async start() {
      if (!redis) return;
      subscriber = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, connectionName: 'message-updates' });
      subscriber.on('error', () => undefined);
      subscriber.on('message', (ch: string, raw: string) => {
        if (ch !== channel) return;
        try {
          const updates = JSON.parse(raw) as MessageUpdate[];
          if (Array.isArray(updates)) deliver(updates.filter((u) => u && typeof u.v === 'number' && typeof u.message?.roomId === 'string'));
        } catch {
          log.warn('unreadable message update ignored');
        }
      });
      await Promise.race([subscriber.subscribe(channel), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 5000).unref())]).catch((err: unknown) =>
        log.warn({ err: (err as Error).message }, 'message updates: not subscribed at start; will subscribe when redis answers'),
      );
    },
    async close() {
      subscriber?.disconnect();
      subscriber = null;
    },
  };
}
