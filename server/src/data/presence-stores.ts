// The presence store for this deployment shape: in memory on one node, in Redis for a
// cluster. The API nodes and the workers (who only ask who is online) both make theirs
// here, so both read the same keys. Each call makes a store with its own node key; an API
// node's cluster heartbeat keeps that key alive.
import crypto from 'node:crypto';
import type Redis from 'ioredis';
import type { Config } from '../config';
import { createMemoryPresenceStore } from './presence-memory.store';
import { createRedisPresenceStore } from './presence-redis.store';
import type { PresenceStore } from './presence.store';

export function createPresenceStore({ config, redis }: { config: Config; redis: Redis | null }): PresenceStore {
  if (!redis) return createMemoryPresenceStore();
  return createRedisPresenceStore({
    redis,
    nodeKey: `${config.nodeId}#${crypto.randomBytes(4).toString('hex')}`,
    keyPrefix: config.redisKeyPrefix,
    offlineGraceMs: config.presence.offlineGraceMs,
  });
}
