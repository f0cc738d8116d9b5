// Messages: gap-free seq allocation, keyset history pages, edits and reactions.
//
// Seq allocation: insert with seq = hint + 1 and let the unique (roomId, seq) index
// arbitrate. A seq exists only once its message is stored, so there are no holes
// even if a write fails half-way, and nothing relies on an atomic $inc (FerretDB's
// updates are read-modify-write). Because a message's _id is derived from
// (senderId, clientMsgId), a duplicate-key error is either a retry of the same
// message (the _id exists: idempotent hit) or a lost race for the seq (try the next).
import type { MessageDoc, Models } from '../models';
import { isDuplicateKey } from '../ids';

export interface HistoryQuery {
  beforeSeq?: number;
  afterSeq?: number;
  limit: number;
}

const MAX_SEQ_ATTEMPTS = 50;

export function messagesRepository({ Message }: Models) {
  const maxSeq = async (roomId: string): Promise<number> => {
    const last = await Message.findOne({ roomId }, { seq: 1 }).sort({ seq: -1 }).lean<Pick<MessageDoc, 'seq'>>().exec();
    return last?.seq ?? 0;
  };

  return {
    maxSeq,
    findById: (id: string) => Message.findById(id).lean<MessageDoc>().exec(),

    /** Stores the message at the next free seq; `created: false` means it already existed. */
    async insertNext(doc: Omit<MessageDoc, 'seq'>, hintSeq: number): Promise<{ message: MessageDoc; created: boolean }> {
      let seq = hintSeq + 1;
      for (let attempt = 0; attempt < MAX_SEQ_ATTEMPTS; attempt++) {
        try {
          const message = { ...doc, seq };
          await Message.create(message);
          return { message, created: true };
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          const existing = await Message.findById(doc._id).lean<MessageDoc>().exec();
          if (existing) return { message: existing, created: false };
          // The hint lagged: step once or twice, then ask for the real maximum.
          seq = attempt < 2 ? seq + 1 : (await maxSeq(doc.roomId)) + 1;
        }
      }
      throw new Error(`seq allocation did not converge for room ${doc.roomId}`);
    },

    /** A history page in ascending seq, per the contract's afterSeq/beforeSeq rules. */
    async page(roomId: string, q: HistoryQuery): Promise<{ items: MessageDoc[]; hasMore: boolean }> {
      if (q.afterSeq !== undefined) {
        const docs = await Message.find({ roomId, seq: { $gt: q.afterSeq } }).sort({ seq: 1 }).limit(q.limit + 1).lean<MessageDoc[]>().exec();
        return { items: docs.slice(0, q.limit), hasMore: docs.length > q.limit };
      }
      const filter = q.beforeSeq !== undefined ? { roomId, seq: { $lt: q.beforeSeq } } : { roomId };
      const docs = await Message.find(filter).sort({ seq: -1 }).limit(q.limit + 1).lean<MessageDoc[]>().exec();
      return { items: docs.slice(0, q.limit).reverse(), hasMore: docs.length > q.limit };
    },

    /** The messages at the given (roomId, seq) pairs: each room's last message for room:list. */
    async atSeqs(pairs: Array<{ roomId: string; seq: number }>): Promise<MessageDoc[]> {
      if (pairs.length === 0) return [];
      return Message.find({ $or: pairs.map((p) => ({ roomId: p.roomId, seq: p.seq })) }).lean<MessageDoc[]>().exec();
    },

    inRange: (roomId: string, fromSeq: number, toSeq: number) =>
      Message.find({ roomId, seq: { $gte: fromSeq, $lte: toSeq } }).sort({ seq: 1 }).lean<MessageDoc[]>().exec(),

    /** Edits a live message; null if it does not exist or is deleted. */
    edit: (id: string, text: string, at: Date) =>
      Message.findOneAndUpdate({ _id: id, deletedAt: null }, { $set: { text, editedAt: at } }, { new: true }).lean<MessageDoc>().exec(),

    /** Soft delete: keeps id and seq; text and reactions are cleared. */
    softDelete: (id: string, at: Date) =>
      Message.findOneAndUpdate({ _id: id, deletedAt: null }, { $set: { text: '', deletedAt: at, reactions: {} } }, { new: true }).lean<MessageDoc>().exec(),

    /** Adds or removes one user's reaction; an emptied emoji disappears. */
    async react(id: string, emoji: string, userId: string, add: boolean): Promise<MessageDoc | null> {
      const path = `reactions.${emoji}`;
      const res = add
        ? await Message.updateOne({ _id: id, deletedAt: null }, { $addToSet: { [path]: userId } }).exec()
        : await Message.updateOne({ _id: id, deletedAt: null }, { $pull: { [path]: userId } }).exec();
      if (res.matchedCount === 0) return null;
      if (!add) await Message.updateOne({ _id: id, [path]: { $size: 0 } }, { $unset: { [path]: 1 } }).exec();
      return Message.findById(id).lean<MessageDoc>().exec();
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
