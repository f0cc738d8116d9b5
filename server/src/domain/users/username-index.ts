// Username prefix search, in the form the database serves well: on MongoDB one range over
// the unique `usernameKey` index; on the embedded database (FerretDB: only `_id` is indexed)
// one `_id` read of the prefix's bucket and `_id` lookups of the page's users. The buckets
// are an index of the users, written before the user (so every user is findable) and
// cleaned when the insert fails; an entry whose user does not exist is skipped.
import type { UserDto } from '../../contracts/dto';
import { SEARCH_LIMITS } from '../../contracts/schemas/user.schemas';
import type { DocLock } from '../../data/doc-lock';
import { lockKeys } from '../../data/lock-keys';
import type { Repositories } from '../../data/repositories';
import { bucketOf } from '../../data/repositories/username-buckets.repository';
import { errors } from '../../errors';
import { toUserDto } from '../mappers';
import type { Page } from '../../contracts/dto';

export interface UsernameIndexDeps {
  repos: Repositories;
  docLock: DocLock;
  /** Keep and read the buckets (the embedded database); else range queries. */
  buckets: boolean;
}

const KEY = /^[a-z0-9_.-]{1,32}$/;

/** The cursor is the last lower-cased username of the page, opaque to clients. */
export const encodeSearchCursor = (usernameKey: string) => Buffer.from(usernameKey, 'utf8').toString('base64url');

export function decodeSearchCursor(cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (KEY.test(key) && encodeSearchCursor(key) === cursor) return key;
  throw errors.validation([{ path: '/cursor', message: 'invalid cursor' }], 'invalid cursor');
}

export function createUsernameIndex({ repos, docLock, buckets }: UsernameIndexDeps) {
  const inBucket = <T>(usernameKey: string, fn: () => Promise<T>) => docLock.run(lockKeys.usernameBucket(bucketOf(usernameKey)), fn);

  return {
    /** Before inserting a user: list it, so no stored user is ever missing from search. */
    async adding(usernameKey: string, userId: string): Promise<void> {
      if (buckets) await inBucket(usernameKey, () => repos.usernameBuckets.add(usernameKey, userId));
    },
    /** The insert failed (name taken, or an error): unlist it again, best effort. */
    async notAdded(usernameKey: string, userId: string): Promise<void> {
      if (buckets) await inBucket(usernameKey, () => repos.usernameBuckets.remove(usernameKey, userId)).catch(() => undefined);
    },

    /**
     * Candidate user ids of exact (lower-cased) usernames: on the embedded database one `_id`
     * read per distinct bucket. A bucket entry left by a failed registration names an id that
     * has no user (so no membership either): callers filter by membership.
     */
    async candidates(keys: string[]): Promise<Array<{ k: string; id: string }>> {
      if (!buckets) return repos.users.idsByUsernameKeys(keys);
      const wanted = new Set(keys);
      const bucketIds = [...new Set(keys.map(bucketOf))];
      const entries = (await Promise.all(bucketIds.map((b) => repos.usernameBuckets.get(b)))).flat();
      return entries.filter((e) => wanted.has(e.k));
    },

    /** Users whose username starts with `prefix` (any case), by lower-cased username. */
    async search(input: { prefix: string; cursor?: string; limit?: number }): Promise<Page<UserDto>> {
      const prefix = input.prefix.toLowerCase();
      const after = decodeSearchCursor(input.cursor);
      const limit = input.limit ?? SEARCH_LIMITS.defaultLimit;
      if (!buckets) {
        const docs = await repos.users.searchByPrefix(prefix, after, limit + 1);
        const page = docs.slice(0, limit);
        return { items: page.map(toUserDto), nextCursor: docs.length > limit ? encodeSearchCursor(page[page.length - 1].usernameKey) : null };
      }
      const matches = (await repos.usernameBuckets.get(bucketOf(prefix)))
        .filter((e) => e.k.startsWith(prefix) && (after === null || e.k > after))
        .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
      const page = matches.slice(0, limit);
      const users = new Map((await repos.users.findByIdsIndexed(page.map((e) => e.id))).map((u) => [u._id, u]));
      // An entry left by a failed registration names no user (or a user under another name): skipped.
      const items = page.flatMap((e) => {
        const u = users.get(e.id);
        return u && u.usernameKey === e.k ? [toUserDto(u)] : [];
      });
      return { items, nextCursor: matches.length > limit ? encodeSearchCursor(page[page.length - 1].k) : null };
    },
  };
}
export type UsernameIndex = ReturnType<typeof createUsernameIndex>;
