import { describe, expect, it } from 'vitest';
import { assertLoopback, isLoopbackHost, parseCli, UsageError } from '../../loadtests/lib/args';
import { pageIsExact, pickPage, prng } from '../../loadtests/lib/pages';
import { parsePrometheus } from '../../loadtests/lib/target';

describe('loopback guard', () => {
  it('accepts only this machine', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['10.0.0.1', 'example.com', '0.0.0.0', '128.0.0.1', 'localhost.example.com']) expect(isLoopbackHost(h)).toBe(false);
  });

  it('refuses remote URLs (and a remote Mongo URI) unless --allow-remote', () => {
    expect(() => assertLoopback(['http://127.0.0.1:3000', 'http://[::1]:3001'])).not.toThrow();
    expect(() => parseCli(['chat', '--url', 'http://example.com'])).toThrow(UsageError);
    expect(() => parseCli(['history', '--mongo-uri', 'mongodb://db.example.com:27017/chat'])).toThrow(/non-loopback/);
    expect(parseCli(['chat', '--url', 'http://example.com', '--allow-remote']).urls).toEqual(['http://example.com']);
  });
});

describe('parseCli', () => {
  it('applies per-scenario defaults and bounds', () => {
    const o = parseCli(['fanout', '--clients', '50']);
    expect(o).toMatchObject({ scenario: 'fanout', clients: 50, rate: 10, durationS: 30, urls: ['http://127.0.0.1:3000'] });
    expect(() => parseCli(['chat', '--clients', '0'])).toThrow(/--clients/);
    expect(() => parseCli(['chat', '--duration', '1e9'])).toThrow(/--duration/);
    expect(() => parseCli(['chat', '--bogus'])).toThrow(UsageError);
    expect(() => parseCli(['nope'])).toThrow(/unknown scenario/);
  });

  it('takes several nodes for cluster only', () => {
    expect(parseCli(['cluster', '--url', 'http://127.0.0.1:1,http://127.0.0.1:2/']).urls).toEqual(['http://127.0.0.1:1', 'http://127.0.0.1:2']);
    expect(() => parseCli(['chat', '--url', 'http://127.0.0.1:1,http://127.0.0.1:2'])).toThrow(/cluster/);
  });
});

describe('parsePrometheus', () => {
  it('reads gauges with and without labels, skipping comments', () => {
    const m = parsePrometheus('# HELP x\n# TYPE x gauge\nprocess_resident_memory_bytes{node="a"} 1.5e8\nnodejs_heap_size_used_bytes 1234\nbad line\n');
    expect(m.get('process_resident_memory_bytes')).toBe(1.5e8);
    expect(m.get('nodejs_heap_size_used_bytes')).toBe(1234);
  });
});

describe('history pages', () => {
  it('checks pages exactly as the contract defines them', () => {
    const seqs = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, k) => ({ seq: a + k }));
    expect(pageIsExact({ kind: 'newest' }, seqs(951, 1000), 50, 1000)).toBe(true);
    expect(pageIsExact({ kind: 'after', afterSeq: 990 }, seqs(991, 1000), 50, 1000)).toBe(true);
    expect(pageIsExact({ kind: 'before', beforeSeq: 10 }, seqs(1, 9), 50, 1000)).toBe(true);
    expect(pageIsExact({ kind: 'before', beforeSeq: 10 }, seqs(2, 9), 50, 1000)).toBe(false);
    expect(pageIsExact({ kind: 'after', afterSeq: 0 }, seqs(1, 50).reverse(), 50, 1000)).toBe(false);
  });

  it('asks for the newest page one time in four and otherwise for pages inside the room', () => {
    const rand = prng(1);
    const qs = Array.from({ length: 400 }, (_, i) => pickPage(i, rand, 1000));
    expect(qs.filter((q) => q.kind === 'newest')).toHaveLength(100);
    for (const q of qs) {
      if (q.beforeSeq !== undefined) expect(q.beforeSeq).toBeGreaterThanOrEqual(2);
      if (q.beforeSeq !== undefined) expect(q.beforeSeq).toBeLessThanOrEqual(1001);
      if (q.afterSeq !== undefined) expect(q.afterSeq).toBeLessThan(1000);
    }
  });
});
