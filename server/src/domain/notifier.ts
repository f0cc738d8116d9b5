// How services announce what happened, without knowing Socket.IO: the server's
// notifier emits to rooms; a worker's would use the Redis emitter.
import type { MessageDto, PresenceDto } from '../contracts/dto';

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
  typing(roomId: string, userId: string, typing: boolean): void;
  /** To everyone in any of these rooms (once per socket). */
  presenceUpdated(roomIds: string[], presence: PresenceDto): void;
}

/** A login block (domain/auth/login-throttle.ts); userId is null when the name is not an account. */
export interface AuthSuspiciousData {
  reason: 'account_blocked' | 'address_blocked';
  /** The lower-cased username tried (the blocked one, or the last one tried from the blocked address). */
  username: string;
  userId: string | null;
  address: string;
  failures: number;
  blockedForMs: number;
}

/**
 * Outbound domain events for background work (notifications, integrations).
 * Awaited on the write path: an implementation must take at most one Redis round trip.
 */
export interface DomainEvents {
  messageCreated(message: MessageDto): Promise<void>;
  messageUpdated(message: MessageDto): Promise<void>;
  memberJoined(roomId: string, userId: string): Promise<void>;
  memberLeft(roomId: string, userId: string): Promise<void>;
  /** A login block: the account or the address was blocked after too many failures. */
  authSuspicious(data: AuthSuspiciousData): Promise<void>;
}

export const noDomainEvents: DomainEvents = {
  messageCreated: async () => {},
  messageUpdated: async () => {},
  memberJoined: async () => {},
  memberLeft: async () => {},
  authSuspicious: async () => {},
};
