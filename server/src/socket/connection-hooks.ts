// What a connecting socket joins and announces: its user's rooms (before `connect`
// reaches the client, so no event of them is missed) and the user's presence.
import type { PresenceService } from '../domain/presence/presence.service';
import type { UserRooms } from '../domain/rooms/user-rooms';
import type { ConnectionHooks } from './create-io';
import { roomChannel } from './room-names';

export function chatConnectionHooks({ userRooms, presence }: { userRooms: UserRooms; presence: PresenceService }): ConnectionHooks[] {
  return [
    {
      async onConnect(socket) {
        const roomIds = await userRooms.of(socket.data.userId);
        if (roomIds.length > 0) await socket.join(roomIds.map(roomChannel));
      },
    },
    {
      afterConnect(socket, log) {
        presence.connected(socket.data.userId, socket.id).catch((err: unknown) => log().warn({ err }, 'presence update failed'));
      },
      onDisconnect(socket, log) {
        presence.disconnected(socket.data.userId, socket.id).catch((err: unknown) => log().warn({ err }, 'presence update failed'));
      },
    },
  ];
}
