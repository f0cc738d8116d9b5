// The Redis presence store on its own (shared Redis, a key prefix per test): every
// transition is atomic, and any number of nodes may reap a dead node or claim a due
// user at once without announcing anything twice.
import crypto from 'node:crypto';
import Redis from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createRedisPresenceStore, type RedisPresenceStore } from '../../server/src/data/presence-redis.store';
import { until } from '../helpers/cluster';

// Grace periods and TTLs long enough that a loaded machine finishes a test's setup inside
// them; waits past them poll for the outcome instead of sleeping a fixed time.
const GRACE_MS = 2000;

describe('cluster: the Redis presence store', () => {
  let redis: Redis;
  const run = `t${crypto.randomBytes(4).toString('hex')}`;
  let prefix = '';
  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'));
  });
  // Each test is a cluster of its own.
  beforeEach(() => {
    prefix = `${run}-${crypto.randomBytes(2).toString('hex')}:`;
  });
  afterAll(async () => {
    const keys = await redis.keys(`${run}-*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const store = (node: string, offlineGraceMs = 200): RedisPresenceStore => createRedisPresenceStore({ redis, nodeKey: node, keyPrefix: prefix, offlineGraceMs });
  const user = () => crypto.randomBytes(12).toString('hex');

  it('a user is online while any node records a socket, and announced offline once', async () => {
    const [a, b] = [store('a'), store('b')];
    await Promise.all([a.heartbeat(5000), b.heartbeat(5000)]);
    const u = user();
    expect(await a.addSocket(u, 's1')).toBe(true);
    expect(await b.addSocket(u, 's2')).toBe(false);
    expect(await a.removeSocket(u, 's1')).toBe(false);
    expect(await a.markOfflineIfIdle(u)).toBe(false);
    expect([...(await b.onlineOf([u, user()]))]).toEqual([u]);
    expect(await b.removeSocket(u, 's2')).toBe(true);
    expect(await a.onlineOf([u])).toEqual(new Set());
    // Both nodes' grace timers fire: one announcement.
    expect(await Promise.all([a.markOfflineIfIdle(u), b.markOfflineIfIdle(u)])).toEqual(expect.arrayContaining([true, false]));
  });

  it('a grace period ended is claimed by exactly one of several nodes, after the grace period', async () => {
    const nodes = [store('c1', GRACE_MS), store('c2', GRACE_MS), store('c3', GRACE_MS)];
    const u = user();
    await nodes[0].addSocket(u, 's');
    const removedAt = Date.now();
    await nodes[0].removeSocket(u, 's');
    expect((await Promise.all(nodes.map((n) => n.claimDueOffline()))).flat()).not.toContain(u);
    // Every node keeps claiming, as their timers would; u is claimed once, not before the grace period.
    const claims: string[] = [];
    await until(async () => {
      claims.push(...(await Promise.all(nodes.map((n) => n.claimDueOffline()))).flat().filter((x) => x === u));
      return claims.length > 0;
    }, GRACE_MS + 15_000, 'the offline claim');
    expect(Date.now() - removedAt).toBeGreaterThanOrEqual(GRACE_MS - 50);
    claims.push(...(await Promise.all(nodes.map((n) => n.claimDueOffline()))).flat().filter((x) => x === u));
    expect(claims).toEqual([u]);
  });

  it('a reconnect within the grace period cancels the pending offline', async () => {
    const [a, b] = [store('r1', GRACE_MS), store('r2', GRACE_MS)];
    const [u, witness] = [user(), user()];
    await a.addSocket(witness, 'w');
    await a.addSocket(u, 's1');
    await a.removeSocket(u, 's1');
    expect(await b.addSocket(u, 's2')).toBe(false);
    // A witness that leaves after u came back: once its offline is due, u's would have been.
    await a.removeSocket(witness, 'w');
    const claims: string[] = [];
    await until(async () => {
      claims.push(...(await a.claimDueOffline()));
      return claims.includes(witness);
    }, GRACE_MS + 15_000, 'the witness offline claim');
    expect(claims).not.toContain(u);
    expect(await a.onlineOf([u])).toEqual(new Set([u]));
  });

  it('reaps a node whose heartbeat expired exactly once when every node reaps at once, and never a live one', async () => {
    const dead = store('dead');
    const live = store('live');
    const reapers = [store('x1'), store('x2'), store('x3')];
    await dead.heartbeat(60_000);
    await live.heartbeat(60_000);
    const users = Array.from({ length: 50 }, user);
    const shared = users[0];
    for (const [i, u] of users.entries()) await dead.addSocket(u, `d${i}`);
    await live.addSocket(shared, 'l0');
    const liveOnly = user();
    await live.addSocket(liveOnly, 'l1');
    // The last heartbeat of the node about to die: a short TTL, set after the slow setup.
    await dead.heartbeat(GRACE_MS);

    expect((await Promise.all(reapers.map((r) => r.reapDeadNodes()))).flat()).toEqual([]);
    const orphaned: string[] = [];
    await until(async () => {
      orphaned.push(...(await Promise.all(reapers.map((r) => r.reapDeadNodes()))).flat());
      return orphaned.length > 0;
    }, GRACE_MS + 15_000, 'the dead node reaped');
    orphaned.push(...(await Promise.all(reapers.map((r) => r.reapDeadNodes()))).flat());
    // Every user of the dead node except the one still connected through the live node, once.
    expect(orphaned.sort()).toEqual(users.slice(1).sort());
    expect(await live.onlineOf(users)).toEqual(new Set([shared]));
    expect(await live.onlineOf([liveOnly])).toEqual(new Set([liveOnly]));
    // They are due at once (the node's death started their grace period long ago), claimed once.
    const claimed = (await Promise.all(reapers.map((r) => r.claimDueOffline(1000)))).flat();
    expect(claimed.filter((u) => users.includes(u)).sort()).toEqual(users.slice(1).sort());
    expect(await dead.recordedSockets()).toEqual([]);
  });

  it('a node paused past its TTL learns it was reaped and can record its sockets again', async () => {
    const paused = store('paused');
    const reaper = store('reaper');
    const u = user();
    await paused.addSocket(u, 's');
    expect(await paused.heartbeat(200)).toBe(false);
    await until(async () => (await reaper.reapDeadNodes()).includes(u), 15_000, 'the paused node reaped');
    expect(await paused.heartbeat(60_000)).toBe(false);
    expect(await paused.recordedSockets()).toEqual([]);
    await paused.addSocket(u, 's');
    expect(await paused.heartbeat(60_000)).toBe(true);
    expect(await reaper.onlineOf([u])).toEqual(new Set([u]));
  });
});
