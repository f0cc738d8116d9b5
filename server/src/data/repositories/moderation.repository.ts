// Room moderation's storage: mutes (on the membership), slow mode (on the room), the audit
// log and flags. Reads are `_id` lookups: an audit page is the ids `roomId:seq` below a seq,
// the moderation queue is one document per room. Callers order updates with the doc lock.
import type { AuditEntryDoc, FlagDoc, FlagQueueDoc, FlagReport, Models } from '../models';
import { membershipId } from '../ids';
import { findByIds, type LookupOptions } from './by-ids';

/** Zero-padded, so ids of one room also sort by seq as strings. */
export const auditEntryId = (roomId: string, seq: number) => `${roomId}:${String(seq).padStart(12, '0')}`;

/** How many reports a flag keeps (reportCount counts them all). */
export const MAX_REPORTS_KEPT = 20;

export function moderationRepository({ Membership, Room, AuditEntry, ModerationCounter, Flag, FlagQueue }: Models, lookup: LookupOptions = { pointLookups: false }) {
  return {
    /** Sets or clears (null) a member's mute; resolves false when not a member. */
    setMute: async (roomId: string, userId: string, until: Date | null) =>
      (await Membership.updateOne({ _id: membershipId(roomId, userId) }, { $set: { mutedUntil: until } }).exec()).matchedCount > 0,

    setSlowMode: async (roomId: string, seconds: number) =>
      (await Room.updateOne({ _id: roomId }, { $set: { slowModeSeconds: seconds } }).exec()).matchedCount > 0,

    /** The next value of a room's counter (run under the counter's doc lock: FerretDB's $inc is read-modify-write). */
    async nextSeq(name: string, roomId: string): Promise<number> {
      const doc = await ModerationCounter.findOneAndUpdate({ _id: `${name}:${roomId}` }, { $inc: { seq: 1 } }, { upsert: true, new: true }).lean().exec();
      return doc!.seq;
    },
    /** The counter's current value (0 when nothing was counted). */
    async currentSeq(name: string, roomId: string): Promise<number> {
      return (await ModerationCounter.findById(`${name}:${roomId}`).lean().exec())?.seq ?? 0;
    },

    insertAudit: (entry: Omit<AuditEntryDoc, '_id'>) => AuditEntry.create({ _id: auditEntryId(entry.roomId, entry.seq), ...entry }),

    /** Entries with seq in [from, to], newest first; a seq a crash left unused is simply absent. */
    async auditRange(roomId: string, from: number, to: number): Promise<AuditEntryDoc[]> {
      const ids: string[] = [];
      for (let seq = to; seq >= Math.max(1, from); seq--) ids.push(auditEntryId(roomId, seq));
      const docs = await findByIds<AuditEntryDoc>(AuditEntry, ids, lookup);
      return docs.sort((a, b) => b.seq - a.seq);
    },

    getFlag: (messageId: string) => Flag.findById(messageId).lean<FlagDoc>().exec(),
    flagsByIds: (ids: string[]) => findByIds<FlagDoc>(Flag, ids, lookup),
    /** Writes the whole flag (created, reported again, reopened or resolved). */
    saveFlag: (flag: FlagDoc) => Flag.replaceOne({ _id: flag._id }, flag, { upsert: true }).exec(),

    getQueue: async (roomId: string): Promise<string[]> => (await FlagQueue.findById(roomId).lean<FlagQueueDoc>().exec())?.open ?? [],
    queueAdd: (roomId: string, messageId: string) => FlagQueue.updateOne({ _id: roomId }, { $addToSet: { open: messageId } }, { upsert: true }).exec(),
    queueRemove: (roomId: string, messageIds: string[]) => FlagQueue.updateOne({ _id: roomId }, { $pull: { open: { $in: messageIds } } }).exec(),
  };
}
export type ModerationRepository = ReturnType<typeof moderationRepository>;
export type { FlagReport };
