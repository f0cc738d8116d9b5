// How services announce what happened, without knowing Socket.IO: the server's
// notifier emits to rooms; a worker's would use the Redis emitter.
import type { DeliveryPosition, MessageDto, PresenceDto, UserDto } from '../contracts/dto';

export interface Notifier {
  /** A stored message; delivered to the room's members in seq order. */
  messageNew(message: MessageDto): void;
  messageUpdated(message: MessageDto): void;
  /** Subscribes the user's sockets (every node) to the room, then tells the room. */
  memberJoined(roomId: string, userId: string): Promise<void>;
  /** Tells the room (the leaver included), then unsubscribes the user's sockets everywhere. */
  memberLeft(roomId: string, userId: string): Promise<void>;
  invited(roomId: string, userId: string, by: string): void;
  readUpdated(roomId: string, userId: string, lastReadSeq: number): void;
  /** Extension (delivery receipts): members' delivered positions that moved; to the room (every node). */
  deliveryUpdated(roomId: string, items: DeliveryPosition[]): void;
  typing(roomId: string, userId: string, typing: boolean): void;
  /** To everyone in any of these rooms (once per socket). */
  presenceUpdated(roomIds: string[], presence: PresenceDto): void;
  /** A profile changed: to everyone in any of these rooms and to the user's own sockets (once per socket). */
  userUpdated(roomIds: string[], user: UserDto): void;
}
