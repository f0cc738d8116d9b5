// Messages: send (durable before ack, idempotent, gap-free seq), edit, delete,
// react, history pages and read state.
import type { AttachmentDto, HistoryPage, MessageDto, ReadState } from '../../contracts/dto';
import type { MessageDoc } from '../../data/models';
import type { Repositories } from '../../data/repositories';
import { idempotencyKey } from '../../data/ids';
import { AppError, errors } from '../../errors';
import type { Access } from '../access';
import { isModerator } from '../access';
import { toMessageDto } from '../mappers';
import type { DomainEvents } from '../events';
import type { Notifier } from '../notifier';
import { DEFAULT_LIMIT } from '../pagination';
import type { Limiter } from '../../data/rate-limit.store';
import type { DocLock } from '../../data/doc-lock';
import { lockKeys } from '../../data/lock-keys';
import { BoundedMap } from '../../lib/bounded-map';
import { KeyedLock } from '../../lib/keyed-lock';
import { checkAttachments } from './attachments';
import type { HistoryCache } from './history-cache';
import type { HistoryReader } from './history-reader';
import { checkBudget, isShed } from '../../overload/budget';
import { unreadMentions, type Mentions } from './mentions';
import { createThreads, type ThreadQuery } from './threads';
import type { BlockService } from '../users/blocks';
import type { AuditLog } from '../moderation/audit-log';
import { isModerationRefusal, type SendGate } from '../moderation/send-gate';

export interface MessageServiceDeps {
  repos: Repositories;
  access: Access;
  notifier: Notifier;
  events: DomainEvents;
  sendLimiter: Limiter;
  /** Orders updates of one document (message, membership, room) across requests and nodes. */
  docLock: DocLock;
  onStored?: () => void;
  /** Reads history pages (range or `_id` lookups, newest page from the cache). */
  history: HistoryReader;
  /** The newest pages this node keeps: told of every edit, delete and reaction. */
  historyCache?: HistoryCache | null;
  /** Bounds on the sends a node holds per room and in all (overload/admission.ts); none when absent. */
  sendAdmission?: SendAdmission;
  /** Extension (mentions): resolves `@username` at send time and counts unread mentions. */
  mentions: Mentions;
  /** User blocks: a send into the direct room of a user who blocks the sender is refused. */
  blocks?: Pick<BlockService, 'assertCanSend'>;
  /** Mutes and slow mode (domain/moderation/send-gate.ts); none when absent. */
  sendGate?: SendGate;
  /** Records deletes by a moderator (domain/moderation/audit-log.ts). */
  audit?: AuditLog;
}

/** Runs a send within this node's bounds, or throws the refusal at once. */
export interface SendAdmission {
  send<T>(roomId: string, senderId: string, fn: () => Promise<T>): Promise<T>;
}

export interface SendInput {
  roomId: string;
  clientMsgId: string;
  /** Absent only when attachments are given (the schema requires one of the two). */
  text?: string;
  replyTo?: string;
  /** Extension (threads): the parent message; the send is a thread reply. */
  threadOf?: string;
  /** Extension (threads): with threadOf, also show the reply in the room's timeline. */
  alsoInRoom?: boolean;
  /** Extension (attachments): checked by checkAttachments before anything is spent. */
  attachments?: AttachmentDto[];
}

export interface HistoryInput {
  roomId: string;
  beforeSeq?: number;
  afterSeq?: number;
  limit?: number;
  /** Extension (threads): leave out thread replies not also shown in the room. */
  excludeThreadReplies?: boolean;
}

const MAX_DISTINCT_REACTIONS = 50;

export function createMessageService({ repos, access, notifier, events, sendLimiter, docLock, onStored, history, historyCache, sendAdmission, mentions, blocks, sendGate, audit }: MessageServiceDeps) {
  const lock = new KeyedLock();
  // A sender's messages keep the order they were sent in (per node): "hi" then "how are
  // you" never swap seqs because the second request's lookups finished first.
  const senderLock = new KeyedLock();
  // Updates of one message or one read position go through docLock: FerretDB's updates are
  // read-modify-write, so concurrent ones could lose each other.
  const counters = access.counters;
  // The last seq this node stored per room: saves asking the counters before each insert
  // (a stale hint only costs a duplicate-key retry). Bounded: oldest rooms are forgotten.
  const lastSeqHint = new BoundedMap<string, number>(10_000);
  const rememberSeq = (roomId: string, seq: number) => lastSeqHint.set(roomId, Math.max(lastSeqHint.get(roomId) ?? 0, seq));
  // idemKey -> _id of the messages this node stored or answered lately. A client's retry of a
  // send that was stored (its ack lost or late, or the app repeating itself) is then one `_id`
  // lookup, outside the room's turn; otherwise it is a query on idemKey, which the embedded
  // database answers with a collection scan that holds up every command behind it (measured
  // at 150-950 ms each under overload, docs/benchmarks.md). Messages other nodes stored are
  // remembered too (peerStored). A miss (a restart, a node that died before announcing)
  // still finds the message that way. Bounded: the oldest keys are forgotten.
  const recentSends = new BoundedMap<string, string>(50_000);
  async function alreadySent(idemKey: string): Promise<MessageDoc | null> {
    const id = recentSends.get(idemKey);
    if (id === undefined) return null;
    const message = await repos.messages.findById(id);
    return message?.idemKey === idemKey ? message : null;
  }

  /** A message the caller may act on: NOT_FOUND if missing, FORBIDDEN if not a member of its room. */
  async function visibleMessage(userId: string, id: string) {
    const message = await repos.messages.findById(id);
    if (!message) throw errors.notFound('message');
    const ctx = await access.member(message.roomId, userId);
    return { message, ...ctx };
  }

  async function announceUpdate(doc: MessageDoc): Promise<MessageDto> {
    const dto = toMessageDto(doc);
    historyCache?.updated(dto, doc.v ?? 0);
    notifier.messageUpdated(dto);
    await events.publish('message.updated', { message: dto });
    return dto;
  }

  const threads = createThreads({ repos, access, docLock, announceUpdate });

  /** Spends one send of the budget; false for a retry refused by an empty budget (a retry is never rate limited). */
  async function consumeUnlessRetry(userId: string, clientMsgId: string): Promise<boolean> {
    try {
      await sendLimiter.consume(userId);
      return true;
    } catch (err) {
      // Only looked up when limited: the common path costs no extra query.
      if (err instanceof AppError && err.code === 'RATE_LIMITED') {
        const key = idempotencyKey(userId, clientMsgId);
        if ((await alreadySent(key)) ?? (await repos.messages.findByIdemKey(key))) return false;
      }
      throw err;
    }
  }

  /**
   * A thread reply refused because its parent was deleted since may be the retry of a reply
   * stored before: then it goes on (the insert returns the stored one). Looked up only on
   * that refusal, like the rate-limited retry above.
   */
  async function storedRetry(err: unknown, userId: string, input: SendInput): Promise<undefined> {
    const key = idempotencyKey(userId, input.clientMsgId);
    if (err instanceof AppError && err.code === 'CONFLICT' && ((await alreadySent(key)) ?? (await repos.messages.findByIdemKey(key)))) return undefined;
    throw err;
  }

  /** Stores a send whose rate-limit point is spent (`consumed`) or that is a free retry. */
  async function store(userId: string, input: SendInput, consumed: boolean): Promise<MessageDto> {
    // Membership, mute and slow mode from the membership cache: no read per send when cached.
    const state = await access.sendState(input.roomId, userId);
    // Before the slow-mode turn: a refused send takes none. Also loads the sender's blockers
    // into this node's cache, which the emitter filters with.
    await blocks?.assertCanSend(userId, input.roomId);
    const release = sendGate ? await sendGate(state, input.roomId, userId, input.clientMsgId) : null;
    try {
      const { dto, created } = await storeAdmitted(userId, input, consumed);
      // A retry returned the stored message: it took no slow-mode turn.
      if (!created) await release?.();
      return dto;
    } catch (err) {
      await release?.();
      throw err;
    }
  }

  async function storeAdmitted(userId: string, input: SendInput, consumed: boolean): Promise<{ dto: MessageDto; created: boolean }> {
    const roomId = input.roomId;
    if (input.replyTo !== undefined) {
      const parent = await repos.messages.findById(input.replyTo);
      if (!parent || parent.roomId !== input.roomId) throw errors.notFound('replyTo message');
    }
    // Extensions (threads, mentions): refused before anything is stored; fields only when set.
    if (input.alsoInRoom !== undefined && input.threadOf === undefined) throw errors.validation([{ path: '/alsoInRoom', message: 'only with threadOf' }]);
    const parent = input.threadOf !== undefined ? await threads.parentFor(roomId, input.threadOf).catch((err: unknown) => storedRetry(err, userId, input)) : undefined;
    const mentioned = await mentions.resolve(roomId, input.text ?? '');
    const extra: Partial<MessageDoc> = {};
    if (mentioned.length > 0) extra.mentions = mentioned;
    if (input.threadOf !== undefined) extra.threadOf = input.threadOf;
    if (input.threadOf !== undefined && input.alsoInRoom) extra.alsoInRoom = true;
    const idemKey = idempotencyKey(userId, input.clientMsgId);
    const known = await alreadySent(idemKey);
    const { message, created } = known ? { message: known, created: false } : await lock.run(roomId, async () => {
      // The room's turn may have come too late: dropped before the database, never stored late.
      checkBudget();
      // This node's own last seq, else the exact one: a stale hint only costs a retry.
      const hint = lastSeqHint.get(roomId) ?? (await counters.lastSeq(roomId));
      const result = await repos.messages.insertNext(
        {
          roomId,
          senderId: userId,
          clientMsgId: input.clientMsgId,
          idemKey,
          text: input.text ?? '',
          replyTo: input.replyTo ?? null,
          // Only when there are any: a text-only message is stored exactly as before.
          ...(input.attachments?.length ? { attachments: input.attachments } : {}),
          createdAt: new Date(),
          editedAt: null,
          deletedAt: null,
          reactions: {},
          ...extra,
        },
        hint,
        () => counters.lastSeq(roomId),
      );
      if (result.created) {
        rememberSeq(roomId, result.message.seq);
        // The room's lastSeq and the sender's read mark (sending marks the room read up to
        // one's own message) are exact in the counters at once, and checkpointed to the
        // database later: not a database write per message.
        await counters.recordSent(roomId, result.message.seq, result.message.createdAt, userId);
        // Announced inside the lock: this node emits a room's messages in seq order.
        notifier.messageNew(toMessageDto(result.message));
      }
      return result;
    });
    recentSends.set(idemKey, message._id);
    const dto = toMessageDto(message);
    // The stored message's own fields: a retry repairs what a crash of the first attempt left out.
    if (message.roomId === input.roomId) await Promise.all([mentions.record(message.roomId, message.seq, message.mentions ?? [], message.senderId), threads.replyStored(message, parent)]);
    if (!created) {
      // A retry: not a new send, so it does not count against the rate limit.
      if (consumed) await sendLimiter.refund(userId);
      if (message.roomId !== input.roomId) throw errors.conflict('clientMsgId already used for another room');
      // Re-announced (a node that died before broadcasting is covered by the sender's retry;
      // receivers drop a seq they already delivered) and re-enqueued (the first attempt may
      // have died before enqueuing; the event id derives from the message, so it is delivered once).
      // The counters too: the first attempt may have died before recording them.
      await counters.recordSent(message.roomId, message.seq, message.createdAt, userId);
      notifier.messageNew(dto);
      await events.publish('message.created', { message: dto });
      return { dto, created };
    }
    onStored?.();
    await events.publish('message.created', { message: dto });
    return { dto, created };
  }

  const service = {
    async send(userId: string, input: SendInput): Promise<MessageDto> {
      // Its turn behind this sender's earlier sends may have come too late to be worth storing.
      checkBudget();
      if (input.attachments?.length) input = { ...input, attachments: checkAttachments(input.attachments) };
      const consumed = await consumeUnlessRetry(userId, input.clientMsgId);
      try {
        return await store(userId, input, consumed);
      } catch (err) {
        // Dropped for load before it was stored: the send did not happen, so it costs no budget.
        // Likewise refused by a mute or slow mode.
        if (consumed && (isShed(err) || isModerationRefusal(err))) await sendLimiter.refund(userId);
        throw err;
      }
    },

    async edit(userId: string, input: { messageId: string; text: string }): Promise<MessageDto> {
      const { message } = await visibleMessage(userId, input.messageId);
      if (message.senderId !== userId) throw errors.forbidden('only the sender can edit a message');
      if (message.deletedAt) throw errors.conflict('message is deleted');
      const updated = await repos.messages.edit(message._id, input.text, new Date());
      if (!updated) throw errors.conflict('message is deleted');
      return announceUpdate(updated);
    },

    async delete(userId: string, input: { messageId: string }): Promise<Record<string, never>> {
      const { message, membership } = await visibleMessage(userId, input.messageId);
      if (message.senderId !== userId && !isModerator(membership.role)) throw errors.forbidden('only the sender or a room owner/admin can delete');
      if (message.deletedAt) return {};
      const updated = await repos.messages.softDelete(message._id, new Date());
      if (updated) await announceUpdate(updated);
      if (updated && message.senderId !== userId) {
        await audit?.record({ roomId: message.roomId, actorId: userId, action: 'message_delete', targetUserId: message.senderId, messageId: message._id });
      }
      return {};
    },

    async react(userId: string, input: { messageId: string; emoji: string; add: boolean }): Promise<MessageDto> {
      const { message } = await visibleMessage(userId, input.messageId);
      if (message.deletedAt) throw errors.conflict('message is deleted');
      const reactions = message.reactions ?? {};
      if (input.add && !(input.emoji in reactions) && Object.keys(reactions).length >= MAX_DISTINCT_REACTIONS) {
        throw errors.conflict(`at most ${MAX_DISTINCT_REACTIONS} different reactions per message`);
      }
      const updated = await repos.messages.react(message._id, input.emoji, userId, input.add);
      if (!updated) throw errors.conflict('message is deleted');
      return announceUpdate(updated);
    },

    async history(userId: string, q: HistoryInput): Promise<HistoryPage> {
      if (q.beforeSeq !== undefined && q.afterSeq !== undefined) {
        throw errors.validation([{ path: '/', message: 'give beforeSeq or afterSeq, not both' }]);
      }
      const { room } = await access.member(q.roomId, userId);
      const query = { beforeSeq: q.beforeSeq, afterSeq: q.afterSeq, limit: q.limit ?? DEFAULT_LIMIT };
      if (q.excludeThreadReplies) return threads.timelinePage(room, query, (r, page) => history.page(r, page));
      return history.page(room, query);
    },

    /** Extension (threads): thread:history. */
    threadHistory: (userId: string, q: ThreadQuery): Promise<HistoryPage> => threads.page(userId, q),

    async markRead(userId: string, input: { roomId: string; seq: number }): Promise<ReadState> {
      const { room, membership } = await access.member(input.roomId, userId);
      const target = Math.min(input.seq, room.lastSeq);
      // Mentions now read leave the membership in the same update (exact seqs: see advanceRead).
      const readMentions = (membership.mentionSeqs ?? []).filter((s) => s <= target);
      const moved = target > membership.lastReadSeq && (await repos.memberships.advanceRead(room._id, userId, target, readMentions));
      const lastReadSeq = Math.min(Math.max(membership.lastReadSeq, moved ? target : 0), room.lastSeq);
      if (moved) notifier.readUpdated(room._id, userId, lastReadSeq);
      return { lastReadSeq, unreadCount: Math.max(0, room.lastSeq - lastReadSeq), unreadMentions: unreadMentions(membership.mentionSeqs, lastReadSeq) };
    },
  };

  return {
    ...service,
    /**
     * A message another node stored: this node's next insert in that room starts above it, so
     * nodes sending into one room rarely collide on a seq (each collision costs a lookup and
     * a second insert). Its idempotency key is remembered too: a retry that lands here (its
     * client reconnected to this node, or its first node died after storing) is then an `_id`
     * lookup, not a scan on idemKey that holds up the embedded database for everyone (the
     * survivors' stall after a node was killed under overload, docs/benchmarks.md).
     */
    peerStored(m: Pick<MessageDto, 'id' | 'roomId' | 'seq' | 'senderId' | 'clientMsgId'>): void {
      rememberSeq(m.roomId, m.seq);
      recentSends.set(idempotencyKey(m.senderId, m.clientMsgId), m.id);
    },
    // Admission first: a send over the room's or the node's bound is refused before it queues.
    send: (userId: string, input: SendInput) => {
      const run = () => senderLock.run(userId, () => service.send(userId, input));
      return sendAdmission ? sendAdmission.send(input.roomId, userId, run) : run();
    },
    markRead: (userId: string, input: { roomId: string; seq: number }) => docLock.run(lockKeys.membership(input.roomId, userId), () => service.markRead(userId, input)),
    edit: (userId: string, input: { messageId: string; text: string }) => docLock.run(lockKeys.message(input.messageId), () => service.edit(userId, input)),
    delete: (userId: string, input: { messageId: string }) => docLock.run(lockKeys.message(input.messageId), () => service.delete(userId, input)),
    react: (userId: string, input: { messageId: string; emoji: string; add: boolean }) => docLock.run(lockKeys.message(input.messageId), () => service.react(userId, input)),
  };
}
export type MessageService = ReturnType<typeof createMessageService>;
