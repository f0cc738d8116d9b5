// Rooms: metadata, the lastSeq hint, member counts and the activity order of room:list.
import type { Models, RoomDoc } from '../models';
import { isDuplicateKey } from '../ids';

export function roomsRepository({ Room, Membership }: Models) {
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
    byIds: (ids: string[]) => Room.find({ _id: { $in: ids } }).lean<RoomDoc[]>().exec(),
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

    /** Recounts instead of $inc so that concurrent joins cannot leave a drifted count. */
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
