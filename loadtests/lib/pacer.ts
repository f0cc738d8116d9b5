// Open-loop pacing: the i-th action is due at start + i/rate, whatever happened
// to earlier ones. A slow server makes acks late, never sends late, so it cannot
// slow the generator down and hide its own latency (coordinated omission).
import { now as realNow, sleep as realSleep } from './clock';

/** How many of `total` actions are due `elapsedMs` after the start (action 0 is due at 0). */
export function dueCount(elapsedMs: number, ratePerSec: number, total: number): number {
  if (elapsedMs < 0 || total <= 0) return 0;
  return Math.min(total, Math.floor((elapsedMs * ratePerSec) / 1000) + 1);
}

export interface PacerOptions {
  ratePerSec: number;
  total: number;
  /** Hard stop: actions not issued by then are reported as not issued. */
  maxDurationMs: number;
  /** Called synchronously for each action; must not block (fire and forget). */
  fire(index: number): void;
  shouldStop?(): boolean;
  tickMs?: number;
  now?(): number;
  sleep?(ms: number): Promise<void>;
}

export interface PacerResult {
  issued: number;
  startedAt: number;
  endedAt: number;
  /** Worst delay between an action's scheduled time and its issue: generator saturation. */
  maxLagMs: number;
}

/** Issues `total` actions at `ratePerSec`, catching up in bursts if the timer was late. */
export async function runPaced(opts: PacerOptions): Promise<PacerResult> {
  const now = opts.now ?? realNow;
  const sleep = opts.sleep ?? realSleep;
  // A tick no longer than the interval keeps low rates precise; 5 ms bounds timer churn at high rates.
  const tickMs = opts.tickMs ?? Math.max(1, Math.min(5, 1000 / opts.ratePerSec));
  const startedAt = now();
  const intervalMs = 1000 / opts.ratePerSec;
  let issued = 0;
  let maxLagMs = 0;
  while (issued < opts.total) {
    const t = now();
    if (t - startedAt > opts.maxDurationMs || opts.shouldStop?.()) break;
    const due = dueCount(t - startedAt, opts.ratePerSec, opts.total);
    for (; issued < due; issued++) {
      maxLagMs = Math.max(maxLagMs, t - (startedAt + issued * intervalMs));
      opts.fire(issued);
    }
    if (issued < opts.total) await sleep(tickMs);
  }
  return { issued, startedAt, endedAt: now(), maxLagMs };
}
