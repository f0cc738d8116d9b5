// Latency statistics: HdrHistogram for percentiles (bounded memory at any
// count, no sorted arrays), a per-second timeline and fixed log buckets for charts.
import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Records milliseconds at microsecond resolution. */
export class LatencyStats {
  private readonly h: hdr.Histogram;

  constructor(significantDigits: 2 | 3 = 3) {
    this.h = hdr.build({ numberOfSignificantValueDigits: significantDigits, autoResize: true });
  }

  record(ms: number): void {
    this.h.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.h.totalCount;
  }

  percentile(p: number): number {
    return this.h.totalCount === 0 ? 0 : round3(this.h.getValueAtPercentile(p) / 1000);
  }

  summary(): LatencySummary {
    if (this.h.totalCount === 0) return { count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
    // Percentiles are bucket upper bounds; clamping keeps p99 ≤ max in the report.
    const max = round3(this.h.maxValue / 1000);
    const p = (q: number) => Math.min(this.percentile(q), max);
    return { count: this.h.totalCount, mean: round3(this.h.mean / 1000), p50: p(50), p95: p(95), p99: p(99), max };
  }
}

/** Upper bounds (ms) of the chart histogram's buckets; the last one catches the rest. */
export const BUCKET_BOUNDS_MS = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, Infinity];

export class BucketCounts {
  readonly counts = new Array<number>(BUCKET_BOUNDS_MS.length).fill(0);
  record(ms: number): void {
    let i = 0;
    while (ms > BUCKET_BOUNDS_MS[i]) i++;
    this.counts[i]++;
  }
}

export interface TimelinePoint {
  /** Second since the start of the measured phase. */
  t: number;
  sent: number;
  acked: number;
  delivered: number;
  errors: number;
  ack: LatencySummary;
  delivery: LatencySummary;
}

interface Second {
  sent: number;
  acked: number;
  delivered: number;
  errors: number;
  ack: LatencyStats;
  delivery: LatencyStats;
}

/** Per-second counters and latencies, bucketed by the time each event happened. */
export class Timeline {
  private readonly seconds: Second[] = [];
  constructor(private readonly t0: number) {}

  at(t: number): Second {
    const i = Math.max(0, Math.floor((t - this.t0) / 1000));
    for (let k = this.seconds.length; k <= i; k++) {
      this.seconds.push({ sent: 0, acked: 0, delivered: 0, errors: 0, ack: new LatencyStats(2), delivery: new LatencyStats(2) });
    }
    return this.seconds[i];
  }

  /** p99 of the last complete second that saw deliveries (else acks): the live progress figure. */
  recentP99(t: number): number | null {
    const i = Math.floor((t - this.t0) / 1000) - 1;
    for (let k = Math.min(i, this.seconds.length - 1); k >= Math.max(0, i - 2); k--) {
      const s = this.seconds[k];
      if (s.delivery.count > 0) return s.delivery.percentile(99);
      if (s.ack.count > 0) return s.ack.percentile(99);
    }
    return null;
  }

  points(): TimelinePoint[] {
    return this.seconds.map((s, t) => ({
      t,
      sent: s.sent,
      acked: s.acked,
      delivered: s.delivered,
      errors: s.errors,
      ack: s.ack.summary(),
      delivery: s.delivery.summary(),
    }));
  }
}

/** Adds one to a counter in a string-keyed tally (ack codes, error kinds). */
export function tally(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}
