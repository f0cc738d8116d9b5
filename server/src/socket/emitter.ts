// The one place where server-to-client events go out. Room events are the domain's
// Notifier calls turned into emits; message:new goes through a per-room reorder buffer
// (MessageFanout) so this node's sockets get a room's messages in seq order, whether
// stored here or on another node; per-socket events (session expiry, draining) have
// their own functions below. Room subscriptions use io.in(userChannel).socketsJoin/Leave,
// which act on every node when the Redis adapter is in place: this node's sockets first,
// directly, because the adapter reaches them only once it hears its own request back from
// Redis, after the ack; until then an event sent here would miss them.
import type { MessageDto } from '../contracts/dto';
import type { Notifier } from '../domain/notifier';
import type { Peers } from '../domain/peers';
import type { Metrics } from '../http/metrics';
import { outsideBudget } from '../overload/budget';
import { MessageFanout } from './message-fanout';
import { roomChannel, userChannel } from './room-names';
import type { AppServer, AppSocket } from './types';

export interface SocketEmitter extends Notifier {
  /** A message stored by another node: delivered to this node's sockets in seq order. */
  peerMessage(message: MessageDto): void;
  close(): void;
}

export interface SocketEmitterDeps {
  io: AppServer;
  metrics: Metrics;
  /** Where a message stored here goes for the other nodes' sockets. */
  peers: Pick<Peers, 'messageStored'>;
  /** Stored messages of a room with fromSeq <= seq <= toSeq, ascending (fills gaps). */
  loadRange(roomId: string, fromSeq: number, toSeq: number): Promise<MessageDto[]>;
  /** Called as each message:new goes out on this node. */
  onDelivered?(message: MessageDto): void;
  onError?(err: unknown): void;
}

export function createSocketEmitter({ io, metrics, peers, loadRange, onDelivered, onError }: SocketEmitterDeps): SocketEmitter {
  const count = (event: string) => metrics.broadcasts.inc({ event });
  /** Joins or leaves a user's sockets to a room: here at once, on the other nodes through the adapter. */
  const subscribe = (userId: string, roomId: string, join: boolean) => {
    const [user, room] = [userChannel(userId), roomChannel(roomId)];
    if (join) {
      io.local.in(user).socketsJoin(room);
      io.in(user).socketsJoin(room);
    } else {
      io.local.in(user).socketsLeave(room);
      io.in(user).socketsLeave(room);
    }
  };
  const fanout = new MessageFanout({
    deliver: (m) => {
      onDelivered?.(m);
      // local: every node delivers its own sockets, in order, from its own buffer.
      io.local.to(roomChannel(m.roomId)).emit('message:new', m);
      count('message:new');
    },
    // The gap fill runs on a timer armed inside some send: not bound by that send's budget.
    loadRange: (roomId, from, to) => outsideBudget(() => loadRange(roomId, from, to)),
    onError,
  });

  return {
    messageNew(message) {
      fanout.accept(message);
      peers.messageStored(message);
    },
    peerMessage(message) {
      fanout.accept(message);
    },
    messageUpdated(message) {
      io.to(roomChannel(message.roomId)).emit('message:updated', message);
      count('message:updated');
    },
    async memberJoined(roomId, userId) {
      subscribe(userId, roomId, true);
      io.to(roomChannel(roomId)).emit('room:member_joined', { roomId, userId });
      count('room:member_joined');
    },
    async memberLeft(roomId, userId) {
      io.to(roomChannel(roomId)).emit('room:member_left', { roomId, userId });
      subscribe(userId, roomId, false);
      count('room:member_left');
    },
    invited(roomId, userId, by) {
      io.to(userChannel(userId)).emit('room:invited', { roomId, by });
      count('room:invited');
    },
    readUpdated(roomId, userId, lastReadSeq) {
      io.to(roomChannel(roomId)).emit('read:updated', { roomId, userId, lastReadSeq });
      count('read:updated');
    },
    deliveryUpdated(roomId, items) {
      // Not volatile: positions are state (a member list reads them back after a reconnect).
      io.to(roomChannel(roomId)).emit('delivery:updated', { roomId, items });
      count('delivery:updated');
    },
    typing(roomId, userId, typing) {
      // volatile: dropped first for a socket whose output is backed up (socket/slow-consumer.ts).
      io.to(roomChannel(roomId)).except(userChannel(userId)).volatile.emit('typing', { roomId, userId, typing });
      count('typing');
    },
    presenceUpdated(roomIds, presence) {
      io.to(roomIds.map(roomChannel)).except(userChannel(presence.userId)).volatile.emit('presence:updated', presence);
      count('presence:updated');
    },
    userUpdated(roomIds, user) {
      // One emit to the union of the rooms: each node (through the adapter) sends it once per
      // socket however many of the rooms that socket is in. Not volatile: it is state.
      io.to([...roomIds.map(roomChannel), userChannel(user.id)]).emit('user:updated', user);
      count('user:updated');
    },
    close: () => fanout.close(),
  };
}

/** The socket's session ended (token expired or revoked); the caller disconnects it. */
export function emitSessionExpired(socket: AppSocket): void {
  socket.emit('session:expired', {});
}

/** This node is shutting down: the client should reconnect after `reconnectInMs`. */
export function emitServerDraining(socket: AppSocket, reconnectInMs: number): void {
  socket.emit('server:draining', { reconnectInMs });
}
