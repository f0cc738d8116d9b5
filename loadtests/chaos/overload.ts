// The chaos run's overload phase: open-loop sends from the chaos clients (each retried with
// the same clientMsgId after retryAfterMs plus jitter, as docs/protocol.md asks), at half
// the capacity, at the capacity, at twice the capacity for 30 s, then at half again. It
// measures what the targets are about: every attempt answered (0 timeouts), the ack
// p99 of accepted sends against its value at capacity, and how soon after the overload the
// p99 is back within 10 % of its value before. Without --capacity it first finds the
// capacity: rising steps until the node starts refusing or falls behind.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ChaosClient, SendAttempt } from './client';

export interface OverloadOptions {
  /** Messages/s the deployment serves (null: probe for it first). */
  capacity: number | null;
  overloadMs: number;
  /** Called this long into the overload (e.g. to SIGKILL a node); null: nothing happens. */
  midOverload: { afterMs: number; run: () => Promise<void> } | null;
  say(line: string): void;
}

export interface PhaseFigures {
  phase: string;
  rate: number;
  ms: number;
  sends: number;
  attempts: number;
  /** Attempts by answer: ok, UNAVAILABLE, RATE_LIMITED, timeout, disconnected... */
  answers: Record<string, number>;
  okPerSec: number;
  /** Ack ms of accepted attempts. */
  p50: number | null;
  p99: number | null;
  /** The chaos process's own event-loop delay p99 (ms): if high, the generator inflates the latencies. */
  generatorLoopP99Ms: number;
}

export interface OverloadResult {
  capacity: number;
  /** How the capacity was found: the probe steps, or 'given'. */
  probe: PhaseFigures[] | 'given';
  phases: PhaseFigures[];
  /** Attempts of the overload phase (and the 5 s after) without an answer within the client's 3 s timeout. */
  timeouts: number;
  /** Overload p99 ÷ p99 at capacity (target ≤ 2). */
  p99Ratio: number | null;
  /** From the end of the overload until a 1 s window's p99 is within 10 % of the p99 before it (target ≤ 5000). */
  recoveredMs: number | null;
  /**
   * From the end of the overload until the last send offered during it settled (acked or given
   * up): until then its clients' retries keep the offered load above half.
   */
  backlogMs: number | null;
  /** Like recoveredMs, counted from the moment that backlog was gone. */
  recoveredAfterBacklogMs: number | null;
  /** Sends abandoned after 10 s of refusals (each refusal answered in time). */
  gaveUp: number;
}

const SEND_DEADLINE_MS = 10_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export async function runOverload(clients: ChaosClient[], opts: OverloadOptions): Promise<OverloadResult> {
  const attempts = (): SendAttempt[] => clients.flatMap((c) => c.attempts);
  let gaveUp = 0;
  let n = 0;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const inFlight = new Set<Promise<unknown>>();

  /** Offers `rate` sends/s for `ms`, open loop (a send does not wait for the previous one). */
  let overloadSends: Promise<unknown>[] | null = null;
  async function offer(phase: string, rate: number, ms: number, during?: OverloadOptions['midOverload']): Promise<PhaseFigures> {
    const start = Date.now();
    const mineSends: Promise<unknown>[] = [];
    if (during !== undefined) overloadSends = mineSends;
    const before = new Set(attempts());
    let sends = 0;
    const mid = during ? sleep(during.afterMs).then(() => during.run()) : null;
    loop.reset();
    while (Date.now() - start < ms) {
      const due = Math.floor(((Date.now() - start) / 1000) * rate);
      while (sends < due) {
        const c = clients[n++ % clients.length];
        const rooms = c.followed();
        // A send's deadline: 10 s of retries, then the client gives up (as the load generator's --ack-timeout).
        const p = c.send(rooms[n % rooms.length], `overload ${phase} ${n}`, SEND_DEADLINE_MS).then((done) => {
          if (!done) gaveUp += 1;
        });
        inFlight.add(p);
        mineSends.push(p);
        void p.finally(() => inFlight.delete(p));
        sends += 1;
      }
      await sleep(5);
    }
    await mid;
    const end = Date.now();
    const mine = attempts().filter((a) => !before.has(a) && a.at >= start && a.at < end);
    return figures(phase, rate, end - start, sends, mine);
  }

  function figures(phase: string, rate: number, ms: number, sends: number, list: SendAttempt[]): PhaseFigures {
    const answers: Record<string, number> = {};
    for (const a of list) answers[a.code] = (answers[a.code] ?? 0) + 1;
    const ok = list.filter((a) => a.code === 'ok').map((a) => a.ms).sort((x, y) => x - y);
    const generatorLoopP99Ms = Math.round(loop.percentile(99) / 1e5) / 10;
    return { phase, rate, ms, sends, attempts: list.length, answers, okPerSec: Math.round((ok.length / ms) * 10000) / 10, p50: quantile(ok, 0.5), p99: quantile(ok, 0.99), generatorLoopP99Ms };
  }

  const show = (f: PhaseFigures) =>
    opts.say(`  ${f.phase}: ${f.rate} msg/s offered, ${f.okPerSec} ok/s, accepted ack p50/p99 ${f.p50 ?? '-'} / ${f.p99 ?? '-'} ms, answers ${JSON.stringify(f.answers)}, generator loop p99 ${f.generatorLoopP99Ms} ms`);

  // Capacity: the highest step the deployment serves without refusing (≤ 1 % shed) and keeping up (≥ 95 % ok/s).
  let capacity = opts.capacity;
  let probe: OverloadResult['probe'] = 'given';
  if (capacity === null) {
    probe = [];
    opts.say('overload: probing capacity (8 s steps, ×1.5 each)');
    // Steps of ×1.5, not ×2: with doubling the capacity found could be up to half the real one,
    // and "2× capacity" then barely overloads the node.
    for (let rate = 50; rate <= 3200; rate = Math.round(rate * 1.5)) {
      const f = await offer(`probe ${rate}`, rate, 8000);
      show(f);
      probe.push(f);
      const refused = f.attempts - (f.answers.ok ?? 0);
      if (refused > f.attempts * 0.01 || f.okPerSec < rate * 0.95) break;
      capacity = rate;
      await sleep(2000);
    }
    capacity ??= 50;
    await Promise.all([...inFlight]);
    await sleep(3000);
  }
  opts.say(`overload: capacity ${capacity} msg/s; half, capacity, ${2 * capacity} msg/s for ${opts.overloadMs / 1000} s, half`);
  const phases: PhaseFigures[] = [];
  phases.push(await offer('before (half)', Math.round(capacity / 2), 10_000));
  phases.push(await offer('at capacity', capacity, 10_000));
  const overStart = Date.now();
  phases.push(await offer('overload (2x)', 2 * capacity, opts.overloadMs, opts.midOverload ?? null));
  const overEnd = Date.now();
  let backlogEnd: number | null = null;
  void Promise.all(overloadSends ?? []).then(() => (backlogEnd = Date.now()));
  phases.push(await offer('after (half)', Math.round(capacity / 2), 20_000));
  for (const f of phases) show(f);
  await Promise.all([...inFlight]);

  const all = attempts();
  const timeouts = all.filter((a) => a.at >= overStart && a.at < overEnd + 5000 && a.code === 'timeout').length;
  const before = phases[0].p99;
  const atCapacity = phases[1].p99;
  const over = phases[2].p99;
  // Recovery: slide a 1 s window in 250 ms steps from `from` until the p99 of the attempts
  // answered in it is within 10 % of the p99 before the overload.
  const recovered = (from: number | null): number | null => {
    if (before === null || from === null) return null;
    for (let t = from; t < overEnd + 20_000 - 1000; t += 250) {
      const w = all.filter((a) => a.code === 'ok' && a.at + a.ms >= t && a.at + a.ms < t + 1000).map((a) => a.ms).sort((x, y) => x - y);
      const p = quantile(w, 0.99);
      if (w.length >= 10 && p !== null && p <= before * 1.1) return t - from;
    }
    return null;
  };
  const recoveredMs = recovered(overEnd);
  const recoveredAfterBacklogMs = recovered(backlogEnd);
  loop.disable();
  return {
    capacity,
    probe,
    phases,
    timeouts,
    p99Ratio: over !== null && atCapacity ? Math.round((over / atCapacity) * 100) / 100 : null,
    recoveredMs,
    backlogMs: backlogEnd === null ? null : (backlogEnd as number) - overEnd,
    recoveredAfterBacklogMs,
    gaveUp,
  };
}
