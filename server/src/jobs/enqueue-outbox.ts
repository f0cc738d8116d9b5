// Keeps the write path's enqueue from failing or hanging when Redis does not answer:
// an event that cannot be added waits in a bounded in-memory outbox retried every
// second, so a Redis blip delays notifications instead of failing a send whose message
// is already stored. Only the outbox of a node that dies during an outage is lost.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logger';
import type { DomainEvent } from './queues';

export interface OutboxOptions {
  /** Adds one event to the queue (rejects or times out when Redis does not answer). */
  add(event: DomainEvent): Promise<void>;
  log: Logger;
  registry: Registry;
  retryMs?: number;
  limit?: number;
}

export interface Enqueuer {
  /** Never rejects: an event that cannot be added now is held and retried. */
  enqueue(event: DomainEvent): Promise<void>;
  /** Events waiting for Redis. */
  pending(): number;
  /** One last flush, then reports what could not be added. */
  close(): Promise<void>;
}

export function createOutboxEnqueuer(opts: OutboxOptions): Enqueuer {
  const { log } = opts;
  const limit = opts.limit ?? 10_000;
  const registers = [opts.registry];
  const enqueued = new Counter({ name: 'chat_jobs_enqueued_total', help: 'Domain events enqueued for the workers', labelNames: ['type'], registers });
  const failures = new Counter({ name: 'chat_jobs_enqueue_failures_total', help: 'Enqueue attempts that failed or timed out (the event waits in the outbox)', registers });
  const dropped = new Counter({ name: 'chat_jobs_outbox_dropped_total', help: 'Events dropped because the outbox was full', registers });
  const outbox: DomainEvent[] = [];
  new Gauge({
    name: 'chat_jobs_outbox_size',
    help: 'Domain events of this node waiting for Redis',
    registers,
    collect() {
      this.set(outbox.length);
    },
  });

  async function add(event: DomainEvent): Promise<void> {
    await opts.add(event);
    enqueued.inc({ type: event.type });
  }

  function hold(event: DomainEvent): void {
    outbox.push(event);
    if (outbox.length > limit) {
      const lost = outbox.shift()!;
      dropped.inc();
      log.error({ eventId: lost.id, type: lost.type }, 'jobs outbox full: event dropped');
    }
  }

  let flushing: Promise<void> | null = null;
  function flush(): Promise<void> {
    flushing ??= (async () => {
      try {
        while (outbox.length > 0) {
          await add(outbox[0]);
          outbox.shift();
        }
        log.info('enqueue recovered; outbox empty');
      } catch {
        failures.inc();
      } finally {
        flushing = null;
      }
    })();
    return flushing;
  }
  const timer = setInterval(() => {
    if (outbox.length > 0) void flush();
  }, opts.retryMs ?? 1000);
  timer.unref();

  return {
    async enqueue(event) {
      // While older events wait, newer ones queue behind them, and the send does not wait on a dead Redis.
      if (outbox.length > 0) return hold(event);
      try {
        await add(event);
      } catch (err) {
        failures.inc();
        log.warn({ eventId: event.id, err: err instanceof Error ? err.message : String(err) }, 'enqueue failed; holding events in memory until Redis answers');
        hold(event);
      }
    },
    pending: () => outbox.length,
    async close() {
      clearInterval(timer);
      if (outbox.length > 0) await flush();
      if (outbox.length > 0) log.error({ lost: outbox.length }, 'jobs outbox not flushed at shutdown: events lost');
    },
  };
}
