// Registration, login and profile lookup. Usernames are unique case-insensitively
// (stored as typed, compared lower-cased). Both account entry points are defended here:
// login throttling, registration limits, username and password policies (docs/reliability.md).
import type { UserDto } from '../../contracts/dto';
import type { Repositories } from '../../data/repositories';
import { newId } from '../../data/ids';
import { AppError, errors } from '../../errors';
import type { LoginThrottle } from '../auth/login-throttle';
import type { TokenService } from '../auth/token.service';
import { toUserDto } from '../mappers';
import type { DomainEvents } from '../events';
import type { Limiter } from '../../data/rate-limit.store';
import { DUMMY_HASH, hashPassword, verifyPassword } from './password';
import { passwordProblem } from './password-policy';
import type { UsernamePolicy } from './username-policy';
import type { UsernameIndex } from './username-index';

export interface Session {
  user: UserDto;
  token: string;
}

/** Who is asking, as the transport saw it: the client address (behind TRUST_PROXY_HOPS proxies). */
export interface ClientContext {
  address: string;
}

export interface UserServiceDeps {
  repos: Repositories;
  tokens: TokenService;
  events: DomainEvents;
  loginThrottle: LoginThrottle;
  /** Registrations per client address, and for the whole deployment. */
  registerLimits: { perAddress: Limiter; global: Limiter };
  usernames: UsernamePolicy;
  /** Username search's index: told of a user before it is stored. */
  usernameIndex: Pick<UsernameIndex, 'adding' | 'notAdded'>;
  /** Operator suspensions (data/revocation.store.ts): a suspended user gets no new token. */
  isSuspended?: (userId: string) => boolean;
}

const GLOBAL_KEY = 'all';

export function createUserService({ repos, tokens, events, loginThrottle, registerLimits, usernames, usernameIndex, isSuspended }: UserServiceDeps) {
  const session = (user: UserDto): Session => ({ user, token: tokens.issue(user.id).token });

  /** Policy refusals are cheap and say nothing about other accounts: checked before any limit. */
  function checkPolicies(input: { username: string; password: string }): void {
    const problems: Array<{ path: string; message: string }> = [];
    if (usernames.reservedMatch(input.username)) problems.push({ path: '/username', message: 'is reserved' });
    const weak = passwordProblem(input.password, input.username);
    if (weak) problems.push({ path: '/password', message: `is ${weak}` });
    if (problems.length > 0) throw errors.validation(problems, problems.length === 1 && problems[0].path === '/username' ? 'username is reserved' : 'username or password not allowed');
  }

  async function consumeRegistration(address: string): Promise<void> {
    await registerLimits.perAddress.consume(address);
    try {
      await registerLimits.global.consume(GLOBAL_KEY);
    } catch (err) {
      await registerLimits.perAddress.refund(address);
      throw err;
    }
  }

  return {
    async register(input: { username: string; password: string; displayName?: string }, client: ClientContext): Promise<Session> {
      if (!tokens.canIssue) throw new AppError('FORBIDDEN', 'registration is disabled: tokens come from an external issuer');
      checkPolicies(input);
      // Counted before the name is looked up: probing which names are taken costs the same.
      await consumeRegistration(client.address);
      const doc = {
        _id: newId(),
        username: input.username,
        usernameKey: input.username.toLowerCase(),
        displayName: input.displayName ?? input.username,
        passwordHash: await hashPassword(input.password),
        createdAt: new Date(),
      };
      await usernameIndex.adding(doc.usernameKey, doc._id);
      let created: boolean;
      try {
        created = await repos.users.create(doc);
      } catch (err) {
        await usernameIndex.notAdded(doc.usernameKey, doc._id);
        throw err;
      }
      if (!created) {
        await usernameIndex.notAdded(doc.usernameKey, doc._id);
        throw errors.conflict('username is taken');
      }
      return session(toUserDto({ ...doc, lastSeenAt: null }));
    },

    async login(input: { username: string; password: string }, client: ClientContext): Promise<Session> {
      const account = input.username.toLowerCase();
      // Known and unknown names take the same path (same counters, same hash work, same answers).
      const attempt = await loginThrottle.begin(account, client.address);
      let user: Awaited<ReturnType<Repositories['users']['findByUsernameKey']>>;
      let ok: boolean;
      try {
        user = await repos.users.findByUsernameKey(account);
        ok = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_HASH);
      } catch (err) {
        await attempt.abandoned();
        throw err;
      }
      if (user && ok) {
        await attempt.succeeded();
        // Told only to whoever knows the password: the token would be refused anyway.
        if (isSuspended?.(user._id)) throw new AppError('FORBIDDEN', 'this account is suspended', { reason: 'SUSPENDED' });
        return session(toUserDto(user));
      }
      const blocks = await attempt.failed();
      for (const block of blocks) {
        // Not awaited: the answer must not take longer when a block is announced.
        void events.publish('auth.suspicious', { ...block, username: account, userId: user?._id ?? null, address: client.address }).catch(() => undefined);
      }
      throw errors.unauthorized('wrong username or password');
    },

    async get(userId: string): Promise<UserDto> {
      const user = await repos.users.findById(userId);
      if (!user) throw errors.notFound('user');
      return toUserDto(user);
    },
  };
}
export type UserService = ReturnType<typeof createUserService>;
