// Request id (x-request-id in and out) and a child logger per request.
import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      requestId: string;
      log: Logger;
      /** Set by requireAuth. */
      userId?: string;
    }
  }
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accepts a caller's x-request-id when it is safe to log, else makes one. */
export function requestContext(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.header('x-request-id');
    req.requestId = incoming && SAFE_ID.test(incoming) ? incoming : crypto.randomUUID();
    res.setHeader('x-request-id', req.requestId);
    req.log = log.child({ requestId: req.requestId });
    next();
  };
}
