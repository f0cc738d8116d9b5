// Cluster presence in Redis: a user is online while any socket on any live node is
// recorded. Every change is one Lua script, so concurrent nodes never half-apply a
// transition; clocks come from Redis TIME so node clocks may disagree.
//
// Keys (one hash tag, so the scripts stay single-slot on a Redis Cluster):
//   {presence}:sockets:<userId>  SET  "<nodeKey>|<socketId>"  the user's sockets anywhere
//   {presence}:node:<nodeKey>    SET  "<userId>|<socketId>"   what a node recorded (for the reaper)
//   {presence}:alive:<nodeKey>   STRING with a TTL            refreshed by the node's heartbeat
//   {presence}:nodes             SET  nodeKeys that ever recorded sockets and were not reaped
//   {presence}:announced         SET  users last announced online
//   {presence}:pending           ZSET userId -> deadline (ms) of a grace period in progress
//   {presence}:seen:<userId>     STRING lastSeenAt (ms) set by the flip to offline, for an hour
import type Redis from 'ioredis';
import { RECENT_LAST_SEEN_MS, type PresenceStore } from '../domain/presence/presence.store';

export interface RedisPresenceOptions {
  redis: Redis;
  /** This process's key in the node registry: unique per process lifetime. */
  nodeKey: string;
  keyPrefix: string;
  /** A user left without sockets is settled by any node once this has passed. */
  offlineGraceMs: number;
}

/** The PresenceStore plus what the cluster's heartbeat and reaper need. */
export interface RedisPresenceStore extends PresenceStore {
  readonly nodeKey: string;
  /** Refreshes this node's liveness key; resolves false if it had expired (peers may have reaped us). */
  heartbeat(ttlMs: number): Promise<boolean>;
  /**
   * Removes the sockets of every node whose liveness key expired; resolves the users
   * left with none (already queued for claimDueOffline).
   */
  reapDeadNodes(): Promise<string[]>;
  /** Claims users whose grace period ended (each claimed by exactly one caller). */
  claimDueOffline(limit?: number): Promise<string[]>;
  /** What Redis holds for this node, to reconcile with the sockets really connected. */
  recordedSockets(): Promise<Array<{ userId: string; socketId: string }>>;
  /** Graceful exit: drops the liveness key and whatever this node still recorded (queued after the grace period). */
  leave(): Promise<string[]>;
}

const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// Registers the node too: a node whose heartbeat never got through must still be reaped.
// KEYS: sockets, node, announced, pending, nodes. ARGV: nodeKey|socketId, userId|socketId, userId, nodeKey
const ADD_SOCKET = `
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[5], ARGV[4])
redis.call('ZREM', KEYS[4], ARGV[3])
return redis.call('SADD', KEYS[3], ARGV[3])`;

// KEYS: sockets, node, announced, pending. ARGV: nodeKey|socketId, userId|socketId, userId, graceMs
const REMOVE_SOCKET = `
redis.call('SREM', KEYS[2], ARGV[2])
redis.call('SREM', KEYS[1], ARGV[1])
if redis.call('SCARD', KEYS[1]) > 0 then return 0 end
if redis.call('SISMEMBER', KEYS[3], ARGV[3]) == 1 then
  ${NOW_MS}
  redis.call('ZADD', KEYS[4], now + tonumber(ARGV[4]), ARGV[3])
end
return 1`;

// The flip and its lastSeenAt in one step: a reader never sees one without the other.
// KEYS: sockets, announced, pending, seen. ARGV: userId, lastSeenAt ms ('' for none), seen ttl ms
const MARK_OFFLINE_IF_IDLE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
local flipped = redis.call('SREM', KEYS[2], ARGV[1])
if flipped == 1 and ARGV[2] ~= '' then redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[3]) end
return flipped`;

// KEYS: alive, nodes. ARGV: nodeKey, ttlMs
const HEARTBEAT = `
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return existed`;

// Removes one node's sockets unless it is alive (or already reaped by a peer), so any
// number of nodes may run the reaper at once: the second finds nothing to do. Users
// left without sockets get a pending-offline deadline, so that whichever node claims
// it settles them even if this caller dies right after the script.
// KEYS: alive, node, nodes, pending, announced. ARGV: nodeKey, sockets key prefix, force, delayMs
const REAP_NODE = `
if ARGV[3] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then return {} end
${NOW_MS}
local entries = redis.call('SMEMBERS', KEYS[2])
local orphaned = {}
for _, entry in ipairs(entries) do
  local sep = string.find(entry, '|', 1, true)
  if sep then
    local user = string.sub(entry, 1, sep - 1)
    local key = ARGV[2] .. user
    redis.call('SREM', key, ARGV[1] .. '|' .. string.sub(entry, sep + 1))
    if redis.call('SCARD', key) == 0 then
      orphaned[#orphaned + 1] = user
      if redis.call('SISMEMBER', KEYS[5], user) == 1 then
        redis.call('ZADD', KEYS[4], 'LT', now + tonumber(ARGV[4]), user)
      end
    end
  end
end
redis.call('DEL', KEYS[2])
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[1])
return orphaned`;

// KEYS: pending. ARGV: limit
const CLAIM_DUE = `
${NOW_MS}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, user in ipairs(due) do redis.call('ZREM', KEYS[1], user) end
return due`;

export function createRedisPresenceStore({ redis, nodeKey, keyPrefix, offlineGraceMs }: RedisPresenceOptions): RedisPresenceStore {
  const base = `${keyPrefix}{presence}:`;
  const socketsKey = (userId: string) => `${base}sockets:${userId}`;
  const nodeSetKey = (node: string) => `${base}node:${node}`;
  const aliveKey = (node: string) => `${base}alive:${node}`;
  const nodesKey = `${base}nodes`;
  const announcedKey = `${base}announced`;
  const pendingKey = `${base}pending`;
  const seenKey = (userId: string) => `${base}seen:${userId}`;

  const reap = async (node: string, force: boolean, delayMs: number): Promise<string[]> =>
    (await redis.eval(REAP_NODE, 5, aliveKey(node), nodeSetKey(node), nodesKey, pendingKey, announcedKey, node, `${base}sockets:`, force ? '1' : '0', String(delayMs))) as string[];

  return {
    nodeKey,

    async addSocket(userId, socketId) {
      const flipped = await redis.eval(ADD_SOCKET, 5, socketsKey(userId), nodeSetKey(nodeKey), announcedKey, pendingKey, nodesKey, `${nodeKey}|${socketId}`, `${userId}|${socketId}`, userId, nodeKey);
      return flipped === 1;
    },

    async removeSocket(userId, socketId) {
      const none = await redis.eval(REMOVE_SOCKET, 4, socketsKey(userId), nodeSetKey(nodeKey), announcedKey, pendingKey, `${nodeKey}|${socketId}`, `${userId}|${socketId}`, userId, String(offlineGraceMs));
      return none === 1;
    },

    async markOfflineIfIdle(userId, lastSeenAt) {
      const at = lastSeenAt ? String(lastSeenAt.getTime()) : '';
      return (await redis.eval(MARK_OFFLINE_IF_IDLE, 4, socketsKey(userId), announcedKey, pendingKey, seenKey(userId), userId, at, String(RECENT_LAST_SEEN_MS))) === 1;
    },

    async onlineOf(userIds) {
      if (userIds.length === 0) return new Set();
      const pipeline = redis.pipeline();
      for (const id of userIds) pipeline.exists(socketsKey(id));
      const results = (await pipeline.exec()) ?? [];
      const online = new Set<string>();
      results.forEach(([err, n], i) => {
        if (err) throw err;
        if (n === 1) online.add(userIds[i]);
      });
      return online;
    },

    async announcedOnlineOf(userIds) {
      if (userIds.length === 0) return new Set();
      const flags = await redis.smismember(announcedKey, ...userIds);
      return new Set(userIds.filter((_, i) => flags[i] === 1));
    },

    async announcedOf(userIds) {
      const lastSeenAt = new Map<string, Date>();
      if (userIds.length === 0) return { online: new Set(), lastSeenAt };
      // MULTI: both reads see the same state, and every flip (one script) is wholly before or after.
      const results = (await redis.multi().smismember(announcedKey, ...userIds).mget(...userIds.map(seenKey)).exec()) ?? [];
      for (const [err] of results) if (err) throw err;
      const flags = results[0][1] as number[];
      const seen = results[1][1] as Array<string | null>;
      seen.forEach((ms, i) => {
        if (ms !== null) lastSeenAt.set(userIds[i], new Date(Number(ms)));
      });
      return { online: new Set(userIds.filter((_, i) => flags[i] === 1)), lastSeenAt };
    },

    async heartbeat(ttlMs) {
      return (await redis.eval(HEARTBEAT, 2, aliveKey(nodeKey), nodesKey, nodeKey, String(ttlMs))) === 1;
    },

    async reapDeadNodes() {
      const nodes = await redis.smembers(nodesKey);
      const orphaned = new Set<string>();
      for (const node of nodes) {
        if (node === nodeKey) continue;
        // The node is gone: its users' grace period has long begun, so they are due at once.
        for (const user of await reap(node, false, 0)) orphaned.add(user);
      }
      return [...orphaned];
    },

    async claimDueOffline(limit = 500) {
      return (await redis.eval(CLAIM_DUE, 1, pendingKey, String(limit))) as string[];
    },

    async recordedSockets() {
      const entries = await redis.smembers(nodeSetKey(nodeKey));
      return entries.flatMap((entry) => {
        const sep = entry.indexOf('|');
        return sep > 0 ? [{ userId: entry.slice(0, sep), socketId: entry.slice(sep + 1) }] : [];
      });
    },

    async leave() {
      return [...new Set(await reap(nodeKey, true, offlineGraceMs))];
    },

    // The client belongs to the app (deps.redis); nothing of ours to close.
    async close() {},
  };
}
