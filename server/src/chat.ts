// Wires the chat domain into the transports: models → repositories → services →
// socket handlers and REST routers. app.ts calls buildChat once per app.
import { Router } from 'express';
import type { Deps } from './app';
import type { MessageDto } from './contracts/dto';
import { defineModels, ensureIndexes } from './data/models';
import { FERRETDB_ID_LOOKUPS_INDEXED, isFerretDb } from './data/mongo';
import { createDocLock } from './data/doc-lock';
import { createRepositories, type Repositories } from './data/repositories';
import { createMemoryPresenceStore } from './data/presence-memory.store';
import { createRoomCounters, type RoomCounters } from './data/room-counters';
import { createWriteGate } from './data/write-gate';
import { createMemoryCounterStore, createRedisCounterStore } from './data/room-counters.store';
import { createAccess } from './domain/access';
import { MembershipCache } from './domain/membership-cache';
import { toMessageDto } from './domain/mappers';
import { createMessageService } from './domain/messages/message.service';
import { HistoryCache } from './domain/messages/history-cache';
import { createHistoryReader } from './domain/messages/history-reader';
import { noDomainEvents, type DomainEvents } from './domain/notifier';
import { createPresenceService } from './domain/presence/presence.service';
import type { PresenceStore } from './domain/presence/presence.store';
import { createAttemptCounter, createLimiter } from './domain/rate-limit';
import { createLoginThrottle, type LoginThrottle } from './domain/auth/login-throttle';
import { createRoomService } from './domain/rooms/room.service';
import { createUserRooms, type UserRooms } from './domain/rooms/user-rooms';
import { UserRoomsCache } from './domain/user-rooms-cache';
import type { Services } from './domain/services';
import { createTypingService } from './domain/typing/typing.service';
import { createUserService, type UserServiceDeps } from './domain/users/user.service';
import { createUsernamePolicy } from './domain/users/username-policy';
import { authRouter } from './http/routers/auth.router';
import { roomsRouter } from './http/routers/rooms.router';
import { usersRouter } from './http/routers/users.router';
import { requireAuth } from './http/route';
import type { ConnectionHooks } from './socket/create-io';
import type { SocketHandler } from './socket/define-handler';
import { messageHandlers } from './socket/handlers/message.handlers';
import { presenceHandlers } from './socket/handlers/presence.handlers';
import { roomHandlers } from './socket/handlers/room.handlers';
import { sessionHandlers } from './socket/handlers/session.handlers';
import { MessageFanout } from './socket/message-fanout';
import { roomChannel } from './socket/room-names';
import { createSocketNotifier } from './socket/socket-notifier';
import type { AppServer } from './socket/types';

export interface Chat {
  services: Services;
  repos: Repositories;
  router: Router;
  socketHandlers: SocketHandler[];
  connectionHooks: ConnectionHooks[];
  /**
   * Called once the io server exists. `publishToPeers`, when given (cluster), sends
   * each stored message to the other nodes, which pass it to acceptPeerMessage.
   */
  attachIo(io: AppServer, publishToPeers?: (m: MessageDto) => void): Promise<void>;
  /** A message stored by another node: delivered to this node's sockets in seq order. */
  acceptPeerMessage(m: MessageDto): void;
  /** Membership changes reach the other nodes' caches through this (set by the cluster). */
  membershipCache: MembershipCache;
  /** Room lastSeq and senders' read marks, checkpointed to the database late (data/room-counters.ts). */
  counters: RoomCounters;
  /** Each user's room ids (connect, room:list, presence); its cache is invalidated across nodes. */
  userRooms: UserRooms;
  /** Newest history pages; edits, deletes and reactions reach the other nodes' through this. */
  historyCache: HistoryCache;
  /** Stops timers and background loops. */
  close(): Promise<void>;
}

export interface ChatOptions {
  events?: DomainEvents;
  presenceStore?: PresenceStore;
}

/** Login throttle, registration limits and username policy from config.accounts (cluster-wide with Redis). */
function accountDefences({ config, redis }: Deps): Pick<UserServiceDeps, 'loginThrottle' | 'registerLimits' | 'usernames'> {
  const { login, register, reservedUsernames } = config.accounts;
  const prefix = config.redisKeyPrefix;
  const loginThrottle: LoginThrottle = createLoginThrottle(
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

export async function buildChat(deps: Deps, opts: ChatOptions = {}): Promise<Chat> {
  const models = defineModels(deps.db);
  await ensureIndexes(models);
  const ferret = await isFerretDb(deps.db);
  // The embedded database has one writer: message batches and checkpoints take turns.
  const writeGate = createWriteGate(ferret);
  const repos = createRepositories(models, { pointLookups: ferret }, writeGate);
  // Lists of the rooms of users who were members before the lists existed (once per database).
  const migrated = await repos.userRooms.migrate();
  if (migrated !== null) deps.log.info({ users: migrated }, 'built the per-user room lists from the memberships');
  const docLock = createDocLock(deps.redis, ferret, deps.config.redisKeyPrefix);
  const counters = createRoomCounters({
    store: deps.redis ? createRedisCounterStore({ redis: deps.redis, keyPrefix: deps.config.redisKeyPrefix }) : createMemoryCounterStore(),
    repos,
    docLock,
    log: deps.log.child({ component: 'counters' }),
    writeGate,
    ...deps.config.counters,
  });
  const access = createAccess(repos, new MembershipCache({ ttlMs: 30_000 }), counters);
  const userRooms = createUserRooms({ repos, docLock, cache: new UserRoomsCache() });
  const notifier = createSocketNotifier(deps.metrics);
  const events = opts.events ?? noDomainEvents;
  const store = opts.presenceStore ?? createMemoryPresenceStore();
  const { limits } = deps.config;
  const historyCache = new HistoryCache(deps.config.history.cacheRooms);
  // auto: `_id` lookups where the database cannot range-scan an index but serves `_id` from one.
  const reads = deps.config.history.reads === 'auto' ? (ferret && FERRETDB_ID_LOOKUPS_INDEXED ? 'points' : 'range') : deps.config.history.reads;
  const history = createHistoryReader(repos, reads, deps.config.history.cacheRooms > 0 ? historyCache : null, (source) =>
    deps.metrics.historyPages.inc({ source }),
  );
  deps.log.info({ historyReads: reads, historyCacheRooms: deps.config.history.cacheRooms }, 'history reads');

  const presence = createPresenceService({ repos, roomsOf: (userId) => userRooms.of(userId), store, notifier, offlineGraceMs: deps.config.presence.offlineGraceMs });
  const services: Services = {
    users: createUserService({ repos, tokens: deps.tokens, events, ...accountDefences(deps) }),
    presence,
    rooms: createRoomService({
      repos,
      access,
      notifier,
      events,
      presence,
      joinLimiter: createLimiter(deps.redis, { keyPrefix: `${deps.config.redisKeyPrefix}join`, points: limits.joinsPerWindow, windowMs: limits.joinWindowMs }),
      docLock,
      userRooms,
    }),
    messages: createMessageService({
      repos,
      access,
      notifier,
      events,
      sendLimiter: createLimiter(deps.redis, { keyPrefix: `${deps.config.redisKeyPrefix}send`, points: limits.messagesPerWindow, windowMs: limits.messageWindowMs }),
      docLock,
      onStored: () => deps.metrics.messagesStored.inc(),
      history,
      historyCache,
      sendAdmission: deps.admission,
    }),
    typing: createTypingService(access, notifier, deps.config.typing),
  };

  const router = Router();
  router.use(authRouter(services));
  router.use(requireAuth(deps.tokens));
  router.use(usersRouter(services));
  router.use(roomsRouter(services));

  let fanout: MessageFanout | null = null;

  const connectionHooks: ConnectionHooks[] = [
    {
      // Subscribed before `connect` reaches the client: no event of its rooms is missed.
      async onConnect(socket) {
        const roomIds = await userRooms.of(socket.data.userId);
        if (roomIds.length > 0) await socket.join(roomIds.map(roomChannel));
      },
    },
    {
      afterConnect(socket, log) {
        presence.connected(socket.data.userId, socket.id).catch((err: unknown) => log().warn({ err }, 'presence update failed'));
      },
      onDisconnect(socket, log) {
        presence.disconnected(socket.data.userId, socket.id).catch((err: unknown) => log().warn({ err }, 'presence update failed'));
      },
    },
  ];

  return {
    services,
    repos,
    router,
    socketHandlers: [...sessionHandlers(deps), ...roomHandlers(services), ...messageHandlers(services), ...presenceHandlers(services)],
    connectionHooks,
    async attachIo(io, publishToPeers) {
      fanout = new MessageFanout({
        deliver: (m) => {
          historyCache.delivered(m);
          io.local.to(roomChannel(m.roomId)).emit('message:new', m);
          deps.metrics.broadcasts.inc({ event: 'message:new' });
        },
        loadRange: async (roomId, from, to) => {
          const docs = await history.inRange(roomId, from, to);
          // Already edited: its content is newer than a message:new, so it is not cached as one.
          for (const d of docs) if ((d.v ?? 0) > 0) historyCache.loadedUpdated(roomId, d.seq);
          return docs.map(toMessageDto);
        },
        onError: (err) => deps.log.warn({ err }, 'gap fill failed'),
      });
      const local = fanout;
      notifier.attach(io, (m) => {
        local.accept(m);
        publishToPeers?.(m);
      });
    },
    acceptPeerMessage(m) {
      services.messages.peerStored(m.roomId, m.seq);
      fanout?.accept(m);
    },
    membershipCache: access.cache,
    counters,
    userRooms,
    historyCache,
    async close() {
      await counters.close();
      fanout?.close();
      presence.close();
      services.typing.close();
      await store.close();
    },
  };
}
