// Memberships: who is in which room, with role, join time and read position.
import type { Role } from '../../contracts/dto';
import type { MembershipDoc, Models } from '../models';
import { isDuplicateKey, membershipId } from '../ids';
import { findByIds, type LookupOptions } from './by-ids';

export interface JoinedCursor {
  at: Date;
  id: string;
}

export function membershipsRepository({ Membership }: Models, lookup: LookupOptions = { pointLookups: false }) {
  return {
    get: (roomId: string, userId: string) => Membership.findById(membershipId(roomId, userId)).lean<MembershipDoc>().exec(),

    /** Adds a member; resolves false (changing nothing) if already a member. */
    async add(roomId: string, userId: string, role: Role, at: Date, lastReadSeq = 0): Promise<boolean> {
      try {
        await Membership.create({ _id: membershipId(roomId, userId), roomId, userId, role, joinedAt: at, lastReadSeq });
        return true;
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
    },
    remove: async (roomId: string, userId: string) => (await Membership.deleteOne({ _id: membershipId(roomId, userId) }).exec()).deletedCount > 0,
    setRole: (roomId: string, userId: string, role: Role) => Membership.updateOne({ _id: membershipId(roomId, userId) }, { $set: { role } }).exec(),

    /**
     * Moves lastReadSeq forward only; resolves true if it moved. `readMentions`: mention seqs
     * now read, dropped in the same update (exact values: FerretDB's $pull takes no conditions).
     */
    advanceRead: async (roomId: string, userId: string, seq: number, readMentions: number[] = []) =>
      (
        await Membership.updateOne(
          { _id: membershipId(roomId, userId) },
          readMentions.length > 0 ? { $max: { lastReadSeq: seq }, $pullAll: { mentionSeqs: readMentions } } : { $max: { lastReadSeq: seq } },
        ).exec()
      ).modifiedCount > 0,

    /**
     * Extension (mentions): records that the message at `seq` mentions this member
     * (idempotent). At most `cap` unread mentions are kept (beyond, the count stays at the
     * cap): read first, because a condition beside `_id` scans the collection on FerretDB.
     * Resolves false when nothing was added (not a member, already there, or full).
     */
    async addMention(roomId: string, userId: string, seq: number, cap: number): Promise<boolean> {
      const _id = membershipId(roomId, userId);
      const m = await Membership.findById(_id, { mentionSeqs: 1 }).lean<Pick<MembershipDoc, 'mentionSeqs'>>().exec();
      if (!m || (m.mentionSeqs ?? []).includes(seq) || (m.mentionSeqs?.length ?? 0) >= cap) return false;
      return (await Membership.updateOne({ _id }, { $addToSet: { mentionSeqs: seq } }).exec()).modifiedCount > 0;
    },

    /** Moves lastDeliveredSeq forward only (a delivery checkpoint; no match once the member left). */
    advanceDelivered: (roomId: string, userId: string, seq: number) =>
      Membership.updateOne({ _id: membershipId(roomId, userId) }, { $max: { lastDeliveredSeq: seq } }).exec(),

    /** Scans (or, on MongoDB, reads the by_user index): for repairs, never the hot paths (use userRooms). */
    roomIdsOf: async (userId: string): Promise<string[]> =>
      (await Membership.find({ userId }, { roomId: 1 }).lean<Pick<MembershipDoc, 'roomId'>[]>().exec()).map((m) => m.roomId),

    ofUserInRooms: (userId: string, roomIds: string[]) =>
      findByIds(Membership, roomIds.map((r) => membershipId(r, userId)), lookup),

    /** Members in join order, keyset on (joinedAt, _id). */
    pageByRoom(roomId: string, after: JoinedCursor | null, limit: number) {
      const filter: Record<string, unknown> = { roomId };
      if (after) filter.$or = [{ joinedAt: { $gt: after.at } }, { joinedAt: after.at, _id: { $gt: after.id } }];
      return Membership.find(filter).sort({ joinedAt: 1, _id: 1 }).limit(limit).lean<MembershipDoc[]>().exec();
    },

    /** Who inherits ownership when `userId` leaves: the oldest admin, else the oldest member. */
    async successorExcept(roomId: string, userId: string): Promise<MembershipDoc | null> {
      const others = { roomId, userId: { $ne: userId } };
      const admin = await Membership.findOne({ ...others, role: 'admin' }).sort({ joinedAt: 1, _id: 1 }).lean<MembershipDoc>().exec();
      return admin ?? Membership.findOne(others).sort({ joinedAt: 1, _id: 1 }).lean<MembershipDoc>().exec();
    },
    userIdsOf: async (roomId: string): Promise<string[]> =>
      (await Membership.find({ roomId }, { userId: 1 }).lean<Pick<MembershipDoc, 'userId'>[]>().exec()).map((m) => m.userId),
  };
}
export type MembershipsRepository = ReturnType<typeof membershipsRepository>;
