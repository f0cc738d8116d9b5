import { describe, expect, it } from 'vitest';
import { BUCKET_BOUNDS_MS, BucketCounts, LatencyStats, Timeline } from '../../loadtests/lib/stats';

describe('LatencyStats', () => {
  it('reports zeros when empty', () => {
    expect(new LatencyStats().summary()).toEqual({ count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 });
  });

  it('gives percentiles within HdrHistogram precision (3 digits) at µs resolution', () => {
    const s = new LatencyStats();
    for (let i = 1; i <= 10_000; i++) s.record(i / 100); // 0.01 .. 100 ms, uniform
    const sum = s.summary();
    expect(sum.count).toBe(10_000);
    expect(sum.p50).toBeCloseTo(50, 0);
    expect(sum.p95).toBeCloseTo(95, 0);
    expect(sum.p99).toBeCloseTo(99, 0);
    expect(sum.max).toBeCloseTo(100, 0);
    expect(sum.mean).toBeCloseTo(50, 0);
  });

  it('keeps sub-millisecond values apart', () => {
    const s = new LatencyStats();
    for (let i = 0; i < 99; i++) s.record(0.2);
    s.record(0.9);
    expect(s.summary().p50).toBeCloseTo(0.2, 3);
    expect(s.summary().max).toBeCloseTo(0.9, 3);
  });
});

describe('BucketCounts', () => {
  it('puts a value in the first bucket whose bound is not below it', () => {
    const b = new BucketCounts();
    for (const v of [0.1, 0.5, 0.6, 1, 3, 1e6]) b.record(v);
    expect(b.counts[0]).toBe(2);
    expect(b.counts[1]).toBe(2);
    expect(b.counts[3]).toBe(1);
    expect(b.counts[BUCKET_BOUNDS_MS.length - 1]).toBe(1);
  });
});

describe('Timeline', () => {
  it('buckets by the second the event happened and reports the last complete second', () => {
    const tl = new Timeline(10_000);
    tl.at(10_100).sent++;
    tl.at(10_100).delivery.record(5);
    tl.at(12_500).sent += 2;
    const pts = tl.points();
    expect(pts.map((p) => p.sent)).toEqual([1, 0, 2]);
    expect(pts[0].delivery.p99).toBeCloseTo(5, 1);
    expect(tl.recentP99(11_200)).toBeCloseTo(5, 1);
    expect(tl.recentP99(10_500)).toBeNull();
  });
});
