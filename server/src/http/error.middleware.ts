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

export function notFoundRoute(req: Request, _res: Response, next: NextFunction) {
  next(new AppError('NOT_FOUND', `no route ${req.method} ${req.path}`));
}

// Express recognises error middleware by its four parameters.
export function errorMiddleware(err: unknown, req: Request, res: Response, _next: NextFunction) {
  const mapped = (err && typeof err === 'object' && fromBodyParser(err as BodyParserError)) || err;
  const body = toErrorBody(mapped, req.log, req.requestId);
  const status = HTTP_STATUS[body.code];
  if (status < 500) req.log.info({ code: body.code, status }, 'request refused');
  if (body.code === 'RATE_LIMITED') {
    const ms = (body.details as { retryAfterMs?: number } | undefined)?.retryAfterMs;
    if (ms) res.setHeader('retry-after', String(Math.ceil(ms / 1000)));
  }
  res.status(status).json({ error: body });
}
