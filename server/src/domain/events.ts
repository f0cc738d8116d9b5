// Domain events: what happened, told to the outside world (integration webhooks, and for
// message.created the notifications). The one place to add an outbound event type: name it
// and its data in DomainEventData, then publish it from the service where it happens. The
// envelope, the job contract and the producer (jobs/domain-events.ts) follow from here.
import type { MessageDto } from '../contracts/dto';

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

/** A report on a message (domain/moderation/flags.service.ts). */
export interface ModerationFlaggedData {
  roomId: string;
  messageId: string;
  senderId: string;
  reporterId: string;
  reason: string;
  /** Reports on the message in this round (1 for the first). */
  reportCount: number;
  message: MessageDto;
}

/** Every outbound event type and its `data`. */
export interface DomainEventData {
  /** A message was stored (once per message, however often the send is retried). */
  'message.created': { message: MessageDto };
  /** A message was edited, deleted or reacted to. */
  'message.updated': { message: MessageDto };
  'room.member_joined': { roomId: string; userId: string };
  'room.member_left': { roomId: string; userId: string };
  /** A login block: the account or the address was blocked after too many failures. */
  'auth.suspicious': AuthSuspiciousData;
  /** A member flagged a message (moderation): once per report, for an external review service. */
  'moderation.flagged': ModerationFlaggedData;
}

export type DomainEventType = keyof DomainEventData;

/** The envelope delivered to EVENTS_WEBHOOK_URL, built once by the producer so retries send the same body. */
export type DomainEvent = { [T in DomainEventType]: { id: string; type: T; createdAt: string; data: DomainEventData[T] } }[DomainEventType];

/**
 * Where services publish domain events (jobs/domain-events.ts: a queue, or in-process jobs).
 * Awaited on the write path: an implementation must take at most one Redis round trip.
 */
export interface DomainEvents {
  publish<T extends DomainEventType>(type: T, data: DomainEventData[T]): Promise<void>;
}

export const noDomainEvents: DomainEvents = { publish: async () => {} };
