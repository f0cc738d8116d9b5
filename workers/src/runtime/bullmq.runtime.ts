// The Redis-backed runtime: one BullMQ queue and worker per job queue. Retries, backoff,
// stall recovery (a killed process's jobs are re-run) and dead letters (the `failed` set)
// are BullMQ's; the policy numbers come from config and server/src/jobs/queues.ts.
import { Queue, Worker, type Job } from 'bullmq';
import type Redis from 'ioredis';
import type { Config } from '../../../server/src/config';
import type { Logger } from '../../../server/src/logger';
import { ALL_QUEUES, jobOptions, QUEUES, retryDelayMs, type JobPayloads, type QueueName } from '../../../server/src/jobs/queues';
import type { JobMetrics, QueueDepth } from '../../../server/src/jobs/job-metrics';
import { errorMessage, runAttempt, type JobHandler, type JobHandlers, type JobSink } from '../../../server/src/jobs/runtime/job';

export type Queues = { [Q in QueueName]: Queue<JobPayloads[Q]> };

/** Every queue, on one shared connection (BullMQ leaves a passed-in connection open on close). */
export function openQueues(connection: Redis, config: Config, log: Logger): Queues {
  const queues = {} as Record<QueueName, Queue>;
  for (const name of ALL_QUEUES) {
    const queue = new Queue(name, { connection, prefix: config.workers.queuePrefix, defaultJobOptions: jobOptions(config, name) });
    queue.on('error', (err) => log.warn({ queue: name, err: errorMessage(err) }, 'queue error'));
    queues[name] = queue;
  }
  return queues as Queues;
}

/** Follow-up jobs go in with their derived ids: an id already present is left alone. */
export function queueSink(queues: Queues, config: Config): JobSink {
  return {
    async add(queue, jobs) {
      if (jobs.length === 0) return;
      const opts = jobOptions(config, queue);
      // addBulk is one pipelined round trip however many jobs.
      await (queues[queue] as Queue).addBulk(jobs.map((j) => ({ name: queue, data: j.data, opts: { ...opts, jobId: j.id } })));
    },
  };
}

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;

/** Jobs per queue and state, for the depth gauge and the CLI. */
export async function queueDepth(queues: Queues): Promise<QueueDepth> {
  const out = {} as QueueDepth;
  await Promise.all(
    ALL_QUEUES.map(async (name) => {
      out[name] = await (queues[name] as Queue).getJobCounts(...STATES);
    }),
  );
  return out;
}

export interface BullmqWorkers {
  workers: Worker[];
  /** Stops taking jobs and waits for the running ones (BullMQ's graceful close). */
  close(): Promise<void>;
}

export function startBullmqWorkers(config: Config, handlers: JobHandlers, metrics: JobMetrics, log: Logger): BullmqWorkers {
  const { workers: w } = config;
  const workers = ALL_QUEUES.map((name) => {
    const handler = handlers[name] as JobHandler<QueueName>;
    const processor = (job: Job<JobPayloads[QueueName]>) =>
      runAttempt(handler, job.data, { id: job.id!, queue: name, attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1, log }, metrics);
    const worker = new Worker(name, processor, {
      connection: { url: config.redisUrl!, connectionName: `workers:${name}` },
      prefix: w.queuePrefix,
      concurrency: name === QUEUES.retention ? 1 : w.concurrency,
      // A killed process stops renewing its locks; after lockMs its jobs count as stalled
      // and go back to the queue (stalledInterval) for another worker: nothing is lost.
      lockDuration: w.lockMs,
      stalledInterval: w.lockMs,
      // Twice, not once: a rolling restart can interrupt the same job twice. A job that
      // keeps killing its process still ends up dead-lettered instead of looping.
      maxStalledCount: 2,
      settings: { backoffStrategy: (attemptsMade: number) => retryDelayMs(attemptsMade, w.webhookBackoffMs) },
    });
    worker.on('error', (err) => log.warn({ queue: name, err: errorMessage(err) }, 'worker error'));
    worker.on('stalled', (jobId) => log.warn({ queue: name, jobId }, 'job stalled (its worker died or blocked); re-queued'));
    return worker;
  });
  return {
    workers,
    close: async () => {
      await Promise.all(workers.map((wk) => wk.close()));
    },
  };
}

/** One sweep every RETENTION_SWEEP_MS across all worker processes (the scheduler is upserted, not added). */
export async function scheduleRetention(queues: Queues, config: Config): Promise<void> {
  await queues.retention.upsertJobScheduler(
    'retention-sweep',
    { every: config.workers.retentionSweepMs },
    { name: 'retention-sweep', data: {}, opts: jobOptions(config, QUEUES.retention) },
  );
}
