// Slow mode's gate: one message per interval per member of a room. With Redis one atomic
// SET NX PX per send (the cluster shares the gate); without Redis (one node) in memory.
import crypto from 'node:crypto';
import type Redis from 'ioredis';
import { errors } from '../errors';
import { BoundedMap } from '../lib/bounded-map';

export interface SlowModeGate {
  /**
   * Takes the member's turn in the room for `intervalMs`: resolves a release (for a send that
   * was then not stored) or throws RATE_LIMITED with retryAfterMs and `limit: "slow-mode"`.
   */
  take(roomId: string, userId: string, intervalMs: number): Promise<() => Promise<void>>;
}

const RELEASE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const refuse = (retryAfterMs: number) => errors.rateLimited(Math.max(1, retryAfterMs), 'slow-mode');

export function createSlowModeGate(redis: Redis | null, keyPrefix: string): SlowModeGate {
  if (!redis) {
    const until = new BoundedMap<string, { at: number; token: string }>(100_000);
    return {
      async take(roomId, userId, intervalMs) {
        const key = `${roomId}:${userId}`;
        const now = Date.now();
        const held = until.get(key);
        if (held && held.at > now) throw refuse(held.at - now);
        const token = crypto.randomBytes(6).toString('hex');
        until.set(key, { at: now + intervalMs, token });
        return async () => {
          if (until.get(key)?.token === token) until.delete(key);
        };
      },
    };
  }
  return {
    async take(roomId, userId, intervalMs) {
      const key = `${keyPrefix}slowmode:${roomId}:${userId}`;
      const token = crypto.randomBytes(6).toString('hex');
      let taken: string | null;
      try {
        taken = await redis.set(key, token, 'PX', intervalMs, 'NX');
      } catch {
        throw errors.unavailable('slow mode unavailable; nothing was stored');
      }
      if (taken !== 'OK') {
        // Only when refused: the remaining wait for retryAfterMs.
        const left = await redis.pttl(key).catch(() => intervalMs);
        throw refuse(left > 0 ? left : 1);
      }
      return async () => {
        await redis.eval(RELEASE_LUA, 1, key, token).catch(() => undefined);
      };
    },
  };
}
