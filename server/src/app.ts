// The composition root: builds the whole graph from config in order, each part from the
// parts before it (nothing is attached later), and returns { http, io, deps, listen, close }.
// Infrastructure → data → servers → adapters (cluster, jobs) → emitter → domain →
// transports (REST routes, socket handlers) → start. No module-level singletons.
import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config';
import type { Deps } from './deps';
import { errors } from './errors';
import { createLogger, type Logger } from './logger';
import { connectMongo, pingMongo } from './data/mongo';
import { openData, type Data } from './data/open-data';
import { createPresenceStore } from './data/presence-stores';
import { createRedis, pingRedis, redisReady } from './data/redis';
import { createRevocation, type Revocation } from './data/revocation.store';
import { createTokenService } from './domain/auth/token.service';
import type { MembershipCache } from './domain/membership-cache';
import type { HistoryCache } from './domain/messages/history-cache';
import type { UserRooms } from './domain/rooms/user-rooms';
import { createBlocks, createHistory, createServices, type Services } from './domain/services';
import { mountApi } from './http/api';
import { createMetrics } from './http/metrics';
import { API_EMF_SOURCES, startEmfPublisher } from './http/emf-metrics';
import { createIoServer, serveSockets } from './socket/create-io';
import { chatConnectionHooks } from './socket/connection-hooks';
import { createSocketEmitter } from './socket/emitter';
import { createSocketGuards } from './socket/guards';
import { messageHandlers } from './socket/handlers/message.handlers';
import { presenceHandlers } from './socket/handlers/presence.handlers';
import { userHandlers } from './socket/handlers/user.handlers';
import { moderationHandlers } from './socket/handlers/moderation.handlers';
import { roomHandlers } from './socket/handlers/room.handlers';
import { sessionHandlers } from './socket/handlers/session.handlers';
import type { AppServer } from './socket/types';
import { createCluster } from './cluster';
import { createJobsProducer } from './jobs/domain-events';
import { createMessageUpdatesChannel } from './data/message-updates.channel';
import { createOperatorService } from './domain/admin/operator.service';
import { createAdmission } from './overload/admission';
import { watchOverload } from './overload/signals';

/** The chat's services and state, for tests and operations scripts. */
export interface Chat {
  services: Services;
  repos: Data['repos'];
  /** Room lastSeq and senders' read marks, checkpointed to the database late (data/room-counters.ts). */
  counters: Data['counters'];
  /** Members' delivered seqs, checkpointed to the memberships late (data/delivery-marks.ts). */
  delivery: Data['delivery'];
  /** Each user's room ids (connect, room:list, presence); its cache is invalidated across nodes. */
  userRooms: UserRooms;
  membershipCache: MembershipCache;
  /** Newest history pages; edits, deletes and reactions reach the other nodes' through the cluster. */
  historyCache: HistoryCache;
}

export interface App {
  deps: Deps;
  chat: Chat;
  http: http.Server;
  io: AppServer;
  /** Revoked sessions, shared by every node through Redis. */
  revocation: Revocation;
  /** Listens on config.port (0 = any free port) and resolves the bound port. */
  listen(): Promise<number>;
  /** Readiness turns 503; no new connections are accepted. */
  startDraining(): void;
  /** Graceful stop: drain, close sockets, close MongoDB and Redis. */
  close(): Promise<void>;
}

export interface AppOptions {
  log?: Logger;
  /** Overrides config.mongodbUri (used when the embedded database was started for us). */
  mongodbUri?: string;
}

export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  // Infrastructure: logs, metrics, MongoDB, Redis, revocation, tokens.
  const log = opts.log ?? createLogger(config.logLevel, { nodeId: config.nodeId });
  const mongodbUri = opts.mongodbUri ?? config.mongodbUri;
  if (!mongodbUri) throw new Error('createApp: no MongoDB URI (main.ts starts the embedded database when MONGODB_URI is unset)');
  const metrics = createMetrics({ node: config.nodeId });
  const db = await connectMongo(mongodbUri, log, { onCommand: (name) => metrics.dbCommands.inc({ command: name }) });
  const redis = config.redisUrl ? createRedis(config.redisUrl, log, 'commands') : null;
  if (redis) await redisReady(redis).catch(() => log.warn('redis not ready at start; continuing, readiness reports it'));
  let draining = false;
  const revocation = createRevocation({ redis, log, keyPrefix: `${config.redisKeyPrefix}chat:revoked` });
  await revocation.start();
  const deps: Deps = {
    config,
    log,
    metrics,
    db,
    redis,
    tokens: createTokenService(config.jwt, (t) => {
      // Said as such, so a client shows "suspended" rather than asking the user to log in again.
      if (revocation.isSuspended(t.userId)) throw errors.unauthorized('account suspended');
      return revocation.isRevoked(t);
    }),
    isDraining: () => draining,
    admission: createAdmission(config.overload),
  };
  const overload = watchOverload(deps.admission, db.getClient(), metrics.registry);

  // Data: repositories, document lock, room counters.
  const data = await openData(deps);

  // Servers, before anything that emits: the Express app gets its routes below.
  const api = express();
  const server = http.createServer(api);
  // Longer than the load balancer's idle timeout (ALB: 60-75 s), so the balancer, not
  // Node, closes idle keep-alive connections: otherwise a request can race the close (502).
  server.keepAliveTimeout = 76_000;
  server.headersTimeout = 77_000;
  const io = createIoServer(server, config);

  // Adapters: the cluster (adapter, peers) and the jobs producer (domain events).
  const presenceStore = createPresenceStore(deps);
  const cluster = createCluster(deps, io, presenceStore);
  // Message updates made by the workers (operator purges), heard by every node.
  const messageUpdates = createMessageUpdatesChannel(redis, config.redisKeyPrefix, log);
  // Without Redis the jobs run in this process and ask this presence store who is online.
  const jobs = createJobsProducer(deps, { presence: presenceStore, messageUpdates, docLock: data.docLock });

  // The emitter of every server-to-client event, then the domain that announces through it.
  const history = createHistory(deps, data, cluster.peers);
  const blocks = createBlocks(deps, data, cluster.peers);
  const emitter = createSocketEmitter({
    io,
    metrics,
    peers: cluster.peers,
    loadRange: history.storedRange,
    onDelivered: (m) => history.cache.delivered(m),
    onError: (err) => log.warn({ err }, 'gap fill or block lookup failed'),
    blocks: blocks.service.filter,
  });
  const domain = createServices({ deps, data, history, notifier: emitter, events: jobs.events, presenceStore, peers: cluster.peers, blocks: blocks.service, isSuspended: (userId) => revocation.isSuspended(userId) });
  const { services, userRooms } = domain;
  // Operator controls: suspensions ride the revocation store; purges go to the workers.
  const operator = createOperatorService({ suspensions: revocation, purges: jobs.purges, log });
  messageUpdates.subscribe((updates) => {
    for (const { message, v } of updates) {
      history.cache.applyUpdate(message, v);
      emitter.messageUpdatedLocal(message);
    }
  });
  await messageUpdates.start();

  // Transports: REST routes, then the socket handlers, guards and connection hooks.
  mountApi(api, {
    deps,
    services,
    revocation,
    operator,
    // Redis is ready for this node when commands answer and the adapter's links are up.
    checks: { mongodb: () => pingMongo(db), ...(redis ? { redis: async () => (await pingRedis(redis)) && cluster.linked() } : {}) },
  });
  const handlers = [...sessionHandlers(deps), ...roomHandlers(services), ...messageHandlers(services), ...presenceHandlers(services), ...userHandlers(services), ...moderationHandlers(services)];
  const guards = createSocketGuards(deps, io, revocation, handlers);
  serveSockets(io, {
    log,
    metrics,
    tokens: deps.tokens,
    handlers,
    hooks: [...chatConnectionHooks({ userRooms, presence: services.presence }), guards.hooks],
    extraMiddleware: guards.middleware,
    admission: deps.admission,
  });

  // Start: listen to the other nodes, the presence heartbeat, metrics publishing.
  await cluster.start({
    presence: services.presence,
    userRooms,
    membershipCache: domain.membershipCache,
    historyCache: history.cache,
    blockCache: blocks.cache,
    peerMessage: (m) => {
      services.messages.peerStored(m);
      emitter.peerMessage(m);
    },
  });
  const emf = config.emf.intervalMs > 0
    ? await startEmfPublisher(metrics.registry, API_EMF_SOURCES, { namespace: config.emf.namespace, service: config.emf.service ?? 'chat-api', intervalMs: config.emf.intervalMs })
    : null;

  let closing: Promise<void> | null = null;
  const app: App = {
    deps,
    chat: { services, repos: data.repos, counters: data.counters, delivery: data.delivery, userRooms, membershipCache: domain.membershipCache, historyCache: history.cache },
    http: server,
    io,
    revocation,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    startDraining: () => {
      draining = true;
    },
    close: () => {
      closing ??= (async () => {
        draining = true;
        await cluster.drain(config.shutdownGraceMs);
        await new Promise<void>((resolve) => {
          io.close(() => resolve());
          // io.close() also closes the HTTP server; idle keep-alive sockets must not hold it open.
          server.closeIdleConnections?.();
        });
        guards.close();
        emf?.stop();
        overload.stop();
        await data.counters.close();
        await data.delivery.close();
        emitter.close();
        domain.close();
        await presenceStore.close();
        await revocation.close();
        await messageUpdates.close();
        await cluster.close();
        await jobs.close();
        await db.close().catch((err: unknown) => log.warn({ err }, 'mongodb close failed'));
        if (redis) await redis.quit().catch(() => redis.disconnect());
        log.info('closed');
      })();
      return closing;
    },
  };
  return app;
}
