// A request's time budget, carried through its async work (AsyncLocalStorage) so the code
// that is about to touch the database can drop a request whose client has likely given up,
// instead of executing it late. Leaf module: no imports from the layers that use it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { AppError } from '../errors';

export interface Budget {
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
  /** performance.now() after which the request is no longer worth executing. */
  readonly deadline: number;
  /** Makes the answer for a request dropped at its deadline (and counts it). */
  expired(): AppError;
}

const current = new AsyncLocalStorage<Budget>();

/** Runs fn with a budget of `budgetMs` from now (0: no budget); `expired` answers a request dropped at its deadline. */
export function withBudget<T>(budgetMs: number, expired: () => AppError, fn: () => T): T {
  if (budgetMs <= 0) return fn();
  const startedAt = performance.now();
  return current.run({ startedAt, deadline: startedAt + budgetMs, expired }, fn);
}

/**
 * Runs fn with no request budget: background work a request set off (a timer it armed, such
 * as a live-delivery gap fill) would otherwise inherit the request's deadline.
 */
export function outsideBudget<T>(fn: () => T): T {
  return current.exit(fn);
}

/** The budget of the request running now, if any (background work has none). */
export function currentBudget(): Budget | undefined {
  return current.getStore();
}

export function isExpired(b: Budget | undefined, now = performance.now()): boolean {
  return b !== undefined && now > b.deadline;
}

/** Why a request was shed: in `details.reason` of the UNAVAILABLE / RATE_LIMITED answer. */
export type ShedReason = 'deadline' | 'db' | 'node-sends' | 'room-sends' | 'send-wait' | 'socket-pending' | 'sender-sends';

/** An answer to a request the node refused to take on (or to finish) because of load: nothing was stored. */
export function shedError(reason: ShedReason, retryAfterMs: number): AppError {
  const ms = Math.max(1, Math.round(retryAfterMs));
  // Too many requests from this one socket (or sends of this one user) is the client's doing: RATE_LIMITED; the rest is the node's load.
  if (reason === 'socket-pending') return new AppError('RATE_LIMITED', 'too many requests waiting for an answer on this connection', { retryAfterMs: ms, limit: 'pending', reason });
  if (reason === 'sender-sends') return new AppError('RATE_LIMITED', 'too many of your messages are waiting to be stored', { retryAfterMs: ms, limit: 'pending', reason });
  return new AppError('UNAVAILABLE', 'the server is overloaded; nothing was stored, retry later', { retryAfterMs: ms, reason });
}

/** True for an error made by shedError (the request was refused before it did anything). */
export function isShed(err: unknown): err is AppError {
  return err instanceof AppError && typeof (err.details as { reason?: unknown } | undefined)?.reason === 'string' && (err.code === 'UNAVAILABLE' || err.code === 'RATE_LIMITED');
}

/** Throws the deadline answer if the running request's budget is spent: call before touching the database. */
export function checkBudget(): void {
  const b = current.getStore();
  if (b && isExpired(b)) throw b.expired();
}
