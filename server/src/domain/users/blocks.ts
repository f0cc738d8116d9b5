// User blocks (issue 15): who blocks whom, the checks of the DM and send paths, and the
// per-node cache the emitter filters deliveries with. A blocked user cannot open or send into
// a direct room with the blocker; the blocker's sockets get none of the blocked user's
// message:new / message:updated / typing / presence:updated (socket/emitter.ts).
//
// Storage: one document per user (data/repositories/blocks.repository.ts) with the users it
// blocks and the users blocking it. Blocking writes `blockedBy` of the target first, then
// the blocker's list (unblocking the reverse), so a half-done call errs toward filtering,
// and the list the blocker sees never names a user that is not filtered.
//
// Cache: per node, per user, both lists; dropped on this node and every other node (Peers)
// when they change, after a TTL as a safety net, and wholly when the cluster link recovers.
import type { BlockRelations } from '../../data/repositories/blocks.repository';
import type { Repositories } from '../../data/repositories';
import type { DocLock } from '../../data/doc-lock';
import { directRoomId } from '../../data/ids';
import { lockKeys } from '../../data/lock-keys';
import type { Limiter } from '../../data/rate-limit.store';
import { AppError, errors } from '../../errors';
import { StampedCache } from '../../lib/stamped-cache';
import type { Peers } from '../peers';

/** The refusal of a blocked user's dm:open or send into the blocker's direct room. */
export const blockedError = () => new AppError('FORBIDDEN', 'this user has blocked you', { reason: 'BLOCKED' });

/**
 * Both lists of each user, per node. Entries past the TTL are kept for peek(): the emitter
 * must decide synchronously, so it uses whatever this node holds, and loads only when it holds
 * nothing (never loaded, evicted, or forgotten because the lists changed).
 */
export class BlockCache extends StampedCache<BlockRelations> {
  constructor(peers: Pick<Peers, 'blocksChanged'> | null, opts: { ttlMs?: number; maxEntries?: number } = {}) {
    super(peers ? (userId) => peers.blocksChanged(userId) : null, { ...opts, keepStale: true });
  }
}

/** What the emitter needs to filter a delivery: the users who block a sender. */
export interface BlockFilter {
  /** Synchronous; null when not known on this node (load() first). */
  peekBlockers(userId: string): readonly string[] | null;
  loadBlockers(userId: string): Promise<readonly string[]>;
}

export interface BlockServiceDeps {
  repos: Pick<Repositories, 'blocks' | 'users'>;
  docLock: DocLock;
  cache: BlockCache;
  limiter: Limiter;
  maxBlocked: number;
}

export function createBlockService({ repos, docLock, cache, limiter, maxBlocked }: BlockServiceDeps) {
  const inflight = new Map<string, Promise<BlockRelations>>();

  /** Both lists of a user: a cache hit, or one `_id` read shared by concurrent callers. */
  function relations(userId: string): Promise<BlockRelations> {
    const hit = cache.get(userId);
    if (hit) return Promise.resolve(hit);
    let p = inflight.get(userId);
    if (!p) {
      const stamp = cache.stamp(userId);
      p = repos.blocks
        .get(userId)
        .then((rel) => {
          cache.set(userId, rel, stamp);
          return rel;
        })
        .finally(() => inflight.delete(userId));
      inflight.set(userId, p);
    }
    return p;
  }

  const filter: BlockFilter = {
    peekBlockers: (userId) => cache.peek(userId)?.blockedBy ?? null,
    loadBlockers: async (userId) => (await relations(userId)).blockedBy,
  };

  return {
    filter,
    /**
     * Loads a user's blockers into this node's cache before an announcement (the emitter
     * reads it synchronously). Never fails: on an error the emitter loads them itself.
     */
    warm: async (userId: string): Promise<void> => {
      // Whatever this node holds will do (changes are forgotten cluster-wide; the TTL is only a
      // safety net): a reconnecting user's presence costs no read.
      if (cache.peek(userId)) return;
      await relations(userId).catch(() => undefined);
    },

    /** FORBIDDEN (details.reason BLOCKED) when `otherId` blocks `userId`. */
    async assertNotBlockedBy(userId: string, otherId: string): Promise<void> {
      if ((await relations(userId)).blockedBy.includes(otherId)) throw blockedError();
    },

    /**
     * A send's check: refused into the direct room of a user who blocks the sender. The
     * direct room's id derives from the pair, so no room read is needed: only the sender's
     * blockers (cached, and needed by the emitter anyway) are compared with it.
     */
    async assertCanSend(userId: string, roomId: string): Promise<void> {
      const { blockedBy } = await relations(userId);
      if (!roomId.startsWith('dm') || blockedBy.length === 0) return;
      if (blockedBy.some((b) => directRoomId(userId, b) === roomId)) throw blockedError();
    },

    async block(userId: string, targetId: string): Promise<Record<string, never>> {
      if (targetId === userId) throw errors.validation([{ path: '/userId', message: 'cannot block yourself' }]);
      const { blocked } = await repos.blocks.get(userId);
      if (blocked.includes(targetId)) return {};
      if (blocked.length >= maxBlocked) throw errors.conflict(`at most ${maxBlocked} blocked users`);
      if (!(await repos.users.exists(targetId))) throw errors.notFound('user');
      await limiter.consume(userId);
      await docLock.run(lockKeys.userBlocks(targetId), () => repos.blocks.addBlockedBy(targetId, userId));
      cache.forget(targetId);
      await docLock.run(lockKeys.userBlocks(userId), () => repos.blocks.addBlocked(userId, targetId));
      cache.forget(userId);
      return {};
    },

    async unblock(userId: string, targetId: string): Promise<Record<string, never>> {
      if (targetId === userId) throw errors.validation([{ path: '/userId', message: 'cannot unblock yourself' }]);
      // The target's reverse entry too: a block cut short after its first write left only that.
      const [mine, theirs] = await Promise.all([repos.blocks.get(userId), repos.blocks.get(targetId)]);
      if (!mine.blocked.includes(targetId) && !theirs.blockedBy.includes(userId)) return {};
      await limiter.consume(userId);
      await docLock.run(lockKeys.userBlocks(userId), () => repos.blocks.removeBlocked(userId, targetId));
      cache.forget(userId);
      await docLock.run(lockKeys.userBlocks(targetId), () => repos.blocks.removeBlockedBy(targetId, userId));
      cache.forget(targetId);
      return {};
    },

    /** The users the caller blocks, in the order they were blocked. */
    async list(userId: string): Promise<{ userIds: string[] }> {
      return { userIds: [...(await repos.blocks.get(userId)).blocked] };
    },
  };
}
export type BlockService = ReturnType<typeof createBlockService>;
