// All repositories over one set of models: what services receive.
import type { Models } from '../models';
import { membershipsRepository } from './memberships.repository';
import { messagesRepository } from './messages.repository';
import { roomAccessRepository } from './room-access.repository';
import { roomsRepository } from './rooms.repository';
import { usersRepository } from './users.repository';

export function createRepositories(models: Models) {
  return {
    users: usersRepository(models),
    rooms: roomsRepository(models),
    memberships: membershipsRepository(models),
    roomAccess: roomAccessRepository(models),
    messages: messagesRepository(models),
  };
}
export type Repositories = ReturnType<typeof createRepositories>;
