// Delivery receipts (extension; issue 14): each member's highest delivered seq per room, exact
// in Redis (shared by every node) or, without Redis, in this process; checkpointed to the
// memberships later (delivery-marks.ts). Every client acknowledges every message, so a
// receipt costs one script here and never a database write; the room's announcement
// (`delivery:updated`) is throttled through a per-room tick that one node arms at a time.
//
// Redis keys (one hash tag, so each script stays single-slot on a Redis Cluster):
//   {delivery}:marks:<roomId>      HASH userId -> highest delivered seq
//   {delivery}:changed:<roomId>    HASH userId -> seq, moved since the room was last announced
//   {delivery}:unflushed:<roomId>  HASH userId -> seq, moved since the last checkpoint
//   {delivery}:tick:<roomId>       STRING, set (PX) while an announcement of the room is due
//   {delivery}:dirty               SET roomIds with marks to checkpoint
import type Redis from 'ioredis';

export interface Advance {
  /** The user's mark after the call. */
  seq: number;
  moved: boolean;
  /** This call armed the room's tick: its caller announces the room after the interval. */
  armed: boolean;
}

export interface DeliveryStore {
  /** Moves a mark forward (never back); a move marks the room changed and dirty. */
  advance(roomId: string, userId: string, seq: number, tickMs: number): Promise<Advance>;
  /** The marks held for these users of a room (absent: none held). */
  marks(roomId: string, userIds: string[]): Promise<Map<string, number>>;
  /** Takes the marks that moved since the room's last announcement, and ends its tick. */
  takeChanged(roomId: string): Promise<Map<string, number>>;
  /** Takes up to `n` rooms with marks to checkpoint (each is taken by one node only). */
  takeDirty(n: number): Promise<string[]>;
  /** Takes the marks of a room that moved since its last checkpoint. */
  takeUnflushed(roomId: string): Promise<Map<string, number>>;
  /** Gives back marks a failed checkpoint did not write (merged by max; the room is dirty again). */
  putBack(roomId: string, marks: Map<string, number>): Promise<void>;
}

/** Single node without Redis: the marks live in this process (bounded; see `maxRooms`). */
export function createMemoryDeliveryStore(maxRooms = 200_000): DeliveryStore {
  const marks = new Map<string, Map<string, number>>();
  const changed = new Map<string, Map<string, number>>();
  const unflushed = new Map<string, Map<string, number>>();
  const ticks = new Map<string, number>();
  const dirty = new Set<string>();
  const bump = (all: Map<string, Map<string, number>>, roomId: string, userId: string, seq: number) => {
    let m = all.get(roomId);
    if (!m) all.set(roomId, (m = new Map()));
    m.set(userId, Math.max(m.get(userId) ?? 0, seq));
  };
  const take = (all: Map<string, Map<string, number>>, roomId: string) => {
    const m = all.get(roomId) ?? new Map<string, number>();
    all.delete(roomId);
    return m;
  };

  return {
    async advance(roomId, userId, seq, tickMs) {
      const room = marks.get(roomId);
      const cur = room?.get(userId) ?? 0;
      if (seq <= cur) return { seq: cur, moved: false, armed: false };
      // Most recently moved last: the oldest rooms are forgotten first (checkpointed ones only;
      // their marks are in the memberships).
      marks.delete(roomId);
      marks.set(roomId, room ?? new Map());
      bump(marks, roomId, userId, seq);
      bump(changed, roomId, userId, seq);
      bump(unflushed, roomId, userId, seq);
      dirty.add(roomId);
      if (marks.size > maxRooms) {
        for (const old of marks.keys()) {
          if (!dirty.has(old) && !changed.has(old)) {
            marks.delete(old);
            break;
          }
        }
      }
      const now = Date.now();
      const armed = (ticks.get(roomId) ?? 0) <= now;
      if (armed) ticks.set(roomId, now + tickMs * 3 + 1000);
      return { seq, moved: true, armed };
    },
    async marks(roomId, userIds) {
      const room = marks.get(roomId);
      const out = new Map<string, number>();
      for (const id of userIds) {
        const m = room?.get(id);
        if (m !== undefined) out.set(id, m);
      }
      return out;
    },
    async takeChanged(roomId) {
      ticks.delete(roomId);
      return take(changed, roomId);
    },
    async takeDirty(n) {
      const out: string[] = [];
      for (const id of dirty) {
        if (out.length >= n) break;
        dirty.delete(id);
        out.push(id);
      }
      return out;
    },
    async takeUnflushed(roomId) {
      return take(unflushed, roomId);
    },
    async putBack(roomId, back) {
      for (const [userId, seq] of back) bump(unflushed, roomId, userId, seq);
      if (back.size > 0) dirty.add(roomId);
    },
  };
}

// KEYS: marks, changed, unflushed, tick, dirty. ARGV: userId, seq, tickPx, ttlSeconds, roomId
const ADVANCE = `
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) <= cur then return {cur, 0, 0} end
for i = 1, 3 do
  redis.call('HSET', KEYS[i], ARGV[1], ARGV[2])
  redis.call('EXPIRE', KEYS[i], ARGV[4])
end
redis.call('SADD', KEYS[5], ARGV[5])
local armed = redis.call('SET', KEYS[4], '1', 'PX', ARGV[3], 'NX') and 1 or 0
return {tonumber(ARGV[2]), 1, armed}`;

// KEYS: a hash, and optionally a key to delete with it. Returns the hash's fields and values.
const TAKE = `
local all = redis.call('HGETALL', KEYS[1])
redis.call('DEL', unpack(KEYS))
return all`;

// KEYS: unflushed, dirty. ARGV: roomId, ttlSeconds, then userId, seq pairs
const PUT_BACK = `
for i = 3, #ARGV, 2 do
  if tonumber(ARGV[i + 1]) > tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0') then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return 1`;

type ScriptClient = Redis & {
  deliveryAdvance(...args: Array<string | number>): Promise<[number, number, number]>;
  deliveryTake(numKeys: number, ...keys: string[]): Promise<string[]>;
  deliveryPutBack(...args: Array<string | number>): Promise<number>;
};

export interface RedisDeliveryOptions {
  redis: Redis;
  keyPrefix: string;
  /** How long a room's untouched marks stay in Redis; the memberships hold them after. */
  ttlSeconds?: number;
}

const pairsToMap = (flat: string[]) => {
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i], Number(flat[i + 1]));
  return out;
};

/** Cluster: the marks live in Redis, so every node reads and throttles the same values. */
export function createRedisDeliveryStore({ redis, keyPrefix, ttlSeconds = 7 * 24 * 3600 }: RedisDeliveryOptions): DeliveryStore {
  const base = `${keyPrefix}{delivery}`;
  const key = (kind: 'marks' | 'changed' | 'unflushed' | 'tick', roomId: string) => `${base}:${kind}:${roomId}`;
  const dirtyKey = `${base}:dirty`;
  redis.defineCommand('deliveryAdvance', { numberOfKeys: 5, lua: ADVANCE });
  redis.defineCommand('deliveryTake', { lua: TAKE });
  redis.defineCommand('deliveryPutBack', { numberOfKeys: 2, lua: PUT_BACK });
  const r = redis as ScriptClient;

  return {
    async advance(roomId, userId, seq, tickMs) {
      // The tick outlives the interval: if the arming node dies, the next receipt after it
      // expires arms the room again.
      const [now, moved, armed] = await r.deliveryAdvance(
        key('marks', roomId),
        key('changed', roomId),
        key('unflushed', roomId),
        key('tick', roomId),
        dirtyKey,
        userId,
        seq,
        tickMs * 3 + 1000,
        ttlSeconds,
        roomId,
      );
      return { seq: Number(now), moved: moved === 1, armed: armed === 1 };
    },
    async marks(roomId, userIds) {
      const out = new Map<string, number>();
      if (userIds.length === 0) return out;
      const vals = await redis.hmget(key('marks', roomId), ...userIds);
      vals.forEach((v, i) => {
        if (v !== null) out.set(userIds[i], Number(v));
      });
      return out;
    },
    async takeChanged(roomId) {
      return pairsToMap(await r.deliveryTake(2, key('changed', roomId), key('tick', roomId)));
    },
    async takeDirty(n) {
      return (await redis.spop(dirtyKey, n)) as string[];
    },
    async takeUnflushed(roomId) {
      return pairsToMap(await r.deliveryTake(1, key('unflushed', roomId)));
    },
    async putBack(roomId, back) {
      if (back.size === 0) return;
      await r.deliveryPutBack(key('unflushed', roomId), dirtyKey, roomId, ttlSeconds, ...[...back].flatMap(([u, s]) => [u, s]));
    },
  };
}
