// Turns anything thrown in a route into the contract's `{ error: { code, message, details } }`.
import type { NextFunction, Request, Response } from 'express';
import { AppError, HTTP_STATUS, toErrorBody } from '../errors';

interface BodyParserError {
  type?: string;
  status?: number;
}

/** Maps body-parser failures to contract codes before the generic mapping. */
function fromBodyParser(err: BodyParserError): AppError | null {
  switch (err.type) {
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE', 'request body is over 64 KiB');
    case 'entity.parse.failed':
      return new AppError('VALIDATION_FAILED', 'request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
    case 'request.size.invalid':
    case 'entity.verify.failed':
      return new AppError('VALIDATION_FAILED', 'request body cannot be read');
    default:
      return null;
  }
}

/**
 * Other 4xx errors raised by Express or body-parser before a route runs: a path parameter
 * that is not valid percent-encoding, a body that will not inflate or decode.
 */
function fromHttpError(err: { status?: unknown; statusCode?: unknown }): AppError | null {
  const status = typeof err.status === 'number' ? err.status : typeof err.statusCode === 'number' ? err.statusCode : 0;
  if (status === 413) return new AppError('PAYLOAD_TOO_LARGE', 'request body is over 64 KiB');
  if (status >= 400 && status < 500) return new AppError('VALIDATION_FAILED', 'request cannot be read', [{ path: '/', message: 'malformed request' }]);
  return null;
}

export function notFoundRoute(req: Request, _res: Response, next: NextFunction) {
  next(new AppError('NOT_FOUND', `no route ${req.method} ${req.path}`));
}

// Express recognises error middleware by its four parameters.
export function errorMiddleware(err: unknown, req: Request, res: Response, _next: NextFunction) {
  const mapped = (err && typeof err === 'object' && !(err instanceof AppError) && (fromBodyParser(err as BodyParserError) ?? fromHttpError(err))) || err;
  const body = toErrorBody(mapped, req.log, req.requestId);
  const status = HTTP_STATUS[body.code];
  if (status < 500) req.log.info({ code: body.code, status }, 'request refused');
  // RATE_LIMITED, and UNAVAILABLE when the node shed the request because of load.
  const ms = (body.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  if (typeof ms === 'number' && ms > 0) res.setHeader('retry-after', String(Math.ceil(ms / 1000)));
  res.status(status).json({ error: body });
}
