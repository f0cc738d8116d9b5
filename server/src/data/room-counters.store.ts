// Where a room's lastSeq and lastActivityAt, and the read marks its members make by
// sending, are kept exact between checkpoints: in Redis (shared by every node) or,
// without Redis, in this process. See room-counters.ts for the checkpoints.
//
// Redis keys (one hash tag, so the scripts stay single-slot on a Redis Cluster):
//   {counters}:room:<roomId>   HASH s = lastSeq, a = lastActivityAt (ms)
//   {counters}:marks:<roomId>  HASH userId -> highest seq that user sent (not yet checkpointed)
//   {counters}:dirty           SET  roomIds with something to checkpoint
import type Redis from 'ioredis';

export interface RoomCounter {
  lastSeq: number;
  lastActivityMs: number;
}

export interface CounterStore {
  /** A message was stored: lastSeq, activity and the sender's mark move forward; the room becomes dirty. */
  recordSent(roomId: string, seq: number, atMs: number, senderId: string): Promise<void>;
  /** Moves a room's counter (and marks) forward after recovering them from the database. */
  seedRoom(roomId: string, counter: RoomCounter, marks: Map<string, number>, dirty: boolean): Promise<void>;
  /** The exact counters known for these rooms (absent: not known here, ask the database). */
  rooms(roomIds: string[]): Promise<Map<string, RoomCounter>>;
  /** One user's marks not yet checkpointed, in these rooms. */
  marksOf(userId: string, roomIds: string[]): Promise<Map<string, number>>;
  /** Every mark of a room not yet checkpointed. */
  roomMarks(roomId: string): Promise<Map<string, number>>;
  /** Takes up to `n` dirty rooms (each is taken by one node only). */
  takeDirty(n: number): Promise<string[]>;
  /** Puts rooms back after a failed checkpoint. */
  putBackDirty(roomIds: string[]): Promise<void>;
  /** Forgets marks the checkpoint wrote (a mark that moved on since stays). */
  dropMarks(roomId: string, written: Map<string, number>): Promise<void>;
}

/** Single node without Redis: the counters live in this process. */
export function createMemoryCounterStore(maxRooms = 200_000): CounterStore {
  const rooms = new Map<string, RoomCounter>();
  const marks = new Map<string, Map<string, number>>();
  const dirty = new Set<string>();

  function bumpRoom(roomId: string, c: RoomCounter): void {
    const cur = rooms.get(roomId);
    rooms.delete(roomId);
    rooms.set(roomId, cur ? { lastSeq: Math.max(cur.lastSeq, c.lastSeq), lastActivityMs: Math.max(cur.lastActivityMs, c.lastActivityMs) } : c);
    // Forgetting a checkpointed room is safe: it is recovered from the database when next read.
    if (rooms.size > maxRooms) {
      for (const old of rooms.keys()) {
        if (!dirty.has(old) && !marks.has(old)) {
          rooms.delete(old);
          break;
        }
      }
    }
  }
  function bumpMark(roomId: string, userId: string, seq: number): void {
    let m = marks.get(roomId);
    if (!m) marks.set(roomId, (m = new Map()));
    m.set(userId, Math.max(m.get(userId) ?? 0, seq));
  }

  return {
    async recordSent(roomId, seq, atMs, senderId) {
      bumpRoom(roomId, { lastSeq: seq, lastActivityMs: atMs });
      bumpMark(roomId, senderId, seq);
      dirty.add(roomId);
    },
    async seedRoom(roomId, counter, seeded, makeDirty) {
      bumpRoom(roomId, counter);
      for (const [userId, seq] of seeded) bumpMark(roomId, userId, seq);
      if (makeDirty) dirty.add(roomId);
    },
    async rooms(roomIds) {
      const out = new Map<string, RoomCounter>();
      for (const id of roomIds) {
        const c = rooms.get(id);
        if (c) out.set(id, c);
      }
      return out;
    },
    async marksOf(userId, roomIds) {
      const out = new Map<string, number>();
      for (const id of roomIds) {
        const m = marks.get(id)?.get(userId);
        if (m !== undefined) out.set(id, m);
      }
      return out;
    },
    async roomMarks(roomId) {
      return new Map(marks.get(roomId) ?? []);
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
    async putBackDirty(roomIds) {
      for (const id of roomIds) dirty.add(id);
    },
    async dropMarks(roomId, written) {
      const m = marks.get(roomId);
      if (!m) return;
      for (const [userId, seq] of written) if ((m.get(userId) ?? 0) <= seq) m.delete(userId);
      if (m.size === 0) marks.delete(roomId);
    },
  };
}

// KEYS: room, marks, dirty. ARGV: seq, atMs, ttlSeconds, senderId, roomId
const RECORD_SENT = `
local seq = tonumber(ARGV[1])
if seq > tonumber(redis.call('HGET', KEYS[1], 's') or '0') then redis.call('HSET', KEYS[1], 's', ARGV[1]) end
if tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], 'a') or '0') then redis.call('HSET', KEYS[1], 'a', ARGV[2]) end
if seq > tonumber(redis.call('HGET', KEYS[2], ARGV[4]) or '0') then redis.call('HSET', KEYS[2], ARGV[4], ARGV[1]) end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[5])
return 1`;

// KEYS: room, marks, dirty. ARGV: seq, atMs, ttlSeconds, roomId, dirty (0/1), then userId, seq pairs
const SEED_ROOM = `
if tonumber(ARGV[1]) > tonumber(redis.call('HGET', KEYS[1], 's') or '-1') then redis.call('HSET', KEYS[1], 's', ARGV[1]) end
if tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], 'a') or '-1') then redis.call('HSET', KEYS[1], 'a', ARGV[2]) end
redis.call('EXPIRE', KEYS[1], ARGV[3])
for i = 6, #ARGV, 2 do
  if tonumber(ARGV[i + 1]) > tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0') then redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
end
if #ARGV >= 6 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
if ARGV[5] == '1' then redis.call('SADD', KEYS[3], ARGV[4]) end
return 1`;

// KEYS: marks. ARGV: userId, seq pairs written by a checkpoint
const DROP_MARKS = `
for i = 1, #ARGV, 2 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if cur and tonumber(cur) <= tonumber(ARGV[i + 1]) then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 1`;

export interface RedisCounterOptions {
  redis: Redis;
  keyPrefix: string;
  /** How long an untouched counter stays in Redis; the database checkpoint covers it after. */
  ttlSeconds?: number;
}

type ScriptClient = Redis & Record<'countersRecordSent' | 'countersSeedRoom' | 'countersDropMarks', (...args: Array<string | number>) => Promise<number>>;

/** Cluster: the counters live in Redis, so every node reads the same exact values. */
export function createRedisCounterStore({ redis, keyPrefix, ttlSeconds = 7 * 24 * 3600 }: RedisCounterOptions): CounterStore {
  const base = `${keyPrefix}{counters}`;
  const roomKey = (roomId: string) => `${base}:room:${roomId}`;
  const marksKey = (roomId: string) => `${base}:marks:${roomId}`;
  const dirtyKey = `${base}:dirty`;
  redis.defineCommand('countersRecordSent', { numberOfKeys: 3, lua: RECORD_SENT });
  redis.defineCommand('countersSeedRoom', { numberOfKeys: 3, lua: SEED_ROOM });
  redis.defineCommand('countersDropMarks', { numberOfKeys: 1, lua: DROP_MARKS });
  const r = redis as ScriptClient;
  const pairs = (m: Map<string, number>) => [...m].flatMap(([userId, seq]) => [userId, seq]);

  return {
    async recordSent(roomId, seq, atMs, senderId) {
      await r.countersRecordSent(roomKey(roomId), marksKey(roomId), dirtyKey, seq, atMs, ttlSeconds, senderId, roomId);
    },
    async seedRoom(roomId, c, marks, makeDirty) {
      await r.countersSeedRoom(roomKey(roomId), marksKey(roomId), dirtyKey, c.lastSeq, c.lastActivityMs, ttlSeconds, roomId, makeDirty ? '1' : '0', ...pairs(marks));
    },
    async rooms(roomIds) {
      const out = new Map<string, RoomCounter>();
      if (roomIds.length === 0) return out;
      const pipe = redis.pipeline();
      for (const id of roomIds) pipe.hmget(roomKey(id), 's', 'a');
      const res = (await pipe.exec()) ?? [];
      res.forEach(([err, val], i) => {
        if (err) throw err;
        const [s, a] = val as [string | null, string | null];
        if (s !== null) out.set(roomIds[i], { lastSeq: Number(s), lastActivityMs: Number(a ?? 0) });
      });
      return out;
    },
    async marksOf(userId, roomIds) {
      const out = new Map<string, number>();
      if (roomIds.length === 0) return out;
      const pipe = redis.pipeline();
      for (const id of roomIds) pipe.hget(marksKey(id), userId);
      const res = (await pipe.exec()) ?? [];
      res.forEach(([err, val], i) => {
        if (err) throw err;
        if (val !== null) out.set(roomIds[i], Number(val));
      });
      return out;
    },
    async roomMarks(roomId) {
      const all = await redis.hgetall(marksKey(roomId));
      return new Map(Object.entries(all).map(([userId, seq]) => [userId, Number(seq)]));
    },
    async takeDirty(n) {
      return (await redis.spop(dirtyKey, n)) as string[];
    },
    async putBackDirty(roomIds) {
      if (roomIds.length > 0) await redis.sadd(dirtyKey, ...roomIds);
    },
    async dropMarks(roomId, written) {
      if (written.size > 0) await r.countersDropMarks(marksKey(roomId), ...pairs(written));
    },
  };
}
