// Heals this node's shared state after Redis lost part of it (an outage, a restart
// without persistence, or peers reaping us during a long pause): what Redis holds
// is reconciled with the sockets really connected here.
import type { UserRooms } from '../domain/rooms/user-rooms';
import type { RedisPresenceStore } from '../data/presence-redis.store';
import type { PresenceService } from '../domain/presence/presence.service';
import type { Logger } from '../logger';
import { roomChannel } from '../socket/room-names';
import type { AppServer, AppSocket } from '../socket/types';

const BATCH = 100;
const ROOM_CHANNEL_PREFIX = roomChannel('');

async function inBatches<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await Promise.all(items.slice(i, i + BATCH).map(fn));
}

/** Records local sockets Redis does not know, and forgets recorded ones that are gone. */
export async function resyncPresence(io: AppServer, store: RedisPresenceStore, presence: PresenceService, log: Logger): Promise<void> {
  const recorded = await store.recordedSockets();
  const local = io.of('/').sockets;
  const known = new Set(recorded.map((r) => r.socketId));
  const gone = recorded.filter((r) => !local.has(r.socketId));
  const missing = [...local.values()].filter((s) => !known.has(s.id));
  await inBatches(gone, (r) => presence.disconnected(r.userId, r.socketId));
  await inBatches(missing, (s) => presence.connected(s.data.userId, s.id));
  if (gone.length + missing.length > 0) log.info({ added: missing.length, removed: gone.length }, 'presence resynced');
}

/**
 * Re-derives each local socket's room subscriptions from the memberships: a join or
 * kick made on another node while our subscriber was down never reached us.
 */
export async function resyncRooms(io: AppServer, userRooms: UserRooms, log: Logger): Promise<void> {
  // Invalidations of the room lists sent while the link was down never arrived either.
  userRooms.cache.clear();
  const byUser = new Map<string, AppSocket[]>();
  for (const socket of io.of('/').sockets.values()) {
    const list = byUser.get(socket.data.userId) ?? [];
    list.push(socket);
    byUser.set(socket.data.userId, list);
  }
  let changed = 0;
  await inBatches([...byUser], async ([userId, sockets]) => {
    const wanted = new Set((await userRooms.of(userId)).map(roomChannel));
    for (const socket of sockets) {
      if (!socket.connected) continue;
      // Only chat-room channels are derived from memberships; anything else is left alone.
      const extra = [...socket.rooms].filter((r) => r.startsWith(ROOM_CHANNEL_PREFIX) && !wanted.has(r));
      const missing = [...wanted].filter((r) => !socket.rooms.has(r));
      for (const r of extra) socket.leave(r);
      if (missing.length > 0) socket.join(missing);
      changed += extra.length + missing.length;
    }
  });
  if (changed > 0) log.info({ changed }, 'room subscriptions resynced');
}
