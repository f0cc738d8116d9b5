// The measurements of one run and the result document built from them. Every
// scenario fills a RunRecorder, so every result has the same shape.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Options, ScenarioName } from './args';
import { now } from './clock';
import { BUCKET_BOUNDS_MS, BucketCounts, LatencyStats, Timeline, tally, type LatencySummary, type TimelinePoint } from './stats';

export interface RunResult {
  scenario: ScenarioName;
  server: 'target' | 'baseline';
  urls: string[];
  params: Record<string, number | string | boolean | null>;
  startedAt: string;
  /** Length of the measured phase (sending, ramp or page requests), ms. */
  measuredMs: number;
  connected: number;
  sent: number;
  /** Scheduled but not sent (sender disconnected, or the run was stopped). */
  notSent: number;
  delivered: number;
  expectedDeliveries: number;
  lost: number;
  duplicates: number;
  /** The sender's own copy of its message (not counted as a delivery). */
  echoes: number;
  /** Requests by outcome: 'ok', an error code, or 'timeout'. */
  acks: Record<string, number>;
  /** Latency of ok acks (connect: handshake; history: page request). */
  ackMs: LatencySummary;
  /** Send → message:new on another member's socket. */
  deliveryMs: LatencySummary;
  /** Deliveries per second (history: ok pages/s; connect: connections/s). */
  throughputPerSec: number;
  errors: Record<string, number>;
  ordering: { outOfOrder: number; seqGaps: number };
  generator: { pacerMaxLagMs: number; eventLoopP99Ms: number; eventLoopMaxMs: number };
  timeline: TimelinePoint[];
  histogram: { of: 'delivery' | 'ack'; boundsMs: Array<number | null>; counts: number[] };
  details: Record<string, unknown>;
  /** Database commands and CPU per message on the server (real server only; see server-cost.ts). */
  serverCost?: import('./server-cost').ServerCost;
}

export interface FinalResult extends RunResult {
  baseline?: RunResult;
  /** Ours ÷ baseline: throughput and the p99 of the scenario's main latency. */
  ratio?: { throughput: number; p99: number };
}

/** The load-defining options, without secrets. */
export function paramsOf(o: Options, users: 'sign' | 'register'): RunResult['params'] {
  const p: RunResult['params'] = { clients: o.clients, durationS: o.durationS, rampPerSec: o.rampPerSec, ackTimeoutMs: o.ackTimeoutMs };
  if (o.scenario === 'chat' || o.scenario === 'cluster') Object.assign(p, { rooms: o.rooms, rate: o.rate, textBytes: o.textBytes, drainS: o.drainS, retry: o.retry });
  if (o.scenario === 'fanout') Object.assign(p, { rate: o.rate, textBytes: o.textBytes, drainS: o.drainS, retry: o.retry });
  if (o.scenario === 'history') Object.assign(p, { rate: o.rate, seed: o.seed, pageLimit: o.pageLimit });
  p.users = users === 'sign' ? 'signed' : 'registered';
  return p;
}

export class RunRecorder {
  connected = 0;
  sent = 0;
  received = 0;
  errors = 0;
  notSent = 0;
  pacerMaxLagMs = 0;
  readonly acks: Record<string, number> = {};
  readonly errorKinds: Record<string, number> = {};
  readonly ack = new LatencyStats();
  readonly delivery = new LatencyStats();
  readonly ordering = { outOfOrder: 0, seqGaps: 0 };
  private readonly ackBuckets = new BucketCounts();
  private readonly deliveryBuckets = new BucketCounts();
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });
  timeline = new Timeline(now());
  measureStart = now();
  measureEnd: number | null = null;
  readonly startedAt = new Date().toISOString();

  /** Starts the measured phase: the timeline's second 0 and the generator's event-loop monitor. */
  startMeasuring(t = now()): void {
    this.measureStart = t;
    this.timeline = new Timeline(t);
    // The generator's own event-loop delay: if it is high, the generator, not the server, was the bottleneck.
    this.loop.reset();
    this.loop.enable();
  }

  error(kind: string): void {
    tally(this.errorKinds, kind);
    this.errors++;
    this.timeline.at(now()).errors++;
  }

  onSent(at = now()): void {
    this.sent++;
    this.timeline.at(at).sent++;
  }

  onAck(code: string, ms: number, at = now()): void {
    tally(this.acks, code);
    const sec = this.timeline.at(at);
    if (code !== 'ok') {
      this.errors++;
      sec.errors++;
      return;
    }
    sec.acked++;
    sec.ack.record(ms);
    this.ack.record(ms);
    this.ackBuckets.record(ms);
  }

  onDelivery(ms: number, at = now()): void {
    const sec = this.timeline.at(at);
    sec.delivered++;
    sec.delivery.record(ms);
    this.delivery.record(ms);
    this.deliveryBuckets.record(ms);
  }

  p99(): number | null {
    return this.timeline.recentP99(now());
  }

  /** Builds the result; `throughputPerSec` and `details` are the scenario's to define. */
  finish(base: Pick<RunResult, 'scenario' | 'server' | 'urls' | 'params' | 'throughputPerSec' | 'details'> & Partial<RunResult>): RunResult {
    this.loop.disable();
    const useDelivery = this.delivery.count > 0;
    const boundsMs = BUCKET_BOUNDS_MS.map((b) => (Number.isFinite(b) ? b : null));
    // Identity first, so the JSON reads top-down; the scenario's own figures override the defaults.
    const { scenario, server, urls, params, ...rest } = base;
    return {
      scenario,
      server,
      urls,
      params,
      startedAt: this.startedAt,
      measuredMs: Math.round((this.measureEnd ?? now()) - this.measureStart),
      connected: this.connected,
      sent: this.sent,
      notSent: this.notSent,
      delivered: 0,
      expectedDeliveries: 0,
      lost: 0,
      duplicates: 0,
      echoes: 0,
      acks: this.acks,
      ackMs: this.ack.summary(),
      deliveryMs: this.delivery.summary(),
      errors: this.errorKinds,
      ordering: this.ordering,
      generator: {
        pacerMaxLagMs: Math.round(this.pacerMaxLagMs * 10) / 10,
        eventLoopP99Ms: this.loop.count > 0 ? Math.round(this.loop.percentile(99) / 1e4) / 100 : 0,
        eventLoopMaxMs: this.loop.count > 0 ? Math.round(this.loop.max / 1e4) / 100 : 0,
      },
      timeline: this.timeline.points(),
      histogram: { of: useDelivery ? 'delivery' : 'ack', boundsMs, counts: (useDelivery ? this.deliveryBuckets : this.ackBuckets).counts },
      ...rest,
    };
  }
}
