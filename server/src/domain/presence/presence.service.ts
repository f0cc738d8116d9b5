// Presence: online while any socket is connected; offline after a grace period
// (so reconnects do not flap), then lastSeenAt is stored.
import type { PresenceDto } from '../../contracts/dto';
import type { Repositories } from '../../data/repositories';
import { errors } from '../../errors';
import type { Notifier } from '../notifier';
import type { PresenceStore } from '../../data/presence.store';
import type { DocLock } from '../../data/doc-lock';
import { lockKeys } from '../../data/lock-keys';

export interface PresenceServiceDeps {
  repos: Repositories;
  /** The user's room ids (cached): whom a presence change is announced to. */
  roomsOf(userId: string): Promise<readonly string[]>;
  store: PresenceStore;
  notifier: Notifier;
  offlineGraceMs: number;
  /** Orders the lastSeenAt write with profile updates of the same user document (FerretDB). */
  docLock: DocLock;
  /** Loads the user's blockers into this node's cache before an announcement (see users/blocks.ts). */
  warm?: (userId: string) => Promise<void>;
}

export function createPresenceService({ repos, roomsOf, store, notifier, offlineGraceMs, docLock, warm = async () => {} }: PresenceServiceDeps) {
  const pendingOffline = new Map<string, NodeJS.Timeout>();

  async function announce(userId: string, presence: PresenceDto): Promise<void> {
    const roomIds = await roomsOf(userId);
    if (roomIds.length === 0) return;
    await warm(userId);
    notifier.presenceUpdated([...roomIds], presence);
  }

  /** Ends a user's grace period: offline only if no socket came back anywhere. */
  async function settleOffline(userId: string): Promise<void> {
    pendingOffline.delete(userId);
    // The store records lastSeenAt with the flip: until the write below lands, readers on any
    // node take it from there (reading offline with lastSeenAt null was issue 11's race).
    const lastSeenAt = new Date();
    if (!(await store.markOfflineIfIdle(userId, lastSeenAt))) return;
    await docLock.run(lockKeys.user(userId), () => repos.users.setLastSeen(userId, lastSeenAt));
    await announce(userId, { userId, status: 'offline', lastSeenAt: lastSeenAt.toISOString() });
  }

  return {
    async connected(userId: string, socketId: string): Promise<void> {
      clearTimeout(pendingOffline.get(userId));
      pendingOffline.delete(userId);
      if (await store.addSocket(userId, socketId)) {
        // Nobody to tell (no rooms): skip reading the user, the handshake's only other read.
        const roomIds = await roomsOf(userId);
        if (roomIds.length === 0) return;
        const [user] = await Promise.all([repos.users.findById(userId), warm(userId)]);
        const lastSeenAt = user?.lastSeenAt ? new Date(user.lastSeenAt).toISOString() : null;
        notifier.presenceUpdated([...roomIds], { userId, status: 'online', lastSeenAt });
      }
    },

    async disconnected(userId: string, socketId: string): Promise<void> {
      if (!(await store.removeSocket(userId, socketId))) return;
      clearTimeout(pendingOffline.get(userId));
      const timer = setTimeout(() => void settleOffline(userId).catch(() => undefined), offlineGraceMs);
      timer.unref();
      pendingOffline.set(userId, timer);
    },

    /** Users the cluster's reaper found orphaned by a dead node. */
    settleOffline,

    /** Announced status (see PresenceStore.announcedOnlineOf): what clients are told. */
    onlineOf: (userIds: string[]) => store.announcedOnlineOf(userIds),

    async get(userIds: string[]): Promise<PresenceDto[]> {
      const unique = [...new Set(userIds)];
      const [announced, users] = await Promise.all([store.announcedOf(unique), repos.users.findByIds(unique)]);
      const stored = new Map(users.map((u) => [u._id, u.lastSeenAt]));
      return unique.map((userId) => {
        // The later of the stored value and a recent flip's (whose write may still be in flight).
        const times = [stored.get(userId), announced.lastSeenAt.get(userId)].flatMap((d) => (d ? [new Date(d).getTime()] : []));
        const lastSeenAt = times.length > 0 ? new Date(Math.max(...times)).toISOString() : null;
        return { userId, status: announced.online.has(userId) ? 'online' : 'offline', lastSeenAt };
      });
    },

    /** One user's presence; NOT_FOUND if the user is neither known nor connected. */
    async getOne(userId: string): Promise<PresenceDto> {
      const [p] = await this.get([userId]);
      if (p.status === 'offline' && !(await repos.users.exists(userId))) throw errors.notFound('user');
      return p;
    },

    close(): void {
      for (const t of pendingOffline.values()) clearTimeout(t);
      pendingOffline.clear();
    },
  };
}
export type PresenceService = ReturnType<typeof createPresenceService>;
