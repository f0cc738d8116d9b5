// All repositories over one set of models: what services receive.
import type { Models } from '../models';
import { blocksRepository } from './blocks.repository';
import { membershipsRepository } from './memberships.repository';
import { messagesRepository } from './messages.repository';
import { moderationRepository } from './moderation.repository';
import { roomAccessRepository } from './room-access.repository';
import { roomsRepository } from './rooms.repository';
import { threadsRepository } from './threads.repository';
import { userRoomsRepository } from './user-rooms.repository';
import { usersRepository } from './users.repository';
import { usernameBucketsRepository } from './username-buckets.repository';
import type { LookupOptions } from './by-ids';
import { createWriteGate, type WriteGate } from '../write-gate';

/**
 * `pointLookups`: read lists of _ids one by one (FerretDB), not with `$in` (see by-ids.ts).
 * `writeGate`: the message inserts take turns with the other high-volume writes (write-gate.ts).
 */
export function createRepositories(models: Models, lookup: LookupOptions = { pointLookups: false }, writeGate: WriteGate = createWriteGate(false)) {
  return {
    users: usersRepository(models, lookup),
    usernameBuckets: usernameBucketsRepository(models),
    rooms: roomsRepository(models, lookup),
    memberships: membershipsRepository(models, lookup),
    userRooms: userRoomsRepository(models),
    roomAccess: roomAccessRepository(models),
    messages: messagesRepository(models, lookup, writeGate),
    threads: threadsRepository(models),
    blocks: blocksRepository(models),
    moderation: moderationRepository(models, lookup),
  };
}
export type Repositories = ReturnType<typeof createRepositories>;
