// What overload looks like from inside a node, for /metrics and for admission: event-loop
// delay, database operations in flight and how long they wait, queue depths, shed counts.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Admission } from './admission';

/** The driver's pool and command events (a MongoClient is one). */
interface DriverEvents {
  on(event: string, listener: (e: { duration?: number; requestId?: unknown }) => void): unknown;
}

export interface OverloadSignals {
  stop(): void;
}

/**
 * Feeds admission from the driver (commands in flight and their durations) and registers the overload metrics.
 */
export function watchOverload(admission: Admission, client: DriverEvents, registry: Registry): OverloadSignals {
  const poolWait = new Histogram({
    name: 'chat_db_pool_wait_seconds',
    help: 'Time a database operation waited for a pooled connection',
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const commandTime = new Histogram({
    name: 'chat_db_command_seconds',
    help: 'Database command time as the driver saw it (on the embedded database this includes waiting behind other commands)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  // Pool waits are only observed; what admission counts is commands sent and not yet
  // answered, paired by request id (a lost pair is forgotten after a minute rather than
  // leaving the node refusing forever).
  let waiting: number[] = [];
  client.on('connectionCheckOutStarted', () => waiting.push(performance.now()));
  client.on('connectionCheckedOut', () => {
    const t = waiting.shift();
    if (t !== undefined) poolWait.observe((performance.now() - t) / 1000);
  });
  client.on('connectionCheckOutFailed', () => waiting.shift());
  client.on('connectionPoolCleared', () => {
    waiting = [];
  });
  const inFlight = new Map<unknown, number>();
  client.on('commandStarted', (e) => {
    inFlight.set(e.requestId, performance.now());
    admission.dbStarted();
  });
  const onCommand = (e: { duration?: number; requestId?: unknown }) => {
    if (inFlight.delete(e.requestId)) admission.dbFinished();
    if (typeof e.duration !== 'number') return;
    commandTime.observe(e.duration / 1000);
    admission.dbCommandTook(e.duration);
  };
  client.on('commandSucceeded', onCommand);
  client.on('commandFailed', onCommand);
  const sweep = setInterval(() => {
    const old = performance.now() - 60_000;
    for (const [id, at] of inFlight) {
      if (at < old && inFlight.delete(id)) admission.dbFinished();
    }
  }, 10_000);
  sweep.unref();

  // Event-loop delay over each scrape interval (reset when read).
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  new Gauge({
    name: 'chat_event_loop_delay_seconds',
    help: 'Event-loop delay since the previous scrape, by quantile (p50, p99, max)',
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      if (loop.count > 0) {
        this.set({ quantile: '0.5' }, loop.percentile(50) / 1e9);
        this.set({ quantile: '0.99' }, loop.percentile(99) / 1e9);
        this.set({ quantile: '1' }, loop.max / 1e9);
      }
      loop.reset();
    },
  });
  new Gauge({
    name: 'chat_admission_queue_depth',
    help: 'Work held by this node: sends in progress (node, busiest room, busiest sender) and the adaptive limit on them, requests waiting for their ack, database operations in flight',
    labelNames: ['queue'],
    registers: [registry],
    collect() {
      const s = admission.stats();
      this.set({ queue: 'sends_node' }, s.sendsInProgress);
      this.set({ queue: 'sends_busiest_room' }, s.busiestRoomSends);
      this.set({ queue: 'sends_busiest_sender' }, s.busiestSenderSends);
      this.set({ queue: 'pending_acks' }, s.pendingAcks);
      this.set({ queue: 'db_in_flight' }, s.dbInFlight);
      this.set({ queue: 'sends_node_limit' }, s.sendLimit);
    },
  });
  new Gauge({
    name: 'chat_admission_send_seconds',
    help: 'Moving mean of how long recent sends took from admission to answer (compared with MAX_SEND_WAIT_MS)',
    registers: [registry],
    collect() {
      this.set(admission.stats().sendMs / 1000);
    },
  });
  new Gauge({
    name: 'chat_admission_send_target_seconds',
    help: 'The median send time the node holds under overload: SEND_QUEUE_TARGET_MS or three times its usual median (0 while off or not known yet)',
    registers: [registry],
    collect() {
      this.set(admission.stats().sendTargetMs / 1000);
    },
  });
  new Gauge({
    name: 'chat_admission_shedding',
    help: '1 while the node sheds hard (readiness answers 503), else 0',
    registers: [registry],
    collect() {
      this.set(admission.sheddingHard() ? 1 : 0);
    },
  });
  const shed = new Counter({
    name: 'chat_shed_requests_total',
    help: 'Requests refused or dropped because of load, by reason (deadline, db, node-sends, room-sends, send-wait, socket-pending, sender-sends)',
    labelNames: ['reason'],
    registers: [registry],
  });
  admission.onShed((reason) => shed.inc({ reason }));

  return {
    stop() {
      clearInterval(sweep);
      loop.disable();
    },
  };
}
