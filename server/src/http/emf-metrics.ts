// CloudWatch embedded metric format (EMF): every interval, one JSON line on stdout that
// CloudWatch Logs turns into metrics, read from the Prometheus registry. ECS autoscaling and the
// alarms of deploy/cdk use them (connections per task, event-loop delay, queue backlog). Off
// unless METRICS_EMF_INTERVAL_MS is set; /metrics is unaffected.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { MetricValue, Registry } from 'prom-client';

/** One CloudWatch metric taken from a Prometheus metric, summed over the series that match `where`. */
export interface EmfSource {
  /** CloudWatch metric name (the names deploy/cdk scales and alarms on). */
  name: string;
  /** Prometheus metric; absent from the registry (not built yet, another role) → skipped. */
  prom: string;
  /** gauge: the current sum; counter: the increase since the last line; p99: from a histogram's buckets over the interval, in ms. */
  kind: 'gauge' | 'counter' | 'p99';
  where?: Record<string, readonly string[]>;
}

/** What the API nodes publish (ShedRequests: requests refused or dropped by admission control, overload/signals.ts). */
export const API_EMF_SOURCES: readonly EmfSource[] = [
  { name: 'ConnectedSockets', prom: 'chat_connected_sockets', kind: 'gauge' },
  { name: 'SendAckLatencyP99', prom: 'chat_ack_latency_seconds', kind: 'p99', where: { event: ['message:send'] } },
  { name: 'MessagesStored', prom: 'chat_messages_stored_total', kind: 'counter' },
  { name: 'ShedRequests', prom: 'chat_shed_requests_total', kind: 'counter' },
];

/** What the workers publish: the backlog they scale on, and dead letters for the alarm. */
export const WORKER_EMF_SOURCES: readonly EmfSource[] = [
  { name: 'QueueBacklog', prom: 'chat_jobs_queue_depth', kind: 'gauge', where: { state: ['waiting', 'prioritized'] } },
  { name: 'DeadLetters', prom: 'chat_jobs_dead_letters_total', kind: 'counter' },
];

const UNITS: Record<EmfSource['kind'], string> = { gauge: 'Count', counter: 'Count', p99: 'Milliseconds' };

export interface EmfOptions {
  namespace: string;
  /** Value of the one dimension, `Service` (per-service averages are what target tracking needs). */
  service: string;
  intervalMs: number;
  /** Where lines go; stdout in production, where the awslogs driver ships them. */
  write?: (line: string) => void;
  now?: () => number;
}

export interface EmfPublisher {
  /** Builds and writes one line now (the timer calls this); returns it. */
  publish(): Promise<string>;
  stop(): void;
}

/** Starts publishing every `intervalMs` (0: only when publish() is called, as tests do). */
export async function startEmfPublisher(registry: Registry, sources: readonly EmfSource[], opts: EmfOptions): Promise<EmfPublisher> {
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = opts.now ?? Date.now;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  // Counters and histograms are cumulative: remember the last reading to publish the interval's share.
  const last = new Map<string, number | Map<number, number>>();
  for (const s of sources) {
    const r = await read(registry, s);
    if (r) last.set(s.name, r.cumulative);
  }

  async function publish(): Promise<string> {
    const values: Record<string, number> = {};
    for (const s of sources) {
      const r = await read(registry, s);
      if (!r) continue;
      if (s.kind === 'gauge') values[s.name] = r.cumulative as number;
      else if (s.kind === 'counter') values[s.name] = Math.max(0, (r.cumulative as number) - ((last.get(s.name) as number | undefined) ?? 0));
      else {
        const p99 = intervalP99(r.cumulative as Map<number, number>, last.get(s.name) as Map<number, number> | undefined);
        if (p99 !== null) values[s.name] = p99;
      }
      last.set(s.name, r.cumulative);
    }
    // Nanoseconds → ms; the histogram starts over each interval so a spike shows once.
    values.EventLoopDelayP99 = Math.round(loopDelay.percentile(99) / 1e4) / 100;
    loopDelay.reset();
    const line = JSON.stringify({
      _aws: {
        Timestamp: now(),
        CloudWatchMetrics: [
          {
            Namespace: opts.namespace,
            Dimensions: [['Service']],
            Metrics: Object.keys(values).map((name) => ({ Name: name, Unit: name === 'EventLoopDelayP99' ? 'Milliseconds' : UNITS[sources.find((s) => s.name === name)!.kind] })),
          },
        ],
      },
      Service: opts.service,
      ...values,
    });
    write(line);
    return line;
  }

  const timer = opts.intervalMs > 0 ? setInterval(() => void publish().catch(() => undefined), opts.intervalMs) : null;
  timer?.unref();
  return {
    publish,
    stop() {
      if (timer) clearInterval(timer);
      loopDelay.disable();
    },
  };
}

type Reading = { cumulative: number | Map<number, number> };

/** Sums the matching series: a number, or (p99) cumulative bucket counts by upper bound. */
async function read(registry: Registry, s: EmfSource): Promise<Reading | null> {
  const metric = registry.getSingleMetric(s.prom);
  if (!metric) return null;
  const { values } = await metric.get();
  const matches = (v: MetricValue<string>) => Object.entries(s.where ?? {}).every(([k, allowed]) => allowed.includes(String(v.labels[k])));
  if (s.kind !== 'p99') return { cumulative: values.filter(matches).reduce((sum, v) => sum + v.value, 0) };
  const buckets = new Map<number, number>();
  for (const v of values) {
    if ((v as { metricName?: string }).metricName !== `${s.prom}_bucket` || !matches(v)) continue;
    const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + v.value);
  }
  return { cumulative: buckets };
}

/**
 * The 99th percentile of the observations made since `before`, interpolated linearly inside
 * its bucket as Prometheus' histogram_quantile does (the +Inf bucket reports the last bound).
 */
export function intervalP99(now: Map<number, number>, before: Map<number, number> | undefined): number | null {
  const bounds = [...now.keys()].sort((a, b) => a - b);
  const cum = bounds.map((b) => (now.get(b) ?? 0) - (before?.get(b) ?? 0));
  const total = cum[cum.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = 0.99 * total;
  const i = cum.findIndex((c) => c >= rank);
  const upper = bounds[i];
  const lower = i > 0 ? bounds[i - 1] : 0;
  if (upper === Infinity) return lower * 1000;
  const below = i > 0 ? cum[i - 1] : 0;
  const inBucket = cum[i] - below;
  const seconds = lower + (upper - lower) * (inBucket > 0 ? (rank - below) / inBucket : 1);
  return Math.round(seconds * 1e6) / 1e3;
}
