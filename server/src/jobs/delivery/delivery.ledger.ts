// Remembers which deliveries (notification or event ids) went out, so a job that runs
// twice — re-queued after completion, re-run after a stall — does not deliver twice.
// A delivery is claimed before the POST and marked done after the 2xx: a worker that
// dies in between leaves a claim that expires, and the retry sends the same id again
// (the receiver dedupes on X-Webhook-Id; nothing is lost).
import crypto from 'node:crypto';
import type Redis from 'ioredis';
import { LEDGER_TTL_MS } from '../queues';

export type Claim = { state: 'claimed'; token: string } | { state: 'delivered' } | { state: 'busy' };

export interface DeliveryLedger {
  /** Takes the delivery for `holdMs`, unless it was delivered or another run holds it. */
  claim(id: string, holdMs: number): Promise<Claim>;
  /** Marks the delivery done (kept for LEDGER_TTL_MS). */
  delivered(id: string): Promise<void>;
  /** Gives a claim back after a failed or skipped delivery. */
  release(id: string, token: string): Promise<void>;
}

const DONE = 'done';

const CLAIM_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v == '${DONE}' then return 'delivered' end
if v then return 'busy' end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'claimed'`;

const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** The ledger of a Redis deployment; keys live under the queue prefix. */
export function redisDeliveryLedger(redis: Redis, prefix: string): DeliveryLedger {
  const key = (id: string) => `${prefix}:delivered:${id}`;
  return {
    async claim(id, holdMs) {
      const token = crypto.randomBytes(8).toString('hex');
      const state = (await redis.eval(CLAIM_SCRIPT, 1, key(id), token, String(holdMs))) as Claim['state'];
      return state === 'claimed' ? { state, token } : { state };
    },
    async delivered(id) {
      await redis.set(key(id), DONE, 'PX', LEDGER_TTL_MS);
    },
    async release(id, token) {
      await redis.eval(RELEASE_SCRIPT, 1, key(id), token);
    },
  };
}

/** The ledger of the in-process runtime (zero-config): one process, so memory is the truth. */
export function memoryDeliveryLedger(now: () => number = Date.now): DeliveryLedger {
  const entries = new Map<string, { value: string; until: number }>();
  const live = (id: string) => {
    const e = entries.get(id);
    if (e && e.until <= now()) {
      entries.delete(id);
      return undefined;
    }
    return e;
  };
  return {
    async claim(id, holdMs) {
      const e = live(id);
      if (e) return e.value === DONE ? { state: 'delivered' } : { state: 'busy' };
      const token = crypto.randomBytes(8).toString('hex');
      entries.set(id, { value: token, until: now() + holdMs });
      return { state: 'claimed', token };
    },
    async delivered(id) {
      // Bounded: expired entries are dropped whenever the map grows large.
      if (entries.size > 100_000) for (const k of entries.keys()) live(k);
      entries.set(id, { value: DONE, until: now() + LEDGER_TTL_MS });
    },
    async release(id, token) {
      if (live(id)?.value === token) entries.delete(id);
    },
  };
}
