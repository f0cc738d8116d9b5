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
import type { BlockFilter } from '../domain/users/blocks';
import type { Metrics } from '../http/metrics';
import { outsideBudget } from '../overload/budget';
import { MessageFanout } from './message-fanout';
import { roomChannel, userChannel } from './room-names';
import type { AppServer, AppSocket } from './types';

export interface SocketEmitter extends Notifier {
  /** A message stored by another node: delivered to this node's sockets in seq order. */
  peerMessage(message: MessageDto): void;
  /** A message updated outside the API (a workers' purge), told to this node's sockets only: every node hears the update itself. */
  messageUpdatedLocal(message: MessageDto): void;
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
  /** Who blocks whom (domain/users/blocks.ts): a user's blockers get none of its messages, typing or presence. */
  blocks?: BlockFilter;
}

export function createSocketEmitter({ io, metrics, peers, loadRange, onDelivered, onError, blocks }: SocketEmitterDeps): SocketEmitter {
  const count = (event: string) => metrics.broadcasts.inc({ event });
  /**
   * Runs `emit` with the channels of the users who block `senderId` (empty in the common
   * case: the plain room broadcast, encoded once). The services load the sender's blockers
   * before announcing, so this is synchronous except after a block changed them in between:
   * then it waits for one read. Failing that read, it emits unfiltered (history is not
   * filtered either; blocking hides, it does not protect).
   */
  const withBlockers = (senderId: string, emit: (except: string[]) => void): void => {
    if (!blocks) return emit([]);
    const known = blocks.peekBlockers(senderId);
    if (known) return emit(known.map(userChannel));
    blocks.loadBlockers(senderId).then(
      (ids) => emit(ids.map(userChannel)),
      (err: unknown) => {
        onError?.(err);
        emit([]);
      },
    );
  };
  /**
   * The blockers known when a message entered the reorder buffer: deliver uses them if the
   * cache entry was dropped meanwhile (a block or unblock of the sender while the message
   * waited for an earlier seq), so the blocks in force before stay in force.
   */
  const blockersAtAccept = new WeakMap<MessageDto, string[]>();
  /** Accepts a message into the reorder buffer once its sender's blockers are known here (deliver reads them). */
  const acceptKnown = (m: MessageDto) =>
    withBlockers(m.senderId, (except) => {
      if (except.length > 0) blockersAtAccept.set(m, except);
      fanout.accept(m);
    });
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
      // local: every node delivers its own sockets, in order, from its own buffer. The
      // sender's blockers were loaded before the message was accepted (acceptKnown).
      const known = blocks?.peekBlockers(m.senderId);
      const hidden = known ? known.map(userChannel) : (blockersAtAccept.get(m) ?? []);
      const room = io.local.to(roomChannel(m.roomId));
      (hidden.length > 0 ? room.except(hidden) : room).emit('message:new', m);
      count('message:new');
    },
    // The gap fill runs on a timer armed inside some send: not bound by that send's budget.
    // The senders' blockers are loaded with the messages, as deliver reads them synchronously.
    loadRange: (roomId, from, to) =>
      outsideBudget(async () => {
        const messages = await loadRange(roomId, from, to);
        if (blocks) await Promise.all([...new Set(messages.map((m) => m.senderId))].map((id) => blocks.loadBlockers(id).catch(() => undefined)));
        return messages;
      }),
    onError,
  });

  return {
    messageNew(message) {
      acceptKnown(message);
      peers.messageStored(message);
    },
    peerMessage(message) {
      acceptKnown(message);
    },
    messageUpdated(message) {
      withBlockers(message.senderId, (except) => {
        io.to(roomChannel(message.roomId)).except(except).emit('message:updated', message);
        count('message:updated');
      });
    },
    messageUpdatedLocal(message) {
      withBlockers(message.senderId, (except) => {
        io.local.to(roomChannel(message.roomId)).except(except).emit('message:updated', message);
        count('message:updated');
      });
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
      withBlockers(userId, (except) => {
        // volatile: dropped first for a socket whose output is backed up (socket/slow-consumer.ts).
        io.to(roomChannel(roomId)).except([userChannel(userId), ...except]).volatile.emit('typing', { roomId, userId, typing });
        count('typing');
      });
    },
    presenceUpdated(roomIds, presence) {
      withBlockers(presence.userId, (except) => {
        io.to(roomIds.map(roomChannel)).except([userChannel(presence.userId), ...except]).volatile.emit('presence:updated', presence);
        count('presence:updated');
      });
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
