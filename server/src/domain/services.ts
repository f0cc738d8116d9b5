// The domain services that both transports (socket handlers, REST routes) call, built from
// the data layer and the interfaces the domain owns (Notifier, DomainEvents, Peers).
import type { Deps } from '../deps';
import type { MessageDto } from '../contracts/dto';
import type { Data } from '../data/open-data';
import { FERRETDB_ID_LOOKUPS_INDEXED } from '../data/mongo';
import type { PresenceStore } from '../data/presence.store';
import { createAttemptCounter, createLimiter } from '../data/rate-limit.store';
import { createAccess } from './access';
import { createLoginThrottle } from './auth/login-throttle';
import { toMessageDto } from './mappers';
import { MembershipCache } from './membership-cache';
import { HistoryCache } from './messages/history-cache';
import { createHistoryReader, type HistoryReader } from './messages/history-reader';
import { createDeliveryService, type DeliveryService } from './messages/delivery.service';
import { createMessageService, type MessageService } from './messages/message.service';
import { createMentions } from './messages/mentions';
import type { DomainEvents } from './events';
import type { Notifier } from './notifier';
import type { Peers } from './peers';
import { createPresenceService, type PresenceService } from './presence/presence.service';
import { createRoomService, type RoomService } from './rooms/room.service';
import { createUserRooms, type UserRooms } from './rooms/user-rooms';
import { createTypingService, type TypingService } from './typing/typing.service';
import { UserRoomsCache } from './user-rooms-cache';
import { createUserService, type UserService, type UserServiceDeps } from './users/user.service';
import { createUsernamePolicy } from './users/username-policy';
import { createProfileService, type ProfileService } from './users/profile.service';
import { createSlowModeGate } from '../data/slow-mode.store';
import { createAuditLog, type AuditLog } from './moderation/audit-log';
import { createFlagsService, type FlagsService } from './moderation/flags.service';
import { createModerationService, type ModerationService } from './moderation/moderation.service';
import { createSendGate } from './moderation/send-gate';
import { createUsernameIndex } from './users/username-index';
import { BlockCache, createBlockService, type BlockService } from './users/blocks';

export interface Services {
  users: UserService;
  profiles: ProfileService;
  rooms: RoomService;
  messages: MessageService;
  /** Extension (delivery receipts). */
  delivery: DeliveryService;
  presence: PresenceService;
  typing: TypingService;
  blocks: BlockService;
  moderation: ModerationService;
  flags: FlagsService;
}

/** User blocks: built before the emitter, which filters deliveries with them (blocks.filter). */
export function createBlocks(deps: Pick<Deps, 'config' | 'redis'>, data: Data, peers: Peers): { service: BlockService; cache: BlockCache } {
  const { config, redis } = deps;
  const cache = new BlockCache(peers);
  const limiter = createLimiter(redis, { keyPrefix: `${config.redisKeyPrefix}blocks`, points: config.limits.blockChangesPerWindow, windowMs: config.limits.blockWindowMs });
  return { cache, service: createBlockService({ repos: data.repos, docLock: data.docLock, cache, limiter, maxBlocked: config.limits.maxBlocked }) };
}

export interface History {
  reader: HistoryReader;
  /** Newest history pages; edits, deletes and reactions reach the other nodes' through peers. */
  cache: HistoryCache;
  /** Stored messages of a room, fromSeq..toSeq ascending, as sent to clients (fills delivery gaps). */
  storedRange(roomId: string, fromSeq: number, toSeq: number): Promise<MessageDto[]>;
}

/** History reads: range queries or `_id` lookups (by database), and the newest-page cache. */
export function createHistory(deps: Pick<Deps, 'config' | 'log' | 'metrics'>, data: Data, peers: Peers): History {
  const { cacheRooms } = deps.config.history;
  const cache = new HistoryCache(cacheRooms, peers);
  // auto: `_id` lookups where the database cannot range-scan an index but serves `_id` from one.
  const reads = deps.config.history.reads === 'auto' ? (data.ferret && FERRETDB_ID_LOOKUPS_INDEXED ? 'points' : 'range') : deps.config.history.reads;
  const reader = createHistoryReader(data.repos, reads, cacheRooms > 0 ? cache : null, (source) => deps.metrics.historyPages.inc({ source }));
  deps.log.info({ historyReads: reads, historyCacheRooms: cacheRooms }, 'history reads');
  return {
    reader,
    cache,
    async storedRange(roomId, fromSeq, toSeq) {
      const docs = await reader.inRange(roomId, fromSeq, toSeq);
      // Already edited: its content is newer than a message:new, so it is not cached as one.
      for (const d of docs) if ((d.v ?? 0) > 0) cache.loadedUpdated(roomId, d.seq);
      return docs.map(toMessageDto);
    },
  };
}

export interface DomainDeps {
  deps: Pick<Deps, 'config' | 'log' | 'metrics' | 'redis' | 'tokens' | 'admission'>;
  data: Data;
  history: History;
  notifier: Notifier;
  events: DomainEvents;
  presenceStore: PresenceStore;
  peers: Peers;
  /** From createBlocks. */
  blocks: BlockService;
  /** Operator suspensions (the revocation store): login refuses a suspended user. */
  isSuspended?: (userId: string) => boolean;
}

export interface Domain {
  services: Services;
  /** Each user's room ids (connect, room:list, presence); its cache is invalidated across nodes. */
  userRooms: UserRooms;
  /** Who is a member of which room, per node; invalidated across nodes. */
  membershipCache: MembershipCache;
  /** Rooms' audit logs: `record()` is how other areas log a moderation action. */
  audit: AuditLog;
  /** Stops the services' timers. */
  close(): void;
}

/** Login throttle, registration limits and username policy from config.accounts (cluster-wide with Redis). */
function accountDefences({ config, redis }: Pick<Deps, 'config' | 'redis'>): Pick<UserServiceDeps, 'loginThrottle' | 'registerLimits' | 'usernames'> {
  const { login, register, reservedUsernames } = config.accounts;
  const prefix = config.redisKeyPrefix;
  const loginThrottle = createLoginThrottle(
    {
      accounts: createAttemptCounter(redis, { keyPrefix: `${prefix}login:account`, points: login.accountMaxFailures, windowMs: login.windowMs }),
      addresses: createAttemptCounter(redis, { keyPrefix: `${prefix}login:address`, points: login.addressMaxFailures, windowMs: login.windowMs }),
      delays: createAttemptCounter(redis, { keyPrefix: `${prefix}login:delay`, points: 1, windowMs: login.delayMaxMs }),
    },
    login,
  );
  return {
    loginThrottle,
    registerLimits: {
      perAddress: createLimiter(redis, { keyPrefix: `${prefix}register:address`, points: register.perAddress, windowMs: register.addressWindowMs, scope: 'address' }),
      global: createLimiter(redis, { keyPrefix: `${prefix}register:global`, points: register.global, windowMs: register.globalWindowMs, scope: 'global' }),
    },
    usernames: createUsernamePolicy(reservedUsernames),
  };
}

export function createServices({ deps, data, history, notifier, events, presenceStore, peers, blocks, isSuspended }: DomainDeps): Domain {
  const { repos, counters, docLock } = data;
  const { config, redis } = deps;
  const { limits } = config;
  const membershipCache = new MembershipCache({ ttlMs: 30_000, peers });
  const access = createAccess(repos, membershipCache, counters);
  const userRooms = createUserRooms({ repos, docLock, cache: new UserRoomsCache({ peers }) });
  const presence = createPresenceService({
    repos,
    roomsOf: (userId) => userRooms.of(userId),
    store: presenceStore,
    notifier,
    offlineGraceMs: config.presence.offlineGraceMs,
    docLock,
    warm: blocks.warm,
  });
  const usernames = createUsernameIndex({ repos, docLock, buckets: data.ferret });
  const audit = createAuditLog({ repos, docLock });
  const delivery = createDeliveryService({
    access,
    store: data.delivery.store,
    notifier,
    updateIntervalMs: config.delivery.updateIntervalMs,
    onError: (err) => deps.log.warn({ err }, 'delivery:updated failed'),
  });
  const rooms = createRoomService({
    repos,
    access,
    notifier,
    events,
    presence,
    joinLimiter: createLimiter(redis, { keyPrefix: `${config.redisKeyPrefix}join`, points: limits.joinsPerWindow, windowMs: limits.joinWindowMs }),
    docLock,
    userRooms,
    blocks,
    audit,
    positions: (room, members) => delivery.positions(room, members),
  });
  const messages = createMessageService({
    repos,
    access,
    notifier,
    events,
    sendLimiter: createLimiter(redis, { keyPrefix: `${config.redisKeyPrefix}send`, points: limits.messagesPerWindow, windowMs: limits.messageWindowMs }),
    docLock,
    onStored: () => deps.metrics.messagesStored.inc(),
    history: history.reader,
    sendAdmission: deps.admission,
    historyCache: history.cache,
    mentions: createMentions({ repos, docLock, membershipCache, candidates: (keys) => usernames.candidates(keys) }),
    blocks,
    sendGate: createSendGate(createSlowModeGate(redis, config.redisKeyPrefix)),
    audit,
  });
  const moderation = createModerationService({ repos, access, docLock, audit, rooms });
  const services: Services = {
    users: createUserService({ repos, tokens: deps.tokens, events, usernameIndex: usernames, isSuspended, ...accountDefences(deps) }),
    profiles: createProfileService({
      repos,
      docLock,
      notifier,
      roomsOf: (userId) => userRooms.of(userId),
      usernames,
      updateLimiter: createLimiter(redis, { keyPrefix: `${config.redisKeyPrefix}profile`, points: limits.profileUpdatesPerWindow, windowMs: limits.profileWindowMs }),
      searchLimiter: createLimiter(redis, { keyPrefix: `${config.redisKeyPrefix}user-search`, points: limits.searchesPerWindow, windowMs: limits.searchWindowMs }),
    }),
    presence,
    rooms,
    messages,
    typing: createTypingService(access, notifier, config.typing, blocks.warm),
    blocks,
    moderation,
    flags: createFlagsService({
      repos,
      access,
      docLock,
      events,
      audit,
      messages,
      moderation,
      flagLimiter: createLimiter(redis, { keyPrefix: `${config.redisKeyPrefix}flag`, points: limits.flagsPerWindow, windowMs: limits.flagWindowMs }),
    }),
    delivery,
  };
  return {
    services,
    userRooms,
    membershipCache,
    audit,
    close() {
      presence.close();
      services.typing.close();
      delivery.close();
    },
  };
}
