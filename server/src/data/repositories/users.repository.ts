// Users: the only code that reads or writes the users collection.
import type { Models, UserDoc } from '../models';
import { isDuplicateKey } from '../ids';

export type NewUser = Omit<UserDoc, 'lastSeenAt'>;

export function usersRepository({ User }: Models) {
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
    findById: (id: string) => User.findById(id).lean<UserDoc>().exec(),
    findByIds: (ids: string[]) => User.find({ _id: { $in: ids } }, { passwordHash: 0 }).lean<UserDoc[]>().exec(),
    exists: async (id: string) => (await User.exists({ _id: id })) !== null,
    setLastSeen: (id: string, at: Date) => User.updateOne({ _id: id }, { $set: { lastSeenAt: at } }).exec(),
  };
}
export type UsersRepository = ReturnType<typeof usersRepository>;
