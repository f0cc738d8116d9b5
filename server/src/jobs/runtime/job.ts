// What a job handler is, independent of who runs it (BullMQ in the workers process, or
// the in-process runtime of a zero-config server), and the one wrapper that counts and
// logs every attempt the same way in both.
import type { Logger } from '../../logger';
import type { JobPayloads, QueueName } from '../queues';
import type { JobMetrics } from '../job-metrics';

export interface JobContext {
  id: string;
  queue: QueueName;
  /** 1-based number of this attempt. */
  attempt: number;
  maxAttempts: number;
  log: Logger;
}

/** Resolves an outcome label ('delivered', 'read', …); throws to have the attempt retried. */
export type JobHandler<Q extends QueueName> = (data: JobPayloads[Q], ctx: JobContext) => Promise<string>;
export type JobHandlers = { [Q in QueueName]: JobHandler<Q> };

/** Where handlers put follow-up jobs. Adding an id that is already queued changes nothing. */
export interface JobSink {
  add<Q extends QueueName>(queue: Q, jobs: Array<{ id: string; data: JobPayloads[Q] }>): Promise<void>;
}

/** Thrown for a job that can never succeed (a bad payload): dead-lettered at once, not retried. */
export class PermanentJobError extends Error {
  // BullMQ recognises this name and skips the remaining attempts.
  override name = 'UnrecoverableError';
}

/** Runs one attempt: metrics and logs for success, retry and dead letter. */
export async function runAttempt<Q extends QueueName>(handler: JobHandler<Q>, data: JobPayloads[Q], ctx: JobContext, metrics: JobMetrics): Promise<string> {
  const stop = metrics.duration.startTimer({ queue: ctx.queue });
  try {
    const outcome = await handler(data, ctx);
    metrics.processed.inc({ queue: ctx.queue, outcome });
    ctx.log.debug({ queue: ctx.queue, jobId: ctx.id, attempt: ctx.attempt, outcome }, 'job done');
    return outcome;
  } catch (err) {
    metrics.processed.inc({ queue: ctx.queue, outcome: 'error' });
    const final = ctx.attempt >= ctx.maxAttempts || err instanceof PermanentJobError;
    const fields = { queue: ctx.queue, jobId: ctx.id, attempt: ctx.attempt, maxAttempts: ctx.maxAttempts, err: errorMessage(err) };
    if (final) {
      metrics.deadLetters.inc({ queue: ctx.queue });
      ctx.log.error(fields, 'job dead-lettered');
    } else {
      ctx.log.warn(fields, 'job attempt failed; will retry');
    }
    throw err;
  } finally {
    stop();
  }
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
