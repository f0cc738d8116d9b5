// Username buckets (UsernameBucketDoc): prefix search on the embedded database reads one
// bucket by `_id`. Written only through domain/users/username-index.ts (under the bucket's
// doc lock: FerretDB applies $addToSet/$pull as read-modify-write); built from the users
// by the one-off migration.
import type { Models, UsernameBucketDoc } from '../models';
import { isDuplicateKey } from '../ids';

export const USERNAME_BUCKETS_MIGRATION = 'username-buckets-v1';
/** Bucket key length: the shortest search prefix (and the shortest username). */
export const BUCKET_CHARS = 3;
const BATCH = 1000;

export const bucketOf = (usernameKey: string) => usernameKey.slice(0, BUCKET_CHARS);

export function usernameBucketsRepository({ UsernameBuckets, User, Migration }: Models) {
  return {
    async get(bucket: string): Promise<UsernameBucketDoc['entries']> {
      const doc = await UsernameBuckets.findById(bucket).lean<UsernameBucketDoc>().exec();
      return doc?.entries ?? [];
    },
    add: (usernameKey: string, id: string) =>
      UsernameBuckets.updateOne({ _id: bucketOf(usernameKey) }, { $addToSet: { entries: { k: usernameKey, id } } }, { upsert: true }).exec(),
    // The whole entry, fields in the order add wrote them: FerretDB's $pull matches values, not conditions.
    remove: (usernameKey: string, id: string) => UsernameBuckets.updateOne({ _id: bucketOf(usernameKey) }, { $pull: { entries: { k: usernameKey, id } } }).exec(),

    /**
     * Builds the buckets from the users, once per database (a marker document records it):
     * one scan of the users. Buckets a live node created meanwhile get the scanned entries
     * merged in. Resolves the number of users indexed, or null if it had already run.
     */
    async migrate(): Promise<number | null> {
      if (await Migration.findById(USERNAME_BUCKETS_MIGRATION).lean().exec()) return null;
      const buckets = new Map<string, Array<{ k: string; id: string }>>();
      let users = 0;
      for await (const u of User.find({}, { usernameKey: 1 }).lean<{ _id: string; usernameKey: string }[]>().cursor({ batchSize: 5000 })) {
        const entry = { k: u.usernameKey, id: u._id };
        const list = buckets.get(bucketOf(u.usernameKey));
        if (list) list.push(entry);
        else buckets.set(bucketOf(u.usernameKey), [entry]);
        users++;
      }
      const all = [...buckets];
      for (let i = 0; i < all.length; i += BATCH) {
        const batch = all.slice(i, i + BATCH);
        const existing: Array<[string, Array<{ k: string; id: string }>]> = [];
        try {
          await UsernameBuckets.insertMany(batch.map(([_id, entries]) => ({ _id, entries })), { ordered: false, rawResult: false });
        } catch (err) {
          const writeErrors = (err as { writeErrors?: Array<{ index?: number; err?: { index?: number; code?: number }; code?: number }> }).writeErrors;
          if (!writeErrors && !isDuplicateKey(err)) throw err;
          for (const we of writeErrors ?? []) {
            if ((we.code ?? we.err?.code) !== 11000) throw err;
            existing.push(batch[we.index ?? we.err?.index ?? -1]);
          }
        }
        for (const [bucket, entries] of existing.filter(Boolean)) {
          await UsernameBuckets.updateOne({ _id: bucket }, { $addToSet: { entries: { $each: entries } } }).exec();
        }
      }
      await Migration.updateOne({ _id: USERNAME_BUCKETS_MIGRATION }, { $setOnInsert: { at: new Date() } }, { upsert: true }).exec();
      return users;
    },
  };
}
export type UsernameBucketsRepository = ReturnType<typeof usernameBucketsRepository>;
