// Slow mode's gate: one message per interval per member of a room. With Redis one script per
// send (SET NX PX, and only when refused the holder and PTTL): the cluster shares the gate.
// Without Redis (one node) in memory. The turn records which send took it (its clientMsgId),
// so a retry of that send passes without asking the database whether it was stored.
import crypto from 'node:crypto';
import type Redis from 'ioredis';
import { errors } from '../errors';
import { BoundedMap } from '../lib/bounded-map';

export interface SlowModeGate {
  /**
   * Takes the member's turn in the room for `intervalMs` for the send `clientMsgId`: resolves a
   * release (for a send that was then not stored as a new message), or throws RATE_LIMITED with
   * retryAfterMs and `limit: "slow-mode"`. A retry of the send holding the turn passes (its
   * release is a no-op).
   */
  take(roomId: string, userId: string, intervalMs: number, clientMsgId: string): Promise<() => Promise<void>>;
}

const TAKE_LUA = `if redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return {1, 0, ''} end
return {0, redis.call('pttl', KEYS[1]), redis.call('get', KEYS[1]) or ''}`;
const RELEASE_LUA = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const refuse = (retryAfterMs: number) => errors.rateLimited(Math.max(1, retryAfterMs), 'slow-mode');
const noop = async () => {};
/** The turn's value: a token of its own (for the release), then the clientMsgId that took it. */
const turnValue = (clientMsgId: string) => `${crypto.randomBytes(6).toString('hex')}:${clientMsgId}`;
const heldBy = (value: string) => value.slice(value.indexOf(':') + 1);

export function createSlowModeGate(redis: Redis | null, keyPrefix: string): SlowModeGate {
  if (!redis) {
    const turns = new BoundedMap<string, { until: number; value: string }>(100_000);
    return {
      async take(roomId, userId, intervalMs, clientMsgId) {
        const key = `${roomId}:${userId}`;
        const now = Date.now();
        const held = turns.get(key);
        if (held && held.until > now) {
          if (heldBy(held.value) === clientMsgId) return noop;
          throw refuse(held.until - now);
        }
        const value = turnValue(clientMsgId);
        turns.set(key, { until: now + intervalMs, value });
        return async () => {
          if (turns.get(key)?.value === value) turns.delete(key);
        };
      },
    };
  }
  return {
    async take(roomId, userId, intervalMs, clientMsgId) {
      const key = `${keyPrefix}slowmode:${roomId}:${userId}`;
      const value = turnValue(clientMsgId);
      let taken: [number, number, string];
      try {
        taken = (await redis.eval(TAKE_LUA, 1, key, value, String(intervalMs))) as [number, number, string];
      } catch {
        throw errors.unavailable('slow mode unavailable; nothing was stored');
      }
      if (taken[0] !== 1) {
        if (heldBy(taken[2]) === clientMsgId) return noop;
        throw refuse(taken[1] > 0 ? taken[1] : 1);
      }
      return async () => {
        await redis.eval(RELEASE_LUA, 1, key, value).catch(() => undefined);
      };
    },
  };
}
