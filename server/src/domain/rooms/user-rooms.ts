// A user's rooms, for connect, room:list and presence: one `_id` read of the user's list
// (UserRoomsDoc) or a cache hit, instead of a query of the memberships by user (a scan of
// every membership on the embedded database). The memberships stay the authority; the list
// is an index of them, and every membership insert or delete goes through here so that it
// is written in this order (list writes serialised per user by the doc lock):
//   add:    insert membership -> add to list -> re-read membership; if gone, remove from list
//   remove: remove from list -> delete membership -> remove from list again
// Whatever interleaves (a join racing a kick on two nodes), once these settle the list
// names no room the user is not a member of: a room is listed only by an add whose re-read
// came after it, and a delete is followed by a removal. A crash between two steps can only
// leave a member's room unlisted (or, in the add-vs-delete race, listed until the next
// read that verifies it); see docs/architecture.md "A user's rooms" for how each is repaired.
import type { Repositories } from '../../data/repositories';
import type { DocLock } from '../../data/doc-lock';
import { lockKeys } from '../../data/lock-keys';
import type { UserRoomsCache } from '../user-rooms-cache';

export interface UserRoomsDeps {
  repos: Repositories;
  docLock: DocLock;
  cache: UserRoomsCache;
}

export function createUserRooms({ repos, docLock, cache }: UserRoomsDeps) {
  // Every list write holds the user's doc lock (FerretDB applies $addToSet/$pull as
  // read-modify-write) and is followed by a cache invalidation on every node.
  const writeList = async (userId: string, write: () => Promise<unknown>): Promise<void> => {
    try {
      await docLock.run(lockKeys.userRooms(userId), write);
    } finally {
      cache.forget(userId);
    }
  };
  const unlist = (roomId: string, userId: string) => writeList(userId, () => repos.userRooms.remove(userId, roomId));
  const list = (roomId: string, userId: string) => writeList(userId, () => repos.userRooms.add(userId, roomId));

  return {
    cache,

    /** The user's room ids: the cached list, else one `_id` read. */
    async of(userId: string): Promise<readonly string[]> {
      const hit = cache.get(userId);
      if (hit) return hit;
      const stamp = cache.stamp(userId);
      const roomIds = (await repos.userRooms.get(userId)) ?? [];
      cache.set(userId, roomIds, stamp);
      return roomIds;
    },

    /** Call after inserting the membership (roomId, userId). */
    async added(roomId: string, userId: string): Promise<void> {
      await list(roomId, userId);
      // A leave or kick on another node may have deleted it before our add landed.
      if (!(await repos.memberships.get(roomId, userId))) await unlist(roomId, userId);
    },

    /** Deletes the membership, unlisting it around the delete; resolves whether it existed. */
    async remove(roomId: string, userId: string): Promise<boolean> {
      await unlist(roomId, userId);
      const removed = await repos.memberships.remove(roomId, userId);
      await unlist(roomId, userId);
      return removed;
    },

    /**
     * Repairs the list for one room after a read found it disagreeing with the membership
     * (`isMember` is what was just read): lists a member's missing room, unlists a room the
     * user is not in. Re-reads the membership under the lock, so a racing join or leave wins.
     */
    async repair(roomId: string, userId: string, isMember: boolean): Promise<void> {
      const listed = (await this.of(userId)).includes(roomId);
      if (listed === isMember) return;
      await docLock.run(lockKeys.userRooms(userId), async () => {
        const member = (await repos.memberships.get(roomId, userId)) !== null;
        if (member) await repos.userRooms.add(userId, roomId);
        else await repos.userRooms.remove(userId, roomId);
      }).finally(() => cache.forget(userId));
    },
  };
}
export type UserRooms = ReturnType<typeof createUserRooms>;
