// The server's Notifier: turns domain announcements into Socket.IO emits. Room
// subscriptions use io.in(userChannel).socketsJoin/Leave, which act on every node
// when the Redis adapter is in place.
import type { MessageDto } from '../contracts/dto';
import type { Notifier } from '../domain/notifier';
import type { Metrics } from '../http/metrics';
import { roomChannel, userChannel } from './room-names';
import type { AppServer } from './types';

export interface SocketNotifier extends Notifier {
  /** Binds the io server once it exists (services are built before it). */
  attach(io: AppServer, publishMessage: (m: MessageDto) => void): void;
}

export function createSocketNotifier(metrics: Metrics): SocketNotifier {
  let io: AppServer | null = null;
  let publish: ((m: MessageDto) => void) | null = null;
  const server = (): AppServer => {
    if (!io) throw new Error('notifier used before the io server was attached');
    return io;
  };
  const count = (event: string) => metrics.broadcasts.inc({ event });

  return {
    attach(ioServer, publishMessage) {
      io = ioServer;
      publish = publishMessage;
    },
    messageNew(message) {
      if (!publish) throw new Error('notifier used before the io server was attached');
      publish(message);
    },
    messageUpdated(message) {
      server().to(roomChannel(message.roomId)).emit('message:updated', message);
      count('message:updated');
    },
    async memberJoined(roomId, userId) {
      server().in(userChannel(userId)).socketsJoin(roomChannel(roomId));
      server().to(roomChannel(roomId)).emit('room:member_joined', { roomId, userId });
      count('room:member_joined');
    },
    async memberLeft(roomId, userId) {
      server().to(roomChannel(roomId)).emit('room:member_left', { roomId, userId });
      server().in(userChannel(userId)).socketsLeave(roomChannel(roomId));
      count('room:member_left');
    },
    invited(roomId, userId, by) {
      server().to(userChannel(userId)).emit('room:invited', { roomId, by });
      count('room:invited');
    },
    readUpdated(roomId, userId, lastReadSeq) {
      server().to(roomChannel(roomId)).emit('read:updated', { roomId, userId, lastReadSeq });
      count('read:updated');
    },
    typing(roomId, userId, typing) {
      // volatile: dropped first for a socket whose output is backed up (socket/slow-consumer.ts).
      server().to(roomChannel(roomId)).except(userChannel(userId)).volatile.emit('typing', { roomId, userId, typing });
      count('typing');
    },
    presenceUpdated(roomIds, presence) {
      server().to(roomIds.map(roomChannel)).except(userChannel(presence.userId)).volatile.emit('presence:updated', presence);
      count('presence:updated');
    },
  };
}
