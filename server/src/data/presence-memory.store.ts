// Single-node presence (no REDIS_URL): this process is the whole cluster.
import type { PresenceStore } from './presence.store';

export function createMemoryPresenceStore(): PresenceStore {
  const sockets = new Map<string, Set<string>>();
  const announcedOnline = new Set<string>();
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
    async markOfflineIfIdle(userId) {
      if (sockets.has(userId) || !announcedOnline.has(userId)) return false;
      announcedOnline.delete(userId);
      return true;
    },
    async onlineOf(userIds) {
      return new Set(userIds.filter((id) => sockets.has(id)));
    },
    async announcedOnlineOf(userIds) {
      return new Set(userIds.filter((id) => announcedOnline.has(id)));
    },
    async close() {},
  };
}
