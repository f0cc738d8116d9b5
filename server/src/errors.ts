// One error model for socket acks and HTTP bodies: stable codes from the client contract.
import crypto from 'node:crypto';
import type { Logger } from './logger';

export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export const HTTP_STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

/** An expected failure with a contract code; anything else thrown is a bug (INTERNAL). */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const errors = {
  validation: (details: unknown, message = 'payload does not match the schema') => new AppError('VALIDATION_FAILED', message, details),
  unauthorized: (message = 'no valid session') => new AppError('UNAUTHORIZED', message),
  forbidden: (message = 'not allowed') => new AppError('FORBIDDEN', message),
  notFound: (what: string) => new AppError('NOT_FOUND', `${what} not found`),
  conflict: (message: string) => new AppError('CONFLICT', message),
  /** `limit` names which limit refused, when a route has several (login: account or address). */
  rateLimited: (retryAfterMs: number, limit?: string) => new AppError('RATE_LIMITED', 'too many requests', limit ? { retryAfterMs, limit } : { retryAfterMs }),
  unavailable: (message = 'a dependency is unavailable; nothing was stored') => new AppError('UNAVAILABLE', message),
};

/** True for errors that mean a dependency (MongoDB, Redis) is down rather than a bug. */
export function isUnavailableError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: string; message?: string; code?: string };
  const name = e.name ?? '';
  // ClientClosed: a request still running while the node shuts its connection down.
  if (/^Mongo(Network|ServerSelection|NotConnected|PoolCleared|Topology|ClientClosed)/.test(name)) return true;
  if (name === 'MongooseServerSelectionError') return true;
  if (e.message && /buffering timed out|Connection is closed|connection .* closed|ECONNREFUSED|Stream isn't writeable|MaxRetriesPerRequest/i.test(e.message)) return true;
  if (e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' || e.code === 'EPIPE') return true;
  return false;
}

/**
 * Maps anything thrown to the wire error body. Unknown errors become INTERNAL
 * with a request id and are logged once at error level; 4xx-type errors at debug.
 */
export function toErrorBody(err: unknown, log: Logger, requestId?: string): ErrorBody {
  if (err instanceof AppError) {
    const body: ErrorBody = { code: err.code, message: err.message };
    if (err.details !== undefined) body.details = err.details;
    // A request shed because of load (details.reason) is routine then: counted in metrics, not logged.
    if (err.code === 'UNAVAILABLE' && !(err.details as { reason?: unknown } | undefined)?.reason) log.warn({ code: err.code }, err.message);
    return body;
  }
  if (isUnavailableError(err)) {
    log.warn({ err }, 'dependency unavailable');
    return { code: 'UNAVAILABLE', message: 'a dependency is unavailable; nothing was stored' };
  }
  const id = requestId ?? crypto.randomUUID();
  log.error({ err, requestId: id }, 'internal error');
  return { code: 'INTERNAL', message: 'internal error', details: { requestId: id } };
}
