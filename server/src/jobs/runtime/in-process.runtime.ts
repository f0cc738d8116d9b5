// The zero-config runtime (no REDIS_URL): the same handlers, run inside the server
// process with the same attempts and backoff. Jobs live in memory, so a restart loses
// the ones not yet delivered, and dead letters are only logged (and kept in memory
// for inspection); `npm run jobs` needs Redis.
import type { Config } from '../../config';
import type { Logger } from '../../logger';
import { ALL_QUEUES, jobOptions, QUEUES, retryDelayMs, type JobPayloads, type QueueName } from '../queues';
import type { JobMetrics, QueueDepth } from '../job-metrics';
import { errorMessage, PermanentJobError, runAttempt, type JobHandler, type JobHandlers, type JobSink } from './job';

interface Entry {
  queue: QueueName;
  id: string;
  data: unknown;
  failed: number;
  state: 'waiting' | 'active' | 'delayed';
  timer?: NodeJS.Timeout;
}

export interface DeadLetter {
  queue: QueueName;
  id: string;
  data: unknown;
  attempts: number;
  error: string;
  failedAt: string;
}

export interface InProcessRuntime extends JobSink {
  /** Starts running jobs (queued ones included) with these handlers, and the retention timer. */
  start(handlers: JobHandlers): void;
  depth(): QueueDepth;
  deadLetters(): DeadLetter[];
  /** Resolves once nothing is queued, running or waiting for a retry (tests). */
  idle(): Promise<void>;
  /** Stops timers and waits (up to graceMs) for running jobs; queued jobs are dropped and counted in the log. */
  close(graceMs?: number): Promise<void>;
}

const MAX_DEAD_LETTERS = 1000;

export function createInProcessRuntime(opts: { config: Config; log: Logger; metrics: JobMetrics }): InProcessRuntime {
  const { config, log, metrics } = opts;
  const concurrency = config.workers.concurrency;
  const entries = new Map<string, Entry>();
  const ready: Entry[] = [];
  const dead: DeadLetter[] = [];
  let handlers: JobHandlers | null = null;
  let running = 0;
  let closed = false;
  let sweepTimer: NodeJS.Timeout | null = null;
  let idleWaiters: Array<() => void> = [];

  const key = (queue: QueueName, id: string) => `${queue}/${id}`;

  function settleIdle(): void {
    if (entries.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  function pump(): void {
    while (handlers && !closed && running < concurrency && ready.length > 0) void run(ready.shift()!);
    settleIdle();
  }

  async function run(entry: Entry): Promise<void> {
    running += 1;
    entry.state = 'active';
    const maxAttempts = jobOptions(config, entry.queue).attempts;
    const ctx = { id: entry.id, queue: entry.queue, attempt: entry.failed + 1, maxAttempts, log };
    try {
      await runAttempt(handlers![entry.queue] as JobHandler<QueueName>, entry.data as JobPayloads[QueueName], ctx, metrics);
      entries.delete(key(entry.queue, entry.id));
    } catch (err) {
      entry.failed += 1;
      if (entry.failed >= maxAttempts || err instanceof PermanentJobError) {
        entries.delete(key(entry.queue, entry.id));
        dead.push({ queue: entry.queue, id: entry.id, data: entry.data, attempts: entry.failed, error: errorMessage(err), failedAt: new Date().toISOString() });
        if (dead.length > MAX_DEAD_LETTERS) dead.shift();
      } else if (!closed) {
        entry.state = 'delayed';
        entry.timer = setTimeout(() => {
          entry.timer = undefined;
          entry.state = 'waiting';
          ready.push(entry);
          pump();
        }, retryDelayMs(entry.failed, config.workers.webhookBackoffMs));
        entry.timer.unref();
      }
    } finally {
      running -= 1;
      pump();
    }
  }

  const runtime: InProcessRuntime = {
    async add(queue, jobs) {
      if (closed) throw new Error('in-process jobs runtime is closed');
      for (const job of jobs) {
        const k = key(queue, job.id);
        // As with BullMQ job ids: a job already queued, running or retrying is not added twice.
        if (entries.has(k)) continue;
        const entry: Entry = { queue, id: job.id, data: job.data, failed: 0, state: 'waiting' };
        entries.set(k, entry);
        ready.push(entry);
      }
      // Handlers start on the next tick: adding never runs a job on the caller's stack.
      setImmediate(pump);
    },

    start(h) {
      handlers = h;
      sweepTimer = setInterval(() => {
        void runtime.add(QUEUES.retention, [{ id: 'retention-sweep', data: {} }]).catch(() => undefined);
      }, config.workers.retentionSweepMs);
      sweepTimer.unref();
      pump();
    },

    depth() {
      const out = {} as QueueDepth;
      for (const q of ALL_QUEUES) out[q] = { waiting: 0, active: 0, delayed: 0, failed: 0 };
      for (const e of entries.values()) out[e.queue][e.state] += 1;
      for (const d of dead) out[d.queue].failed += 1;
      return out;
    },

    deadLetters: () => [...dead],

    idle: () => (entries.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),

    async close(graceMs = config.shutdownGraceMs) {
      if (closed) return;
      closed = true;
      if (sweepTimer) clearInterval(sweepTimer);
      for (const e of entries.values()) if (e.timer) clearTimeout(e.timer);
      const deadline = Date.now() + graceMs;
      while (running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const dropped = [...entries.values()].filter((e) => e.state !== 'active').length;
      if (dropped > 0) log.warn({ dropped }, 'in-process jobs dropped at shutdown (zero-config mode keeps jobs in memory)');
      entries.clear();
      ready.length = 0;
      settleIdle();
    },
  };
  return runtime;
}
