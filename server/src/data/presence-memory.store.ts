// Single-node presence (no REDIS_URL): this process is the whole cluster.
import { RECENT_LAST_SEEN_MS, type PresenceStore } from '../domain/presence/presence.store';

export function createMemoryPresenceStore(): PresenceStore {
  const sockets = new Map<string, Set<string>>();
  const announcedOnline = new Set<string>();
  // Recent flips' lastSeenAt (ms), oldest first: entries are re-inserted when they change.
  const seen = new Map<string, number>();
  const forgetOldSeen = (now: number) => {
    for (const [userId, at] of seen) {
      if (now - at < RECENT_LAST_SEEN_MS) break;
      seen.delete(userId);
    }
  };
  return {
    async addSocket(userId, socketId) {
      let set = sockets.get(userId);
      if (!set) sockets.set(userId, (set = new Set()));
      set.add(socketId);
      if (announcedOnline.has(userId)) return false;
      announcedOnline.add(userId);
      return true;
    },
    async removeSocket(userId, socketId) {
      const set = sockets.get(userId);
      set?.delete(socketId);
      if (set && set.size > 0) return false;
      sockets.delete(userId);
      return true;
    },
    async markOfflineIfIdle(userId, lastSeenAt) {
      if (sockets.has(userId) || !announcedOnline.has(userId)) return false;
      announcedOnline.delete(userId);
      if (lastSeenAt) {
        forgetOldSeen(Date.now());
        seen.delete(userId);
        seen.set(userId, lastSeenAt.getTime());
      }
      return true;
    },
    async onlineOf(userIds) {
      return new Set(userIds.filter((id) => sockets.has(id)));
    },
    async announcedOnlineOf(userIds) {
      return new Set(userIds.filter((id) => announcedOnline.has(id)));
    },
    async announcedOf(userIds) {
      const lastSeenAt = new Map<string, Date>();
      for (const id of userIds) {
        const at = seen.get(id);
        if (at !== undefined) lastSeenAt.set(id, new Date(at));
      }
      return { online: new Set(userIds.filter((id) => announcedOnline.has(id))), lastSeenAt };
    },
    async close() {},
  };
}
