// The per-user list of room ids (UserRoomsDoc): one `_id` read answers "which rooms is this
// user in". Written only through domain/rooms/user-rooms.ts, which orders these writes
// around the membership writes; rebuilt from the memberships by the one-off migration.
import type { Models, UserRoomsDoc } from '../models';
import { isDuplicateKey } from '../ids';

/** The migration id: its marker document says every user's list was built. */
export const USER_ROOMS_MIGRATION = 'user-rooms-v1';
const BATCH = 1000;

export function userRoomsRepository({ UserRooms, Membership, Migration }: Models) {
  return {
    /** The stored list; null when the user has no document (in no room since the migration). */
    async get(userId: string): Promise<string[] | null> {
      const doc = await UserRooms.findById(userId).lean<UserRoomsDoc>().exec();
      return doc ? (doc.roomIds ?? []) : null;
    },
    add: (userId: string, roomId: string) => UserRooms.updateOne({ _id: userId }, { $addToSet: { roomIds: roomId } }, { upsert: true }).exec(),
    remove: (userId: string, roomId: string) => UserRooms.updateOne({ _id: userId }, { $pull: { roomIds: roomId } }).exec(),
    /** Replaces a user's list (repair): `roomIds` must come from the memberships. */
    set: (userId: string, roomIds: string[]) => UserRooms.updateOne({ _id: userId }, { $set: { roomIds } }, { upsert: true }).exec(),

    /**
     * Builds every user's list from the memberships, once per database (a marker document
     * records it). One scan of the memberships; users whose document a live node already
     * created get the scanned rooms merged in. Resolves the number of users written, or null
     * if the migration had already run.
     */
    async migrate(): Promise<number | null> {
      if (await Migration.findById(USER_ROOMS_MIGRATION).lean().exec()) return null;
      const byUser = new Map<string, string[]>();
      for await (const m of Membership.find({}, { userId: 1, roomId: 1 }).lean<{ userId: string; roomId: string }[]>().cursor({ batchSize: 5000 })) {
        const list = byUser.get(m.userId);
        if (list) list.push(m.roomId);
        else byUser.set(m.userId, [m.roomId]);
      }
      const entries = [...byUser];
      for (let i = 0; i < entries.length; i += BATCH) {
        const batch = entries.slice(i, i + BATCH);
        // insertMany is cheap per document on every backend; documents that exist already
        // (created by a node serving meanwhile) fail with duplicate keys and are merged below.
        const existing: Array<[string, string[]]> = [];
        try {
          await UserRooms.insertMany(batch.map(([_id, roomIds]) => ({ _id, roomIds })), { ordered: false, rawResult: false });
        } catch (err) {
          const writeErrors = (err as { writeErrors?: Array<{ index?: number; err?: { index?: number; code?: number }; code?: number }> }).writeErrors;
          if (!writeErrors && !isDuplicateKey(err)) throw err;
          for (const we of writeErrors ?? []) {
            const code = we.code ?? we.err?.code;
            if (code !== 11000) throw err;
            existing.push(batch[we.index ?? we.err?.index ?? -1]);
          }
        }
        for (const [userId, roomIds] of existing.filter(Boolean)) {
          await UserRooms.updateOne({ _id: userId }, { $addToSet: { roomIds: { $each: roomIds } } }).exec();
        }
      }
      await Migration.updateOne({ _id: USER_ROOMS_MIGRATION }, { $setOnInsert: { at: new Date() } }, { upsert: true }).exec();
      return entries.length;
    },
  };
}
export type UserRoomsRepository = ReturnType<typeof userRoomsRepository>;
