import { describe, expect, it } from 'vitest';
import { dueCount, runPaced } from '../../loadtests/lib/pacer';

/** A fake clock that only moves when the pacer sleeps (plus optional stalls). */
function fakeClock() {
  let t = 1000;
  return { now: () => t, sleep: async (ms: number) => void (t += ms), stall: (ms: number) => void (t += ms) };
}

describe('dueCount', () => {
  it('schedules action i at i / rate', () => {
    expect(dueCount(-1, 10, 100)).toBe(0);
    expect(dueCount(0, 10, 100)).toBe(1);
    expect(dueCount(99, 10, 100)).toBe(1);
    expect(dueCount(100, 10, 100)).toBe(2);
    expect(dueCount(1000, 10, 100)).toBe(11);
  });

  it('never exceeds the total', () => {
    expect(dueCount(1e9, 1000, 50)).toBe(50);
    expect(dueCount(10, 10, 0)).toBe(0);
  });
});

describe('runPaced', () => {
  it('issues exactly total actions in order over total / rate seconds', async () => {
    const clock = fakeClock();
    const fired: number[] = [];
    const res = await runPaced({ ratePerSec: 100, total: 500, maxDurationMs: 60_000, fire: (i) => fired.push(i), now: clock.now, sleep: clock.sleep });
    expect(res.issued).toBe(500);
    expect(fired).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(res.endedAt - res.startedAt).toBeGreaterThanOrEqual(4990);
    expect(res.endedAt - res.startedAt).toBeLessThan(5100);
  });

  it('is open-loop: a stall makes the next tick catch up in a burst instead of stretching the schedule', async () => {
    const clock = fakeClock();
    const perTick: number[] = [];
    let inTick = 0;
    const res = await runPaced({
      ratePerSec: 100,
      total: 300,
      maxDurationMs: 60_000,
      tickMs: 10,
      fire: (i) => {
        inTick++;
        // The action at index 50 blocks the generator for 500 ms (like a slow synchronous step).
        if (i === 50) clock.stall(500);
      },
      now: clock.now,
      sleep: async (ms) => {
        perTick.push(inTick);
        inTick = 0;
        await clock.sleep(ms);
      },
    });
    expect(res.issued).toBe(300);
    expect(Math.max(...perTick)).toBeGreaterThanOrEqual(50);
    expect(res.maxLagMs).toBeGreaterThanOrEqual(490);
    expect(res.endedAt - res.startedAt).toBeLessThan(3100);
  });

  it('stops at the hard deadline and when asked to', async () => {
    const clock = fakeClock();
    const late = await runPaced({ ratePerSec: 10, total: 1000, maxDurationMs: 2000, fire: () => {}, now: clock.now, sleep: clock.sleep });
    expect(late.issued).toBeLessThanOrEqual(22);
    let n = 0;
    const stopped = await runPaced({ ratePerSec: 10, total: 1000, maxDurationMs: 60_000, fire: () => n++, shouldStop: () => n >= 5, now: clock.now, sleep: clock.sleep });
    expect(stopped.issued).toBe(5);
  });
});
