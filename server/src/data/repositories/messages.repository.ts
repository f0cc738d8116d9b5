// Messages: gap-free seq allocation, keyset history pages, edits and reactions.
//
// A message's _id is `${roomId}:${seq}`, so allocating a seq is inserting that _id:
// the one uniqueness every MongoDB-compatible server enforces atomically. A seq exists
// only once its message is stored (no holes if a request dies half-way), and nothing
// relies on an atomic $inc (FerretDB's updates are read-modify-write). Idempotency is
// the unique `idemKey` (a hash of sender and clientMsgId): a duplicate-key error means
// either "seq taken" (the slot holds another message: try the next) or "already sent".
//
// Inserts go through a group commit (insert-batcher.ts).
//
// History pages come in two forms (config HISTORY_READS): one range query on (roomId, seq),
// served by that index on MongoDB; or `_id` lookups by `roomId:seq` (message-points.ts) where
// the database scans for anything but `_id` equality (FerretDB).
//
// Every edit, delete and reaction bumps `v`, so per-node caches can order updates.
import type { MessageDoc, Models } from '../models';
import { messageDocId } from '../ids';
import { createInsertBatcher } from '../insert-batcher';
import type { WriteGate } from '../write-gate';
import { checkBudget } from '../../overload/budget';
import { findByIds, type LookupOptions } from './by-ids';
import { messagePoints, type HistoryQuery } from './message-points';

export type { HistoryQuery };

const MAX_SEQ_ATTEMPTS = 50;

export function messagesRepository({ Message }: Models, lookup: LookupOptions = { pointLookups: false }, writeGate?: WriteGate) {
  // Sends of many rooms share one insertMany (group commit); one room's sends are serialised
  // by the service, so a batch never holds two seqs of one room and no seq is skipped.
  const inserts = createInsertBatcher<MessageDoc>(Message.collection as never, { gate: writeGate });
  const byId = (id: string) => Message.findById(id).lean<MessageDoc>().exec();

  const maxSeq = async (roomId: string): Promise<number> => {
    const last = await Message.findOne({ roomId }, { seq: 1 }).sort({ seq: -1 }).lean<Pick<MessageDoc, 'seq'>>().exec();
    return last?.seq ?? 0;
  };

  async function pageByRange(roomId: string, q: HistoryQuery): Promise<{ items: MessageDoc[]; hasMore: boolean }> {
    checkBudget(); // a client that gave up costs no range query
    if (q.afterSeq !== undefined) {
      const docs = await Message.find({ roomId, seq: { $gt: q.afterSeq } }).sort({ seq: 1 }).limit(q.limit + 1).lean<MessageDoc[]>().exec();
      return { items: docs.slice(0, q.limit), hasMore: docs.length > q.limit };
    }
    const filter = q.beforeSeq !== undefined ? { roomId, seq: { $lt: q.beforeSeq } } : { roomId };
    const docs = await Message.find(filter).sort({ seq: -1 }).limit(q.limit + 1).lean<MessageDoc[]>().exec();
    return { items: docs.slice(0, q.limit).reverse(), hasMore: docs.length > q.limit };
  }

  const points = messagePoints(Message);

  return {
    maxSeq,
    findById: byId,
    /** True if the message at (roomId, seq) is stored: one `_id` lookup. */
    existsAt: points.exists,
    /** The message a sender already sent with this key (a retry), if any. */
    findByIdemKey: (idemKey: string) => Message.findOne({ idemKey }).lean<MessageDoc>().exec(),

    /** Stores the message at the next free seq; `created: false` returns the message already sent. */
    async insertNext(
      doc: Omit<MessageDoc, '_id' | 'seq'>,
      hintSeq: number,
      freshHint: () => Promise<number>,
    ): Promise<{ message: MessageDoc; created: boolean }> {
      let seq = hintSeq + 1;
      // Collisions in a row where even the exact lastSeq was behind the seq found taken.
      let lagging = 0;
      for (let attempt = 0; attempt < MAX_SEQ_ATTEMPTS; attempt++) {
        // Seq collisions (nodes sending into one room) cost lookups and another insert each: a
        // send whose budget ran out among them is answered (deadline), not left to its client's timeout.
        if (attempt > 0) checkBudget();
        const message: MessageDoc = { ...doc, _id: messageDocId(doc.roomId, seq), seq };
        if ((await inserts.insert({ ...message })) === 'inserted') return { message, created: true };
        // A duplicate key: either the seq is taken, or this sender's clientMsgId was stored already.
        const holder = await byId(message._id);
        if (holder?.idemKey === doc.idemKey) return { message: holder, created: false };
        if (!holder) {
          // The seq is free, so the duplicate is the idempotency key: already sent.
          const sent = await Message.findOne({ idemKey: doc.idemKey }).lean<MessageDoc>().exec();
          if (sent) return { message: sent, created: false };
          continue; // the holder was deleted meanwhile (retention): try the same seq again
        }
        // Seq taken by another message (another node stored it): ask the exact lastSeq (cheap).
        // At or past the taken seq, the other nodes are simply ahead: go past it, however many
        // times it takes (under load with nodes sharing a room, more than 10 happened, and each
        // scan took 0.3-1.4 s of the embedded database from everyone, docs/benchmarks.md).
        // Behind it, the counters lag the database (the other node's record of the seq is on
        // its way, or the counters lost state): try the next seq, and only after 10 such
        // collisions in a row, the real maximum (a scan on FerretDB).
        const fresh = await freshHint();
        if (fresh >= seq) {
          lagging = 0;
          seq = fresh + 1;
        } else if (++lagging < 10) seq += 1;
        else {
          lagging = 0;
          seq = (await maxSeq(doc.roomId)) + 1;
        }
      }
      throw new Error(`seq allocation did not converge for room ${doc.roomId}`);
    },

    /** A history page in ascending seq, per the contract's afterSeq/beforeSeq rules: one range query. */
    page: pageByRange,

    /** The same page read by `_id` lookups; `lastSeqHint` is the room's lastSeq (it may lag). */
    pageByPoints: points.page,

    /** inRange by `_id` lookups (falls back to the range query for a gap too large for lookups). */
    async inRangeByPoints(roomId: string, fromSeq: number, toSeq: number): Promise<MessageDoc[]> {
      return (await points.inRange(roomId, fromSeq, toSeq)) ?? this.inRange(roomId, fromSeq, toSeq);
    },

    /** The messages at the given (roomId, seq) pairs: each room's last message for room:list. */
    async atSeqs(pairs: Array<{ roomId: string; seq: number }>): Promise<MessageDoc[]> {
      if (pairs.length === 0) return [];
      return findByIds(Message, pairs.map((p) => messageDocId(p.roomId, p.seq)), lookup);
    },

    inRange: (roomId: string, fromSeq: number, toSeq: number) =>
      Message.find({ roomId, seq: { $gte: fromSeq, $lte: toSeq } }).sort({ seq: 1 }).lean<MessageDoc[]>().exec(),

    /** Edits a live message; null if it does not exist or is deleted. */
    edit: (id: string, text: string, at: Date) =>
      Message.findOneAndUpdate({ _id: id, deletedAt: null }, { $set: { text, editedAt: at }, $inc: { v: 1 } }, { new: true }).lean<MessageDoc>().exec(),

    /** Extension (threads): a parent's thread summary, as its index says now; bumps `v` like any update. */
    setThread: (id: string, thread: NonNullable<MessageDoc['thread']>) =>
      Message.findOneAndUpdate({ _id: id }, { $set: { thread }, $inc: { v: 1 } }, { new: true }).lean<MessageDoc>().exec(),

    /**
     * The ids of every message a user sent, in batches: one query streamed by the driver (a
     * scan of the collection on the embedded database, where only `_id` is indexed; the
     * workers' purge, never a request path).
     */
    async *idsBySender(senderId: string, batch: number): AsyncGenerator<string[]> {
      let ids: string[] = [];
      for await (const m of Message.find({ senderId, deletedAt: null }, { _id: 1 }).lean<{ _id: string }[]>().cursor({ batchSize: batch })) {
        ids.push(m._id);
        if (ids.length >= batch) {
          yield ids;
          ids = [];
        }
      }
      if (ids.length > 0) yield ids;
    },
    /** Soft delete: keeps id and seq; text, reactions and attachments are cleared. */
    softDelete: (id: string, at: Date) =>
      Message.findOneAndUpdate({ _id: id, deletedAt: null }, { $set: { text: '', deletedAt: at, reactions: {} }, $unset: { attachments: 1 }, $inc: { v: 1 } }, { new: true })
        .lean<MessageDoc>()
        .exec(),

    /** Adds or removes one user's reaction; an emptied emoji disappears. */
    async react(id: string, emoji: string, userId: string, add: boolean): Promise<MessageDoc | null> {
      const path = `reactions.${emoji}`;
      const res = add
        ? await Message.updateOne({ _id: id, deletedAt: null }, { $addToSet: { [path]: userId }, $inc: { v: 1 } }).exec()
        : await Message.updateOne({ _id: id, deletedAt: null }, { $pull: { [path]: userId }, $inc: { v: 1 } }).exec();
      if (res.matchedCount === 0) return null;
      if (!add) await Message.updateOne({ _id: id, [path]: { $size: 0 } }, { $unset: { [path]: 1 } }).exec();
      return byId(id);
    },

    /** Deletes up to `batch` messages of a room created before `before`; resolves how many. */
    async deleteOlderThan(roomId: string, before: Date, batch: number): Promise<number> {
      const ids = (await Message.find({ roomId, createdAt: { $lt: before } }, { _id: 1 }).sort({ seq: 1 }).limit(batch).lean<Pick<MessageDoc, '_id'>[]>().exec()).map((d) => d._id);
      if (ids.length === 0) return 0;
      return (await Message.deleteMany({ _id: { $in: ids } }).exec()).deletedCount;
    },
  };
}
export type MessagesRepository = ReturnType<typeof messagesRepository>;
