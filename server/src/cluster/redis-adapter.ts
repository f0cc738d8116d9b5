// The Socket.IO Redis adapter: broadcasts, socketsJoin/Leave and serverSideEmit reach
// every node. Classic PUBLISH by default; REDIS_ADAPTER=sharded uses Redis 7 SPUBLISH
// on one static channel (see docs/operations.md for why not per-room channels).
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import type Redis from 'ioredis';
import type { Config } from '../config';
import { createRedisPublisher, createRedisSubscriber, redisReady } from '../data/redis';
import type { Logger } from '../logger';
import type { AppServer } from '../socket/types';

export interface AdapterLink {
  /** Installs the adapter on the io server. */
  install(io: AppServer): void;
  /** True while the subscriber is connected (events from peers are flowing). */
  isUp(): boolean;
  /** Resolves once both clients are connected (rejects after the timeout). */
  ready(timeoutMs: number): Promise<void>;
  /** Called each time the subscriber is back after being down: events were lost meanwhile. */
  onRecovered(listener: () => void): void;
  close(): Promise<void>;
}

export function createAdapterLink(config: Config, log: Logger, onPublishFailed: () => void): AdapterLink {
  const url = config.redisUrl!;
  const pub = createRedisPublisher(url, log, 'adapter-pub', onPublishFailed);
  const sub = createRedisSubscriber(url, log, 'adapter-sub');
  const listeners: Array<() => void> = [];
  let wasDown = false;
  sub.on('end', () => (wasDown = true));
  sub.on('close', () => (wasDown = true));
  sub.on('ready', () => {
    if (!wasDown) return;
    wasDown = false;
    for (const l of listeners) l();
  });
  const channelPrefix = `${config.redisKeyPrefix}socket.io`;

  return {
    install(io) {
      io.adapter(
        config.cluster.adapter === 'sharded'
          ? // 'static': one channel per namespace. 'dynamic' subscribes to a room's channel only
            // when its first local socket joins, asynchronously: an event published right after a
            // cross-node join could beat the SSUBSCRIBE and be lost.
            createShardedAdapter(pub, sub, { channelPrefix, subscriptionMode: 'static' })
          : createAdapter(pub, sub, { key: channelPrefix }),
      );
    },
    isUp: () => sub.status === 'ready' && pub.status === 'ready',
    ready: async (timeoutMs) => {
      await Promise.all([redisReady(pub, timeoutMs), redisReady(sub, timeoutMs)]);
    },
    onRecovered: (l) => void listeners.push(l),
    async close() {
      await Promise.all([quit(pub), quit(sub)]);
    },
  };
}

async function quit(client: Redis): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}
