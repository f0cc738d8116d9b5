// Profiles (extension): a user changes its display name, avatar URL and status line, and
// everyone who shares a room with it hears `user:updated`; users find others by username
// prefix to start a DM. Both transports (PATCH /users/me, user:update; GET /users,
// user:search) call this service.
import type { Page, ProfilePatch, UserDto } from '../../contracts/dto';
import type { DocLock } from '../../data/doc-lock';
import { lockKeys } from '../../data/lock-keys';
import type { Limiter } from '../../data/rate-limit.store';
import type { Repositories } from '../../data/repositories';
import type { ProfileWrite } from '../../data/repositories/users.repository';
import { errors } from '../../errors';
import { toUserDto } from '../mappers';
import type { Notifier } from '../notifier';
import type { UsernameIndex } from './username-index';

export interface ProfileServiceDeps {
  repos: Repositories;
  docLock: DocLock;
  notifier: Notifier;
  /** The user's room ids (cached): whom a profile change is announced to. */
  roomsOf(userId: string): Promise<readonly string[]>;
  usernames: UsernameIndex;
  /** Profile updates per user (each one is announced to all of the user's rooms). */
  updateLimiter: Limiter;
  /** Searches per user. */
  searchLimiter: Limiter;
}

/** An https URL with a host and no credentials, or a VALIDATION_FAILED naming the field. */
function checkAvatarUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw errors.validation([{ path: '/avatarUrl', message: 'must be an https URL' }], 'invalid avatarUrl');
  }
  if (url.protocol !== 'https:' || !url.hostname) throw errors.validation([{ path: '/avatarUrl', message: 'must be an https URL' }], 'invalid avatarUrl');
  if (url.username || url.password) throw errors.validation([{ path: '/avatarUrl', message: 'must not contain credentials' }], 'invalid avatarUrl');
  return value;
}

/** The validated patch as a write: trimmed; a blank status or a null field removes it. */
export function toProfileWrite(patch: ProfilePatch): ProfileWrite {
  const write: ProfileWrite = { set: {}, unset: [] };
  if (patch.displayName !== undefined) {
    const name = patch.displayName.trim();
    if (name.length === 0) throw errors.validation([{ path: '/displayName', message: 'must not be blank' }], 'invalid displayName');
    write.set.displayName = name;
  }
  if (patch.avatarUrl === null) write.unset.push('avatarUrl');
  else if (patch.avatarUrl !== undefined) write.set.avatarUrl = checkAvatarUrl(patch.avatarUrl);
  if (patch.statusText !== undefined) {
    const status = patch.statusText?.trim() ?? '';
    if (status.length === 0) write.unset.push('statusText');
    else write.set.statusText = status;
  }
  return write;
}

export function createProfileService({ repos, docLock, notifier, roomsOf, usernames, updateLimiter, searchLimiter }: ProfileServiceDeps) {
  return {
    /** Changes the caller's profile; announces it to its rooms and its own sockets. */
    async update(userId: string, patch: ProfilePatch): Promise<UserDto> {
      const write = toProfileWrite(patch);
      await updateLimiter.consume(userId);
      // FerretDB applies the update as read-modify-write: two nodes patching one user take turns.
      const doc = await docLock.run(lockKeys.user(userId), () => repos.users.updateProfile(userId, write));
      if (!doc) throw errors.notFound('user');
      const user = toUserDto(doc);
      notifier.userUpdated([...(await roomsOf(userId))], user);
      return user;
    },

    /** Users by username prefix; any signed-in user may search (usernames are public). */
    async search(userId: string, query: { prefix: string; cursor?: string; limit?: number }): Promise<Page<UserDto>> {
      await searchLimiter.consume(userId);
      return usernames.search(query);
    },
  };
}
export type ProfileService = ReturnType<typeof createProfileService>;
