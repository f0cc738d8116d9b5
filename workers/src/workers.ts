// The workers' composition root: connections, repositories, presence, delivery
// providers, one BullMQ worker per queue, the retention schedule and /metrics.
// main.ts runs it as a process; tests start it in-process with overrides.
import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Config } from '../../server/src/config';
import { defineModels } from '../../server/src/data/models';
import { connectMongo, isFerretDb } from '../../server/src/data/mongo';
import { createDocLock } from '../../server/src/data/doc-lock';
import { createMessageUpdatesChannel } from '../../server/src/data/message-updates.channel';
import { createPresenceStore } from '../../server/src/data/presence-stores';
import { createRedis, redisReady } from '../../server/src/data/redis';
import { createRepositories } from '../../server/src/data/repositories';
import { createLogger, type Logger } from '../../server/src/logger';
import { deliveriesFromConfig } from '../../server/src/jobs/delivery/delivery.config';
import { redisDeliveryLedger } from '../../server/src/jobs/delivery/delivery.ledger';
import type { NotificationProvider } from '../../server/src/jobs/delivery/notification.provider';
import { createJobHandlers } from '../../server/src/jobs/handlers';
import { createJobMetrics, serveMetrics } from '../../server/src/jobs/job-metrics';
import { startEmfPublisher, WORKER_EMF_SOURCES } from '../../server/src/http/emf-metrics';
import type { PresenceReader } from '../../server/src/jobs/notifications/recipients';
import { openQueues, queueDepth, queueSink, scheduleRetention, startBullmqWorkers, type Queues } from './runtime/bullmq.runtime';

export interface WorkersOptions {
  log?: Logger;
  /** Overrides config.mongodbUri (main.ts resolves the embedded database's URI). */
  mongodbUri?: string;
  /** Overrides the cluster presence store (tests). */
  presence?: PresenceReader;
  /** Replaces the built-in webhook notification provider. */
  provider?: NotificationProvider;
}

export interface Workers {
  queues: Queues;
  /** Where /metrics and /healthz are served. */
  metricsPort: number;
  /** Graceful: stops taking jobs, lets running ones finish, closes connections. */
  close(): Promise<void>;
}

export async function startWorkers(config: Config, opts: WorkersOptions = {}): Promise<Workers> {
  if (!config.redisUrl) throw new Error('startWorkers: REDIS_URL is required (without it the server runs the jobs in-process)');
  const mongodbUri = opts.mongodbUri ?? config.mongodbUri;
  if (!mongodbUri) throw new Error('startWorkers: no MongoDB URI');
  const log = opts.log ?? createLogger(config.logLevel, { nodeId: config.nodeId, role: 'workers' });

  const db = await connectMongo(mongodbUri, log);
  const repos = createRepositories(defineModels(db));
  const redis = createRedis(config.redisUrl, log, 'workers');
  await redisReady(redis).catch(() => log.warn('redis not ready at start; workers will connect when it is'));
  const queues = openQueues(redis, config, log);

  const registry = new Registry();
  registry.setDefaultLabels({ node: config.nodeId });
  collectDefaultMetrics({ register: registry });
  const metrics = createJobMetrics(registry, () => queueDepth(queues));
  // Only `onlineOf` is asked: the workers never register sockets.
  const presenceStore = opts.presence ? null : createPresenceStore({ config, redis });

  const handlers = createJobHandlers({
    config,
    repos,
    presence: opts.presence ?? presenceStore!,
    sink: queueSink(queues, config),
    ledger: redisDeliveryLedger(redis, config.workers.queuePrefix),
    metrics,
    ...deliveriesFromConfig(config, metrics, log, opts.provider),
    // Purges announce their deletes to the API nodes (publish only) and take the API's message locks.
    messageUpdates: createMessageUpdatesChannel(redis, config.redisKeyPrefix, log),
    docLock: createDocLock(redis, await isFerretDb(db).catch(() => true), config.redisKeyPrefix),
  });
  const bull = startBullmqWorkers(config, handlers, metrics, log);
  await scheduleRetention(queues, config);
  const server = await serveMetrics(registry, { host: config.host, port: config.workers.metricsPort, token: config.metricsToken });
  const emf = config.emf.intervalMs > 0
    ? await startEmfPublisher(registry, WORKER_EMF_SOURCES, { namespace: config.emf.namespace, service: config.emf.service ?? 'chat-workers', intervalMs: config.emf.intervalMs })
    : null;
  log.info({ metricsPort: server.port, prefix: config.workers.queuePrefix, concurrency: config.workers.concurrency }, 'workers started');

  let closing: Promise<void> | null = null;
  return {
    queues,
    metricsPort: server.port,
    close: () => {
      closing ??= (async () => {
        emf?.stop();
        await bull.close();
        await server.close();
        await Promise.all(Object.values(queues).map((q: Queue) => q.close().catch(() => undefined)));
        await presenceStore?.close().catch(() => undefined);
        await redis.quit().catch(() => redis.disconnect());
        await db.close().catch(() => undefined);
        log.info('workers closed');
      })();
      return closing;
    },
  };
}
