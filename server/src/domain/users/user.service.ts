// Registration, login and profile lookup. Usernames are unique case-insensitively
// (stored as typed, compared lower-cased).
import type { UserDto } from '../../contracts/dto';
import type { Repositories } from '../../data/repositories';
import { newId } from '../../data/ids';
import { AppError, errors } from '../../errors';
import type { TokenService } from '../auth/token.service';
import { toUserDto } from '../mappers';
import { DUMMY_HASH, hashPassword, verifyPassword } from './password';

export interface Session {
  user: UserDto;
  token: string;
}

export function createUserService(repos: Repositories, tokens: TokenService) {
  const session = (user: UserDto): Session => ({ user, token: tokens.issue(user.id).token });

  return {
    async register(input: { username: string; password: string; displayName?: string }): Promise<Session> {
      if (!tokens.canIssue) throw new AppError('FORBIDDEN', 'registration is disabled: tokens come from an external issuer');
      const doc = {
        _id: newId(),
        username: input.username,
        usernameKey: input.username.toLowerCase(),
        displayName: input.displayName ?? input.username,
        passwordHash: await hashPassword(input.password),
        createdAt: new Date(),
      };
      if (!(await repos.users.create(doc))) throw errors.conflict('username is taken');
      return session(toUserDto({ ...doc, lastSeenAt: null }));
    },

    async login(input: { username: string; password: string }): Promise<Session> {
      const user = await repos.users.findByUsernameKey(input.username.toLowerCase());
      const ok = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_HASH);
      if (!user || !ok) throw errors.unauthorized('wrong username or password');
      return session(toUserDto(user));
    },

    async get(userId: string): Promise<UserDto> {
      const user = await repos.users.findById(userId);
      if (!user) throw errors.notFound('user');
      return toUserDto(user);
    },
  };
}
export type UserService = ReturnType<typeof createUserService>;
