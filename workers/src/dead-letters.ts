// Dead letters are the jobs in BullMQ's `failed` set: they used up their attempts (or
// stalled too often). Listed and re-driven here, for the CLI and the tests.
import type { Job, Queue } from 'bullmq';
import { ALL_QUEUES, type QueueName } from '../../server/src/jobs/queues';
import type { Queues } from './runtime/bullmq.runtime';

export interface DeadLetter {
  queue: QueueName;
  id: string;
  attempts: number;
  failedAt: string | null;
  reason: string;
  /** A one-line description of what the job was for. */
  summary: string;
}

function summarize(queue: QueueName, data: any): string {
  if (!data || typeof data !== 'object') return '';
  if (queue === 'notifications') return `user=${data.userId} message=${data.messageId} reason=${data.reason}`;
  if (queue === 'webhooks' || queue === 'domain-events') return `type=${data.type}`;
  return '';
}

function toDeadLetter(queue: QueueName, job: Job): DeadLetter {
  return {
    queue,
    id: job.id!,
    attempts: job.attemptsMade,
    failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    reason: job.failedReason ?? '',
    summary: summarize(queue, job.data),
  };
}

/** Newest first, up to `limit` per queue. */
export async function listDeadLetters(queues: Queues, opts: { queue?: QueueName; limit?: number } = {}): Promise<DeadLetter[]> {
  const names = opts.queue ? [opts.queue] : ALL_QUEUES;
  const out: DeadLetter[] = [];
  for (const name of names) {
    const jobs = await (queues[name] as Queue).getFailed(0, (opts.limit ?? 100) - 1);
    out.push(...jobs.filter(Boolean).map((j) => toDeadLetter(name, j)));
  }
  return out;
}

/**
 * Puts dead letters with this job id back in their queue with a fresh set of attempts.
 * Ids are unique per queue; the same id dead in two queues (an event's fan-out and its
 * delivery) is re-driven in both. Resolves what was re-driven (empty: nothing matched).
 */
export async function retryDeadLetter(queues: Queues, id: string, opts: { queue?: QueueName } = {}): Promise<Array<{ queue: QueueName; id: string }>> {
  const names = opts.queue ? [opts.queue] : ALL_QUEUES;
  const done: Array<{ queue: QueueName; id: string }> = [];
  for (const name of names) {
    const job = await (queues[name] as Queue).getJob(id);
    if (!job || (await job.getState()) !== 'failed') continue;
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    done.push({ queue: name, id });
  }
  return done;
}

/** Re-drives every dead letter (of one queue, or all). */
export async function retryAllDeadLetters(queues: Queues, opts: { queue?: QueueName } = {}): Promise<number> {
  let n = 0;
  for (;;) {
    const batch = await listDeadLetters(queues, { queue: opts.queue, limit: 500 });
    let moved = 0;
    for (const d of batch) moved += (await retryDeadLetter(queues, d.id, { queue: d.queue })).length;
    n += moved;
    // Whatever could not be moved (re-listed forever otherwise) stays for the next run.
    if (batch.length === 0 || moved === 0) return n;
  }
}
