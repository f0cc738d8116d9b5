// The Redis delivery store (data/delivery-marks.store.ts) as two nodes see it: the same steps as
// the memory store's unit test, run through the Lua scripts, plus what only a cluster has: a
// node that armed a room's tick and died before announcing it. Its tick expires, the next
// receipt on another node arms the room again, and that node's announcement carries the
// positions the dead node never announced.
import crypto from 'node:crypto';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedisDeliveryStore } from '../../server/src/data/delivery-marks.store';

describe('delivery receipts: the Redis store', () => {
  let redis: Redis;
  const prefix = `t${crypto.randomBytes(4).toString('hex')}:`;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('marks only grow; one tick per announcement across nodes; checkpoints take each moved mark once', async () => {
    const [a, b] = [createRedisDeliveryStore({ redis, keyPrefix: prefix }), createRedisDeliveryStore({ redis, keyPrefix: prefix })];
    expect(await a.advance('r1', 'u1', 3, 60_000)).toEqual({ seq: 3, moved: true, armed: true });
    expect(await b.advance('r1', 'u1', 2, 60_000)).toEqual({ seq: 3, moved: false, armed: false });
    expect(await b.advance('r1', 'u2', 5, 60_000)).toEqual({ seq: 5, moved: true, armed: false });
    expect(await a.marks('r1', ['u1', 'u2', 'nobody'])).toEqual(new Map([['u1', 3], ['u2', 5]]));
    expect(await a.takeChanged('r1')).toEqual(new Map([['u1', 3], ['u2', 5]]));
    expect(await b.takeChanged('r1')).toEqual(new Map());
    expect(await b.advance('r1', 'u1', 4, 60_000)).toEqual({ seq: 4, moved: true, armed: true });

    expect(await a.takeDirty(10)).toEqual(['r1']);
    expect(await b.takeDirty(10)).toEqual([]);
    expect(await a.takeUnflushed('r1')).toEqual(new Map([['u1', 4], ['u2', 5]]));
    await a.putBack('r1', new Map([['u2', 5]]));
    expect(await b.takeDirty(10)).toEqual(['r1']);
    expect(await b.takeUnflushed('r1')).toEqual(new Map([['u2', 5]]));
  });

  it('a room armed by a node that died is armed again by the next receipt once the tick expires; nothing is lost', async () => {
    const [dead, alive] = [createRedisDeliveryStore({ redis, keyPrefix: prefix }), createRedisDeliveryStore({ redis, keyPrefix: prefix })];
    const tickMs = 50;
    expect(await dead.advance('r2', 'u1', 1, tickMs)).toMatchObject({ armed: true });
    // The dead node never announces. Receipts on the other node keep coming, one more seq each,
    // until one of them finds the tick gone (it outlives the interval: 3 × 50 + 1000 ms).
    const started = Date.now();
    let seq = 1;
    for (;;) {
      seq += 1;
      const r = await alive.advance('r2', 'u2', seq, tickMs);
      if (r.armed) break;
      expect(Date.now() - started, 'the tick expires').toBeLessThan(30_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * tickMs);
    expect(await alive.takeChanged('r2')).toEqual(new Map([['u1', 1], ['u2', seq]]));
  });
});
