// The composition root: builds every dependency from config, wires HTTP and
// Socket.IO, and returns { http, io, deps, listen, close }. No module-level singletons.
import express from 'express';
import helmet from 'helmet';
import cors from 'cors';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connection } from 'mongoose';
import type Redis from 'ioredis';
import type { Config } from './config';
import { createLogger, type Logger } from './logger';
import { connectMongo, pingMongo } from './data/mongo';
import { createRedis, pingRedis, redisReady } from './data/redis';
import { createTokenService, type TokenService } from './domain/auth/token.service';
import { createRevocation, type Revocation } from './domain/auth/revocation';
import { createMetrics, type Metrics } from './http/metrics';
import { API_EMF_SOURCES, startEmfPublisher } from './http/emf-metrics';
import { healthRouter } from './http/health.router';
import { requestContext } from './http/request-context';
import { errorMiddleware, notFoundRoute } from './http/error.middleware';
import { createIo } from './socket/create-io';
import { createSocketGuards } from './socket/guards';
import { sessionsRouter } from './http/routers/sessions.router';
import { buildOpenApi } from './http/openapi';
import { webClientRouter } from './http/web-client';
import type { AppServer } from './socket/types';
import { buildChat, type Chat } from './chat';
import { createCluster, createPresenceStore } from './cluster';
import { createJobsProducer } from './jobs/domain-events';
import { createAdmission, type Admission } from './overload/admission';
import { admissionMiddleware } from './http/admission.middleware';
import { watchOverload } from './overload/signals';

export interface Deps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  db: Connection;
  /** Null in single-node mode (no REDIS_URL). */
  redis: Redis | null;
  tokens: TokenService;
  isDraining(): boolean;
  /** Admission control: bounds on the work this node holds, request budgets, shed counts. */
  admission: Admission;
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
    tokens: createTokenService(config.jwt, (t) => revocation.isRevoked(t)),
    isDraining: () => draining,
    admission: createAdmission(config.overload),
  };
  const overload = watchOverload(deps.admission, db.getClient(), metrics.registry);

  const presenceStore = createPresenceStore(deps);
  // Without Redis the jobs run in this process and ask this presence store who is online.
  const jobs = createJobsProducer(deps, { presence: presenceStore });
  // The cluster's heartbeat keeps this store's node key alive (presence across nodes).
  const cluster = createCluster(deps, presenceStore);
  const chat = await buildChat(deps, { events: jobs.events, presenceStore });

  const api = express();
  api.disable('x-powered-by');
  // req.ip trusts exactly as many X-Forwarded-For hops as the socket limits do.
  api.set('trust proxy', config.abuse.trustProxyHops);
  api.use(requestContext(log));
  api.use(helmet());
  api.use(cors({ origin: config.corsOrigins === '*' ? true : config.corsOrigins }));
  api.use(
    healthRouter({
      metrics,
      metricsToken: config.metricsToken,
      isDraining: () => draining,
      // Redis is ready for this node when commands answer and the adapter's links are up.
      checks: { mongodb: () => pingMongo(db), ...(redis ? { redis: async () => (await pingRedis(redis)) && cluster.linked() } : {}) },
      // Not ready while shedding hard: the balancer sends new connections elsewhere.
      isShedding: () => deps.admission.sheddingHard(),
    }),
  );
  api.use(express.json({ limit: '64kb', strict: true }));
  const openApi = buildOpenApi();
  api.get('/api/v1/openapi.json', (_req, res) => res.json(openApi));
  api.use('/api/v1', admissionMiddleware(deps.admission));
  api.use('/api/v1', sessionsRouter(deps.tokens, revocation));
  api.use('/api/v1', chat.router);
  if (config.webClient.enabled) api.use(webClientRouter(config.webClient.dir, log));
  api.use(notFoundRoute);
  api.use(errorMiddleware);

  const server = http.createServer(api);
  // Longer than the load balancer's idle timeout (ALB: 60-75 s), so the balancer, not
  // Node, closes idle keep-alive connections: otherwise a request can race the close (502).
  server.keepAliveTimeout = 76_000;
  server.headersTimeout = 77_000;
  const guards = createSocketGuards(deps, revocation, chat.socketHandlers);
  const io = createIo(server, {
    config,
    log,
    metrics,
    tokens: deps.tokens,
    handlers: chat.socketHandlers,
    hooks: [...chat.connectionHooks, guards.hooks],
    extraMiddleware: guards.middleware,
    admission: deps.admission,
  });
  guards.attach(io);
  await chat.attachIo(io, cluster.publishToPeers);
  await cluster.attach(io, chat);
  const emf = config.emf.intervalMs > 0
    ? await startEmfPublisher(metrics.registry, API_EMF_SOURCES, { namespace: config.emf.namespace, service: config.emf.service ?? 'chat-api', intervalMs: config.emf.intervalMs })
    : null;

  let closing: Promise<void> | null = null;
  const app: App = {
    deps,
    chat,
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
        await cluster.drain(io, config.shutdownGraceMs);
        await new Promise<void>((resolve) => {
          io.close(() => resolve());
          // io.close() also closes the HTTP server; idle keep-alive sockets must not hold it open.
          server.closeIdleConnections?.();
        });
        guards.close();
        emf?.stop();
        overload.stop();
        await chat.close();
        await revocation.close();
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
