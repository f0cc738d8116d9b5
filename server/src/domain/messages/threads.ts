// Threads (extension, issue 14). A thread reply is a message of the room like any other (its
// own seq, stored, fanned out and retried by the send path) that names its parent
// (`threadOf`). Each thread has an index document, `_id` = the parent's id, listing the
// replies' seqs and the participants, so a thread page is one `_id` read plus `_id` lookups
// of the page's replies, never a query over the messages. The parent carries a summary
// (count, last reply, participants), rewritten from the index after each reply and announced
// like an edit (message:updated, the newest-page caches).
//
// Order of writes: the reply is inserted first, then the index, then the parent's summary,
// all before the ack. A crash in between leaves a stored reply missing from its thread until
// the sender retries (same clientMsgId): the retry redoes both, idempotently.
import type { HistoryPage, MessageDto } from '../../contracts/dto';
import type { DocLock } from '../../data/doc-lock';
import { lockKeys } from '../../data/lock-keys';
import type { MessageDoc, RoomDoc } from '../../data/models';
import type { Repositories } from '../../data/repositories';
import { AppError, errors } from '../../errors';
import type { Access } from '../access';
import { toMessageDto } from '../mappers';
import { DEFAULT_LIMIT } from '../pagination';
import type { HistoryQuery } from './history-reader';

/** Why a thread reply was refused: `details.reason` of the error. */
export const THREAD_REFUSALS = {
  notFound: 'THREAD_PARENT_NOT_FOUND',
  deleted: 'THREAD_PARENT_DELETED',
  nested: 'THREAD_PARENT_IS_REPLY',
} as const;

/** Database pages read at most for one page of the room timeline without thread replies. */
export const TIMELINE_MAX_ROUNDS = 5;

export interface ThreadsDeps {
  repos: Repositories;
  access: Access;
  docLock: DocLock;
  /** Announces a changed parent (message:updated, the history caches, message.updated). */
  announceUpdate(doc: MessageDoc): Promise<MessageDto>;
}

export interface ThreadQuery {
  messageId: string;
  beforeSeq?: number;
  afterSeq?: number;
  limit?: number;
}

/** Thread replies are left out of the timeline unless also shown in the room. */
const inTimeline = (m: MessageDto) => m.threadOf === undefined || m.alsoInRoom === true;

export function createThreads({ repos, access, docLock, announceUpdate }: ThreadsDeps) {
  return {
    /** The parent a reply in `roomId` may be sent to, or the refusal (before anything is stored). */
    async parentFor(roomId: string, parentId: string): Promise<MessageDoc> {
      const parent = await repos.messages.findById(parentId);
      // Another room's message is "not found" here, as for replyTo: nothing about other rooms leaks.
      if (!parent || parent.roomId !== roomId) throw new AppError('NOT_FOUND', 'thread parent not found in this room', { reason: THREAD_REFUSALS.notFound });
      if (parent.threadOf) throw new AppError('CONFLICT', 'a thread reply cannot start a thread: reply to its parent', { reason: THREAD_REFUSALS.nested });
      if (parent.deletedAt) throw new AppError('CONFLICT', 'the thread parent is deleted', { reason: THREAD_REFUSALS.deleted });
      return parent;
    },

    /**
     * A reply is stored: index it and rewrite the parent's summary (idempotent, so a retried
     * send repairs what a crash left out). Ordered per thread across nodes by the doc lock.
     */
    async replyStored(reply: MessageDoc, parentRead?: MessageDoc): Promise<void> {
      const parentId = reply.threadOf;
      if (!parentId) return;
      // A parent read before the reply was stored may hold an older summary: at worst the
      // summary is rewritten with the same values, never skipped when it changed.
      const parent = parentRead?._id === parentId ? parentRead : await repos.messages.findById(parentId);
      if (!parent) return; // removed by retention meanwhile: nothing to summarise
      await docLock.run(lockKeys.thread(parentId), async () => {
        const participants = [parent.senderId, ...(parent.mentions ?? []), reply.senderId, ...(reply.mentions ?? [])];
        const index = await repos.threads.addReply(parentId, reply.roomId, reply.seq, [...new Set(participants)], reply.createdAt);
        const summary = { replyCount: index.seqs.length, lastReplyAt: index.lastReplyAt, participants: index.participants };
        const same = parent.thread && parent.thread.replyCount === summary.replyCount && new Date(parent.thread.lastReplyAt).getTime() === summary.lastReplyAt.getTime() && parent.thread.participants.length === summary.participants.length;
        if (same) return; // a retry whose first attempt got this far
        const updated = await docLock.run(lockKeys.message(parentId), () => repos.messages.setThread(parentId, summary));
        if (updated) await announceUpdate(updated);
      });
    },

    /** thread:history: a page of one thread's replies, with the room history's keyset rules. */
    async page(userId: string, q: ThreadQuery): Promise<HistoryPage> {
      if (q.beforeSeq !== undefined && q.afterSeq !== undefined) {
        throw errors.validation([{ path: '/', message: 'give beforeSeq or afterSeq, not both' }]);
      }
      const parent = await repos.messages.findById(q.messageId);
      if (!parent) throw errors.notFound('message');
      await access.memberRole(parent.roomId, userId);
      const limit = q.limit ?? DEFAULT_LIMIT;
      const index = await repos.threads.get(parent._id);
      const seqs = [...new Set(index?.seqs ?? [])].sort((a, b) => a - b);
      let picked: number[];
      let hasMore: boolean;
      if (q.afterSeq !== undefined) {
        const after = seqs.filter((s) => s > q.afterSeq!);
        picked = after.slice(0, limit);
        hasMore = after.length > limit;
      } else {
        const before = q.beforeSeq !== undefined ? seqs.filter((s) => s < q.beforeSeq!) : seqs;
        picked = before.slice(Math.max(0, before.length - limit));
        hasMore = before.length > limit;
      }
      const docs = await repos.messages.atSeqs(picked.map((seq) => ({ roomId: parent.roomId, seq })));
      // A reply removed by retention is simply absent.
      return { items: docs.sort((a, b) => a.seq - b.seq).map(toMessageDto), hasMore };
    },

    /**
     * A page of the room's timeline without thread replies (those not also in the room), read
     * through the ordinary pages (the newest from the cache) and filtered. At most
     * TIMELINE_MAX_ROUNDS database pages per request: a page may then hold fewer than `limit`
     * items with hasMore true, and `resumeSeq` says where the next page starts.
     */
    async timelinePage(room: RoomDoc, q: HistoryQuery, read: (room: RoomDoc, q: HistoryQuery) => Promise<HistoryPage>): Promise<HistoryPage> {
      const forward = q.afterSeq !== undefined;
      let cursor: number | undefined = forward ? q.afterSeq : q.beforeSeq;
      let kept: MessageDto[] = [];
      let more = true;
      for (let round = 0; round < TIMELINE_MAX_ROUNDS && more && kept.length <= q.limit; round++) {
        const page = await read(room, forward ? { afterSeq: cursor, limit: q.limit } : { beforeSeq: cursor, limit: q.limit });
        const items = page.items.filter(inTimeline);
        kept = forward ? [...kept, ...items] : [...items, ...kept];
        more = page.hasMore && page.items.length > 0;
        if (page.items.length > 0) cursor = forward ? page.items[page.items.length - 1].seq : page.items[0].seq;
      }
      if (kept.length > q.limit) {
        const items = forward ? kept.slice(0, q.limit) : kept.slice(kept.length - q.limit);
        return { items, hasMore: true, resumeSeq: forward ? items[items.length - 1].seq : items[0].seq };
      }
      // Scanned to the end in this direction, or out of rounds (more: there may be more).
      return { items: kept, hasMore: more, resumeSeq: cursor ?? (forward ? 0 : room.lastSeq + 1) };
    },
  };
}
export type Threads = ReturnType<typeof createThreads>;
