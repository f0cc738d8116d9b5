import { describe, expect, it } from 'vitest';
import { createAdmission, type AdmissionConfig } from '../../server/src/overload/admission';

// The adaptive send limit, driven by a fake clock: each send is a promise the test settles at
// a chosen time, so "how long a send took" is exact and nothing here depends on the machine.

const CFG: AdmissionConfig = {
  budgetMs: 0,
  maxPendingPerSocket: 1000,
  maxSendsPerRoom: 1000,
  maxSendsPerNode: 1024,
  maxSendsPerSender: 1000,
  sendLimitFloor: 4,
  roomSendBurst: 1000,
  maxSendWaitMs: 250,
  sendQueueTargetMs: 20,
  maxDbInFlight: 1000,
  readyShedRatio: 0,
};

type Admitted = { done: (atMs: number) => Promise<void> };

function harness(cfg: Partial<AdmissionConfig> = {}) {
  let clock = 0;
  const admission = createAdmission({ ...CFG, ...cfg }, () => clock);
  let n = 0;
  /** Offers one send (room and sender of its own unless given) now; null if refused, else finish it with done(atMs). */
  function send(room = `r${n}`, sender = `s${n++}`): Admitted | null {
    let finish: (() => void) | undefined;
    const answer = admission.send(room, sender, () => new Promise<void>((r) => (finish = r)));
    // An admitted send starts at once (fn runs before send's first await); a refused one never starts.
    if (finish === undefined) {
      answer.catch(() => undefined);
      return null;
    }
    const end = finish;
    return {
      done: async (atMs: number) => {
        clock = atMs;
        end();
        await answer;
      },
    };
  }
  /** Offers n sends now; all must be admitted. */
  function burst(count: number, room?: string): Admitted[] {
    const list = Array.from({ length: count }, () => send(room));
    const refused = list.filter((x) => x === null).length;
    if (refused > 0) throw new Error(`${refused} of the burst refused`);
    return list as Admitted[];
  }
  /**
   * Load the node takes whole, for `ms` from now: 5 sends every 5 ms, each taking `tookMs`,
   * so sends are always in progress; then the last ones finish. Teaches the node its usual median.
   */
  async function steady(tookMs: number, ms: number): Promise<void> {
    const pending: Array<{ send: Admitted; end: number }> = [];
    for (const stop = clock + ms; clock < stop; ) {
      const t = clock;
      while (pending.length > 0 && pending[0].end <= t) {
        const p = pending.shift()!;
        await p.send.done(p.end);
      }
      clock = t;
      for (const send of burst(5)) pending.push({ send, end: t + tookMs });
      clock = t + 5;
    }
    for (const p of pending) await p.send.done(Math.max(clock, p.end));
  }
  return { admission, burst, steady, at: (ms: number) => (clock = ms), now: () => clock };
}

describe('admission: the adaptive send limit (SEND_QUEUE_TARGET_MS)', () => {
  it('a queue that stands (median send above the target for an interval) cuts the limit toward the target, and new sends are refused with send-wait', async () => {
    const h = harness();
    await h.steady(3, 2000);
    expect(h.admission.stats().sendTargetMs).toBe(20);
    const t = h.now();
    const sends = h.burst(100);
    // 20 sends finish over 120 ms, each having taken 60-120 ms: a standing queue at 3-6× the target.
    for (let i = 0; i < 20; i++) await sends[i].done(t + 60 + i * 6);
    const limit = h.admission.stats().sendLimit;
    // Cut from the 80 or so in progress, by at least half (target 20 ÷ median ≥ 90 ms, bounded at ×0.5).
    expect(limit).toBeLessThanOrEqual(45);
    expect(limit).toBeGreaterThanOrEqual(CFG.sendLimitFloor);
    await expect(h.admission.send('r-new', 's-new', async () => 1)).rejects.toMatchObject({ code: 'UNAVAILABLE', details: { reason: 'send-wait' } });
    expect(h.admission.stats().shed['send-wait']).toBe(1);
  });

  it('sends that meet the target never cut the limit, however many are in progress', async () => {
    const h = harness();
    const slow = h.burst(200);
    // 200 sends wait 50-250 ms, but each finishes between two sends that took 5 ms: the median meets the target.
    for (let i = 0; i < slow.length; i++) {
      const t = 50 + i;
      for (const _ of [1, 2]) {
        h.at(t - 5);
        await h.burst(1)[0].done(t);
      }
      await slow[i].done(t);
    }
    expect(h.admission.stats().sendLimit).toBe(CFG.maxSendsPerNode);
  });

  it('one room draining a long burst does not cut the node while the other rooms are fast (the median, not the slowest)', async () => {
    const h = harness();
    const roomBurst = h.burst(40, 'hot');
    // Over 400 ms the hot room's sends finish, each having waited up to 400 ms, between other
    // rooms' sends that take 2 ms each: the median send meets the target.
    for (let i = 0; i < 200; i++) {
      const t = i * 2 + 2;
      h.at(t - 2);
      await h.burst(1)[0].done(t);
      if (i % 5 === 0) await roomBurst[i / 5].done(t);
    }
    expect(h.admission.stats().sendLimit).toBe(CFG.maxSendsPerNode);
  });

  it("the target follows the node's usual median: a node whose sends take 25 ms at capacity is not cut at 60, but is at 150", async () => {
    const h = harness();
    await h.steady(25, 3000);
    expect(h.admission.stats().sendLimit).toBe(CFG.maxSendsPerNode);
    expect(h.admission.stats().sendTargetMs).toBe(75);
    // Slower than the least target (20) but within three times the usual median: no cut.
    await h.steady(60, 1000);
    expect(h.admission.stats().sendLimit).toBe(CFG.maxSendsPerNode);
    // A queue at six times the usual median: cut.
    const t = h.now();
    const queued = h.burst(100);
    for (let i = 0; i < 20; i++) await queued[i].done(t + 120 + i * 6);
    expect(h.admission.stats().sendLimit).toBeLessThan(100);
  });

  it('no cut before the node knows its usual median (its first second of sends)', async () => {
    const h = harness();
    const sends = h.burst(100);
    for (let i = 0; i < 20; i++) await sends[i].done(60 + i * 6);
    expect(h.admission.stats().sendLimit).toBe(CFG.maxSendsPerNode);
  });

  it('the cut never goes below SEND_LIMIT_FLOOR, and an empty node forgets it: the next burst passes whole', async () => {
    const h = harness();
    await h.steady(3, 2000);
    const t = h.now();
    const slow = h.burst(40);
    for (let i = 0; i < 40; i++) await slow[i].done(t + 200 + i * 10);
    expect(h.admission.stats().sendLimit).toBe(CFG.sendLimitFloor);
    // Nothing in progress now: a new burst of 50 is admitted whole.
    h.burst(50);
    expect(h.admission.stats().sendLimit).toBe(CFG.maxSendsPerNode);
  });

  it('0 turns the target off: slow sends below MAX_SEND_WAIT_MS leave the limit alone', async () => {
    const h = harness({ sendQueueTargetMs: 0 });
    const sends = h.burst(50);
    for (let i = 0; i < 50; i++) await sends[i].done(100 + i * 2);
    expect(h.admission.stats().sendLimit).toBe(CFG.maxSendsPerNode);
  });
});
