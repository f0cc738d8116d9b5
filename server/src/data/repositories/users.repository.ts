// Users: the only code that reads or writes the users collection.
import type { Models, UserDoc } from '../models';
import { isDuplicateKey } from '../ids';
import { findByIds, type LookupOptions } from './by-ids';

export type NewUser = Omit<UserDoc, 'lastSeenAt'>;

/** What a profile update sets, and which optional fields it removes. */
export interface ProfileWrite {
  set: Partial<Pick<UserDoc, 'displayName' | 'avatarUrl' | 'statusText'>>;
  unset: Array<'avatarUrl' | 'statusText'>;
}

/** Everything but the password hash: what reads for other users' profiles need. */
const PUBLIC = { passwordHash: 0 } as const;

export function usersRepository({ User }: Models, lookup: LookupOptions = { pointLookups: false }) {
  return {
    /** Inserts; resolves false when the username is taken. */
    async create(user: NewUser): Promise<boolean> {
      try {
        await User.create({ ...user, lastSeenAt: null });
        return true;
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
    },
    findByUsernameKey: (usernameKey: string) => User.findOne({ usernameKey }).lean<UserDoc>().exec(),
    /** Ids of the users with these username keys: one read of the unique index (MongoDB; it scans on FerretDB). */
    idsByUsernameKeys: async (keys: string[]): Promise<Array<{ k: string; id: string }>> =>
      keys.length === 0
        ? []
        : (await User.find({ usernameKey: { $in: keys } }, { usernameKey: 1 }).lean<Pick<UserDoc, '_id' | 'usernameKey'>[]>().exec()).map((u) => ({ k: u.usernameKey, id: u._id })),
    findById: (id: string) => User.findById(id).lean<UserDoc>().exec(),
    findByIds: (ids: string[]) => User.find({ _id: { $in: ids } }, PUBLIC).lean<UserDoc[]>().exec(),
    /** Users by id in the form the database serves from its `_id` index (one by one on FerretDB). */
    findByIdsIndexed: (ids: string[]) => findByIds<UserDoc>(User, ids, lookup),
    exists: async (id: string) => (await User.exists({ _id: id })) !== null,
    setLastSeen: (id: string, at: Date) => User.updateOne({ _id: id }, { $set: { lastSeenAt: at } }).exec(),

    /** Applies a profile change by `_id`; resolves the updated user, or null if there is none. */
    updateProfile(id: string, { set, unset }: ProfileWrite): Promise<UserDoc | null> {
      const update: Record<string, unknown> = {};
      if (Object.keys(set).length > 0) update.$set = set;
      if (unset.length > 0) update.$unset = Object.fromEntries(unset.map((f) => [f, 1]));
      return User.findOneAndUpdate({ _id: id }, update, { new: true }).lean<UserDoc>().exec();
    },

    /**
     * Users whose lower-cased username starts with `prefix`, ascending, after `afterKey`: one
     * range over the unique `usernameKey` index (MongoDB). On the embedded database this scans
     * every user; there the search reads the username buckets instead.
     */
    searchByPrefix(prefix: string, afterKey: string | null, limit: number): Promise<UserDoc[]> {
      const lower = afterKey !== null && afterKey >= prefix ? { $gt: afterKey } : { $gte: prefix };
      return User.find({ usernameKey: { ...lower, $lt: `${prefix}\uffff` } }, PUBLIC)
        .sort({ usernameKey: 1 })
        .limit(limit)
        .lean<UserDoc[]>()
        .exec();
    },
  };
}
export type UsersRepository = ReturnType<typeof usersRepository>;
