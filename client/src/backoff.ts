// Retry delays: exponential with full jitter, or the server's retryAfterMs plus jitter,
// so that many clients refused at once do not all come back in the same millisecond.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 200, maxMs: 10_000 };

/** Delay before attempt `attempt` (1 = first retry). `retryAfterMs` from the server wins. */
export function backoffDelay(attempt: number, retryAfterMs: number | undefined, opts: BackoffOptions = DEFAULT_BACKOFF, random = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(opts.maxMs, retryAfterMs) + Math.floor(random() * Math.min(opts.baseMs, retryAfterMs / 4 + 1));
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt - 1, 16));
  return Math.floor(ceiling / 2 + random() * (ceiling / 2));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
