// Small helpers that keep REST routes thin: async errors reach the error middleware,
// and query strings are parsed by one schema each (no silent coercion).
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { TokenService } from '../domain/auth/token.service';
import { errors } from '../errors';

/** Wraps an async handler so a rejection goes to the error middleware. */
export function route(fn: (req: Request, res: Response) => Promise<unknown>): RequestHandler {
  return (req, res, next: NextFunction) => {
    fn(req, res).catch(next);
  };
}

/** Requires `Authorization: Bearer <token>`; sets req.userId. */
export function requireAuth(tokens: TokenService): RequestHandler {
  return (req, _res, next) => {
    const header = req.header('authorization') ?? '';
    const match = /^Bearer ([^\s]+)$/i.exec(header);
    if (!match) return next(errors.unauthorized('missing bearer token'));
    try {
      req.userId = tokens.verify(match[1]).userId;
      req.log = req.log.child({ userId: req.userId });
      next();
    } catch (err) {
      next(err);
    }
  };
}

/**
 * Turns query-string integers into numbers for the body schema: only plain
 * non-negative decimal strings are converted, anything else is left as a string
 * and the schema refuses it.
 */
export function queryInts(query: Request['query'], names: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (names.includes(key) && typeof value === 'string' && /^\d{1,15}$/.test(value)) out[key] = Number(value);
    else out[key] = value;
  }
  return out;
}

/** As queryInts, for booleans: only the strings `true` and `false` become booleans. */
export function queryBools(query: Record<string, unknown>, names: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...query };
  for (const name of names) if (out[name] === 'true' || out[name] === 'false') out[name] = out[name] === 'true';
  return out;
}
