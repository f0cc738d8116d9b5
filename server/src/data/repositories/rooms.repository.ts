// Rooms: metadata, the lastSeq hint and member counts.
import type { Models, RoomDoc } from '../models';
import { isDuplicateKey } from '../ids';
import { findByIds, type LookupOptions } from './by-ids';

export function roomsRepository({ Room, Membership }: Models, lookup: LookupOptions = { pointLookups: false }) {
  return {
    /** Inserts; resolves false if a room with that _id exists (direct rooms). */
    async create(room: RoomDoc): Promise<boolean> {
      try {
        await Room.create(room);
        return true;
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
    },
    findById: (id: string) => Room.findById(id).lean<RoomDoc>().exec(),
    findByIds: (ids: string[]) => findByIds(Room, ids, lookup),
    remove: (id: string) => Room.deleteOne({ _id: id }).exec(),

    /**
     * Writes a counters checkpoint: lastSeq, the activity time and the senders' read marks
     * move forward only ($max never moves back), in one update whose filter is the _id
     * alone, which FerretDB looks up by key.
     */
    checkpoint: (roomId: string, lastSeq: number, at: Date, senderMarks: Map<string, number>) => {
      const max: Record<string, number | Date> = { lastSeq, lastActivityAt: at };
      for (const [userId, seq] of senderMarks) max[`senderMarks.${userId}`] = seq;
      return Room.updateOne({ _id: roomId }, { $max: max }).exec();
    },

    /**
     * Moves memberCount by `by` (+1 after a membership was inserted, -1 after one was deleted)
     * and resolves the room as it is now. Callers order it per room (FerretDB's $inc is
     * read-modify-write); only a crash between the two writes can leave the count off,
     * which recountMembers repairs.
     */
    bumpMembers: (roomId: string, by: number) =>
      Room.findOneAndUpdate({ _id: roomId }, { $inc: { memberCount: by } }, { new: true }).lean<RoomDoc>().exec(),

    /** Counts the memberships (a scan on the embedded database): repairs, not the join path. */
    async recountMembers(roomId: string): Promise<number> {
      const n = await Membership.countDocuments({ roomId }).exec();
      await Room.updateOne({ _id: roomId }, { $set: { memberCount: n } }).exec();
      return n;
    },

    setRetention: (roomId: string, days: number | null) => Room.updateOne({ _id: roomId }, { $set: { retentionDays: days } }).exec(),
    withRetention: () => Room.find({ retentionDays: { $gt: 0 } }, { _id: 1, retentionDays: 1 }).lean<Pick<RoomDoc, '_id' | 'retentionDays'>[]>().exec(),
  };
}
export type RoomsRepository = ReturnType<typeof roomsRepository>;
