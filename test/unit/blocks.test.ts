// User blocks' per-node cache and service rules without a database: invalidation here and on
// peers, no stale list stored by a load an invalidation overtook, peek past the TTL for the
// emitter, and the DM check that derives the direct room from the pair.
import { describe, expect, it, vi } from 'vitest';
import { createDocLock } from '../../server/src/data/doc-lock';
import { directRoomId } from '../../server/src/data/ids';
import type { BlockRelations } from '../../server/src/data/repositories/blocks.repository';
import { BlockCache, createBlockService } from '../../server/src/domain/users/blocks';

const rel = (blocked: string[], blockedBy: string[]): BlockRelations => ({ blocked, blockedBy });

/** A service over an in-memory repository (the real one is exercised by the integration tests). */
function service(docs: Map<string, BlockRelations>, users = new Set(['a', 'b', 'c'])) {
  const reads = vi.fn();
  const get = (id: string) => docs.get(id) ?? rel([], []);
  const change = (id: string, field: keyof BlockRelations, other: string, add: boolean) => {
    const d = get(id);
    const list = d[field].filter((x) => x !== other);
    docs.set(id, { ...d, [field]: add ? [...list, other] : list });
  };
  const peers = { blocksChanged: vi.fn() };
  const cache = new BlockCache(peers);
  const svc = createBlockService({
    repos: {
      blocks: {
        get: async (id: string) => (reads(id), get(id)),
        addBlocked: async (id: string, o: string) => change(id, 'blocked', o, true),
        removeBlocked: async (id: string, o: string) => change(id, 'blocked', o, false),
        addBlockedBy: async (id: string, o: string) => change(id, 'blockedBy', o, true),
        removeBlockedBy: async (id: string, o: string) => change(id, 'blockedBy', o, false),
      },
      users: { exists: async (id: string) => users.has(id) },
    } as never,
    docLock: createDocLock(null, false),
    cache,
    limiter: { consume: async () => undefined, refund: async () => undefined },
    maxBlocked: 2,
  });
  return { svc, cache, peers, reads };
}

describe('BlockCache', () => {
  it('does not store a list read before an invalidation that arrived meanwhile; peek ignores the TTL', () => {
    const cache = new BlockCache(null, { ttlMs: 0 });
    const stamp = cache.stamp('u');
    cache.forgetLocal('u');
    cache.set('u', rel([], ['old']), stamp);
    expect(cache.peek('u')).toBeNull();
    cache.set('u', rel([], ['x']), cache.stamp('u'));
    // Past the TTL: no longer served to the send path, still there for the emitter.
    expect(cache.peek('u')?.blockedBy).toEqual(['x']);
    cache.clear();
    expect(cache.peek('u')).toBeNull();
  });
});

describe('block service', () => {
  it('writes both lists, tells every node of both users, and serves the send path from the cache', async () => {
    const docs = new Map<string, BlockRelations>();
    const { svc, peers, reads } = service(docs);
    await svc.block('a', 'b');
    expect(docs.get('a')).toEqual(rel(['b'], []));
    expect(docs.get('b')).toEqual(rel([], ['a']));
    expect(peers.blocksChanged.mock.calls.map((c) => c[0]).sort()).toEqual(['a', 'b']);
    reads.mockClear();
    await svc.filter.loadBlockers('b');
    await svc.filter.loadBlockers('b');
    expect(reads).toHaveBeenCalledTimes(1);
    expect(svc.filter.peekBlockers('b')).toEqual(['a']);
  });

  it('refuses the blocked user only in the direct room of the pair', async () => {
    const { svc } = service(new Map());
    await svc.block('a', 'b');
    await expect(svc.assertCanSend('b', directRoomId('a', 'b'))).rejects.toMatchObject({ code: 'FORBIDDEN', details: { reason: 'BLOCKED' } });
    await expect(svc.assertNotBlockedBy('b', 'a')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await svc.assertCanSend('b', directRoomId('b', 'c'));
    await svc.assertCanSend('b', 'someroom');
    await svc.assertCanSend('a', directRoomId('a', 'b'));
    await svc.assertNotBlockedBy('a', 'b');
  });

  it('bounds the list, refuses self and unknown users, and an unblock repairs a half-done block', async () => {
    const docs = new Map<string, BlockRelations>([['c', rel([], ['a'])]]); // a block of c cut short after its first write
    const { svc } = service(docs, new Set(['a', 'b', 'c', 'd']));
    await expect(svc.block('a', 'a')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(svc.block('a', 'zz')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await svc.unblock('a', 'c');
    expect(docs.get('c')).toEqual(rel([], []));
    await svc.block('a', 'b');
    await svc.block('a', 'c');
    await expect(svc.block('a', 'd')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await svc.list('a')).toEqual({ userIds: ['b', 'c'] });
  });
});
