// Serialises updates of one document. Within a process: a keyed promise chain. Across
// processes, only where the database needs it: FerretDB applies $max/$addToSet/$set as
// read-modify-write of the whole document, so two nodes updating one document at once
// can lose an update; there a short Redis lock (SET NX PX, released by token) orders them.
// On MongoDB, single-document updates are atomic and no Redis round trip is spent.
import crypto from 'node:crypto';
import type Redis from 'ioredis';
import { KeyedLock } from '../lib/keyed-lock';
import { errors } from '../errors';
import type { LockKey } from './lock-keys';

export interface DocLock {
  run<T>(key: LockKey, fn: () => Promise<T>): Promise<T>;
}

const RELEASE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const LEASE_MS = 5000;
const WAIT_MS = 5000;

export function createDocLock(redis: Redis | null, crossProcess: boolean, keyPrefix = ''): DocLock {
  const local = new KeyedLock();
  const distributed = crossProcess && redis !== null;

  async function acquire(key: string, token: string): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      if ((await redis!.set(key, token, 'PX', LEASE_MS, 'NX')) === 'OK') return;
      if (Date.now() > deadline) throw errors.unavailable('document busy; nothing was changed');
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
    }
  }

  return {
    run<T>(key: LockKey, fn: () => Promise<T>): Promise<T> {
      if (!distributed) return local.run(key, fn);
      return local.run(key, async () => {
        const redisKey = `${keyPrefix}doclock:${key}`;
        const token = crypto.randomBytes(8).toString('hex');
        await acquire(redisKey, token);
        try {
          return await fn();
        } finally {
          await redis!.eval(RELEASE_LUA, 1, redisKey, token).catch(() => undefined);
        }
      });
    },
  };
}
