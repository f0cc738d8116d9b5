// Errors as values: every SDK request resolves to a Result, never throws for a refusal.
import type { ErrorCode } from './contract/errors';

/** The server's codes plus what can go wrong on the client's side of the wire. */
/** TIMEOUT: no answer in time; CLOSED: the client was closed; NETWORK: the server could not be reached. */
export type ChatErrorCode = ErrorCode | 'TIMEOUT' | 'CLOSED' | 'NETWORK';

export interface ChatError {
  code: ChatErrorCode;
  message: string;
  details?: unknown;
  /** For RATE_LIMITED (and UNAVAILABLE when the server says): when to try again. */
  retryAfterMs?: number;
}

export type Result<T> = { ok: true; data: T } | { ok: false; error: ChatError };

/** Builds a ChatError from a server error body, lifting `details.retryAfterMs`. */
export function toChatError(body: { code: ChatErrorCode; message: string; details?: unknown }): ChatError {
  const error: ChatError = { code: body.code, message: body.message };
  if (body.details !== undefined) error.details = body.details;
  const retry = (body.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  if (typeof retry === 'number' && retry >= 0) error.retryAfterMs = retry;
  return error;
}

export const clientErrors = {
  timeout: (event: string, ms: number): ChatError => ({ code: 'TIMEOUT', message: `${event}: no answer within ${ms} ms` }),
  closed: (): ChatError => ({ code: 'CLOSED', message: 'the client is closed' }),
};

/** Codes after which sending the same request again can succeed. */
export function isRetryable(code: ChatErrorCode): boolean {
  return code === 'TIMEOUT' || code === 'RATE_LIMITED' || code === 'UNAVAILABLE';
}
