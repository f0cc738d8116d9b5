// All repositories over one set of models: what services receive.
import type { Models } from '../models';
import { membershipsRepository } from './memberships.repository';
import { messagesRepository, type PageStrategy } from './messages.repository';
import { roomAccessRepository } from './room-access.repository';
import { roomsRepository } from './rooms.repository';
import { usersRepository } from './users.repository';

/** `points` for servers that only look up by _id efficiently (FerretDB); see messages.repository. */
export function createRepositories(models: Models, pageStrategy: PageStrategy = 'range') {
  return {
    users: usersRepository(models),
    rooms: roomsRepository(models),
    memberships: membershipsRepository(models),
    roomAccess: roomAccessRepository(models),
    messages: messagesRepository(models, pageStrategy),
  };
}
export type Repositories = ReturnType<typeof createRepositories>;
