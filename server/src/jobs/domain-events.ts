// Outbound domain events → background jobs (see workers/ and docs/workers.md). The write
// path awaits these calls, so each is one Redis round trip at most (a single BullMQ add)
// and never an HTTP call. Without Redis the handlers run in this process instead.
import { Queue } from 'bullmq';
import type { Deps } from '../deps';
import { withTimeout } from '../data/mongo';
import { createRedis } from '../data/redis';
import { noDomainEvents, type DomainEvent, type DomainEventData, type DomainEvents } from '../domain/events';
import type { PresenceStore } from '../data/presence.store';
import { startInProcessJobs } from './in-process';
import { createOutboxEnqueuer } from './enqueue-outbox';
import { freshEventId, jobOptions, jobsEnabled, LEDGER_TTL_MS, messageCreatedEventId, purgeJobId, QUEUES, type RetentionJob } from './queues';
import type { PurgeQueue } from '../domain/admin/operator.service';
import type { DocLock } from '../data/doc-lock';
import type { MessageUpdatesChannel } from '../data/message-updates.channel';

export interface JobsProducer {
  events: DomainEvents;
  /** Operator purges (issue 15): on the retention queue, run by the workers (or in-process). */
  purges: PurgeQueue;
  close(): Promise<void>;
}

export interface JobsProducerOptions {
  /** Zero-config mode: the server's presence store, asked by the in-process notification job. */
  presence?: Pick<PresenceStore, 'onlineOf'>;
  /** Zero-config mode: where in-process purges announce their deletes, and the server's document lock. */
  messageUpdates?: Pick<MessageUpdatesChannel, 'publish'>;
  docLock?: DocLock;
}

/** Longer than this and the send path stops waiting: the event goes to the outbox instead. */
const ENQUEUE_TIMEOUT_MS = 500;

export function createJobsProducer(deps: Deps, opts: JobsProducerOptions = {}): JobsProducer {
  const enabled = jobsEnabled(deps.config);
  const log = deps.log.child({ component: 'jobs' });

  if (!deps.config.redisUrl) {
    const runtime = startInProcessJobs({
      config: deps.config,
      log: deps.log,
      db: deps.db,
      registry: deps.metrics.registry,
      presence: opts.presence ?? { onlineOf: async () => new Set<string>() },
      messageUpdates: opts.messageUpdates,
      docLock: opts.docLock,
    });
    const enqueue = (event: DomainEvent) => runtime.add(QUEUES.events, [{ id: event.id, data: event }]);
    const purges: PurgeQueue = {
      async enqueuePurge(job) {
        const id = purgeJobId(job);
        await runtime.add(QUEUES.retention, [{ id, data: job }]);
        return id;
      },
    };
    return { events: domainEvents(enabled, enqueue), purges, close: () => runtime.close() };
  }

  // With Redis the workers process does the rest; the server only says once what is off.
  if (!enabled.notifications) log.info('NOTIFY_WEBHOOK_URL not set: notifications are off');
  if (!enabled.events) log.info('EVENTS_WEBHOOK_URL not set: outbound event webhooks are off');
  const purges = purgeProducer(deps);
  if (!enabled.notifications && !enabled.events) return { events: noDomainEvents, purges, close: purges.close };
  const producer = queueProducer(deps);
  return {
    events: domainEvents(enabled, producer.enqueue),
    purges,
    close: async () => {
      await producer.close();
      await purges.close();
    },
  };
}

/**
 * Operators' purges onto the retention queue. Rare: its connection is opened at the first
 * purge, not at start (every API node would otherwise hold one more idle connection).
 */
function purgeProducer(deps: Deps): PurgeQueue & { close(): Promise<void> } {
  const { config } = deps;
  let open: { queue: Queue<RetentionJob>; connection: ReturnType<typeof createRedis> } | null = null;
  return {
    async enqueuePurge(job) {
      if (!open) {
        const connection = createRedis(config.redisUrl!, deps.log, 'purge-producer');
        open = { connection, queue: new Queue<RetentionJob>(QUEUES.retention, { connection, prefix: config.workers.queuePrefix, defaultJobOptions: jobOptions(config, QUEUES.retention) }) };
      }
      const id = purgeJobId(job);
      await open.queue.add('purge-user-messages', job, { jobId: id });
      return id;
    },
    async close() {
      if (!open) return;
      await open.queue.close().catch(() => undefined);
      await open.connection.quit().catch(() => open?.connection.disconnect());
    },
  };
}

/**
 * Wraps each published event in its envelope; what nobody consumes is not enqueued. Every
 * type goes to the event webhooks; message.created also feeds the notifications, and keeps
 * one id per message so that a retried send does not notify twice.
 */
function domainEvents(enabled: { notifications: boolean; events: boolean }, enqueue: (e: DomainEvent) => Promise<void>): DomainEvents {
  return {
    async publish(type, data) {
      if (type === 'message.created') {
        if (!enabled.notifications && !enabled.events) return;
        const { message } = data as DomainEventData['message.created'];
        // A send retried after the delivery ledger forgot it would notify again: not worth it.
        if (Date.now() - Date.parse(message.createdAt) > LEDGER_TTL_MS) return;
        await enqueue({ id: messageCreatedEventId(message.id), type: 'message.created', createdAt: message.createdAt, data: { message } });
        return;
      }
      if (enabled.events) await enqueue({ id: freshEventId(), type, createdAt: new Date().toISOString(), data } as DomainEvent);
    },
  };
}

/** One BullMQ add per event (one EVALSHA: a single round trip), behind the outbox. */
function queueProducer(deps: Deps) {
  const { config } = deps;
  const log = deps.log.child({ component: 'jobs' });
  const connection = createRedis(config.redisUrl!, deps.log, 'jobs-producer');
  const queue = new Queue<DomainEvent>(QUEUES.events, { connection, prefix: config.workers.queuePrefix, defaultJobOptions: jobOptions(config, QUEUES.events) });
  queue.on('error', (err) => log.warn({ err: err.message }, 'jobs queue error'));
  // Loads BullMQ's scripts now, so the first send pays no extra round trips.
  queue.waitUntilReady().catch(() => undefined);
  const outbox = createOutboxEnqueuer({
    // The job id is the event id: re-adding an event that is still queued changes nothing.
    add: async (event) => {
      await withTimeout(queue.add(event.type, event, { jobId: event.id }), ENQUEUE_TIMEOUT_MS);
    },
    log,
    registry: deps.metrics.registry,
  });
  return {
    enqueue: outbox.enqueue,
    async close(): Promise<void> {
      await outbox.close();
      await queue.close().catch(() => undefined);
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
