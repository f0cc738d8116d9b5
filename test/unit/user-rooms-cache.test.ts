// The per-node cache of users' room lists: TTL, bound, invalidation here and on peers, and
// no stale value stored by a load that an invalidation overtook.
import { describe, expect, it, vi } from 'vitest';
import { UserRoomsCache } from '../../server/src/domain/user-rooms-cache';

describe('UserRoomsCache', () => {
  it('serves what was set until forgotten, here and on peers', () => {
    const cache = new UserRoomsCache();
    const peers = vi.fn();
    cache.forgetOnPeers = peers;
    cache.set('u1', ['r1'], cache.stamp('u1'));
    expect(cache.get('u1')).toEqual(['r1']);
    cache.forget('u1');
    expect(cache.get('u1')).toBeNull();
    expect(peers).toHaveBeenCalledWith('u1');
    cache.forgetLocal('u1');
    expect(peers).toHaveBeenCalledTimes(1);
  });

  it('does not store a value read before an invalidation that arrived meanwhile', () => {
    const cache = new UserRoomsCache();
    const stamp = cache.stamp('u1');
    cache.forgetLocal('u1'); // a peer's change lands while the read is in flight
    cache.set('u1', ['old'], stamp);
    expect(cache.get('u1')).toBeNull();
    cache.set('u1', ['new'], cache.stamp('u1'));
    expect(cache.get('u1')).toEqual(['new']);
  });

  it('clear() drops every entry and every load in flight', () => {
    const cache = new UserRoomsCache();
    cache.set('u1', ['r1'], cache.stamp('u1'));
    const inFlight = cache.stamp('u2');
    cache.clear();
    expect(cache.get('u1')).toBeNull();
    cache.set('u2', ['r2'], inFlight);
    expect(cache.get('u2')).toBeNull();
  });

  it('expires entries after the TTL and keeps at most maxEntries', () => {
    vi.useFakeTimers();
    try {
      const cache = new UserRoomsCache({ ttlMs: 1000, maxEntries: 2 });
      for (const u of ['a', 'b', 'c']) cache.set(u, [u], cache.stamp(u));
      expect(cache.get('a')).toBeNull();
      expect(cache.get('c')).toEqual(['c']);
      vi.advanceTimersByTime(1001);
      expect(cache.get('c')).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});
