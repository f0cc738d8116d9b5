// Rooms: metadata, the lastSeq hint, member counts and the activity order of room:list.
import type { Models, RoomDoc } from '../models';
import { isDuplicateKey } from '../ids';

export interface ActivityCursor {
  at: Date;
  id: string;
}

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
    remove: (id: string) => Room.deleteOne({ _id: id }).exec(),

    /**
     * Moves lastSeq (and the activity time) forward only: $max never moves back on a
     * MongoDB server, and the filter is the _id alone, which FerretDB looks up by key.
     */
    advanceLastSeq: (roomId: string, seq: number, at: Date) =>
      Room.updateOne({ _id: roomId }, { $max: { lastSeq: seq, lastActivityAt: at } }).exec(),

    /** Recounts instead of $inc so that concurrent joins cannot leave a drifted count. */
    async recountMembers(roomId: string): Promise<number> {
      const n = await Membership.countDocuments({ roomId }).exec();
      await Room.updateOne({ _id: roomId }, { $set: { memberCount: n } }).exec();
      return n;
    },

    /** One page of the given rooms, most recent activity first, keyset on (lastActivityAt, _id). */
    pageByActivity(roomIds: string[], after: ActivityCursor | null, limit: number) {
      const filter: Record<string, unknown> = { _id: { $in: roomIds } };
      if (after) {
        filter.$or = [{ lastActivityAt: { $lt: after.at } }, { lastActivityAt: after.at, _id: { $lt: after.id } }];
      }
      return Room.find(filter).sort({ lastActivityAt: -1, _id: -1 }).limit(limit).lean<RoomDoc[]>().exec();
    },
    setRetention: (roomId: string, days: number | null) => Room.updateOne({ _id: roomId }, { $set: { retentionDays: days } }).exec(),
    withRetention: () => Room.find({ retentionDays: { $gt: 0 } }, { _id: 1, retentionDays: 1 }).lean<Pick<RoomDoc, '_id' | 'retentionDays'>[]>().exec(),
  };
}
export type RoomsRepository = ReturnType<typeof roomsRepository>;
