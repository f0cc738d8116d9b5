// Rate limits as a small port: the domain asks to consume a point; the limiter
// (rate-limiter-flexible, in memory on one node or in Redis across the cluster) decides.
import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { errors } from '../errors';

export interface Limiter {
  /** Resolves when allowed; throws RATE_LIMITED (with retryAfterMs) or UNAVAILABLE. */
  consume(key: string): Promise<void>;
}

export interface LimiterOptions {
  keyPrefix: string;
  points: number;
  windowMs: number;
}

/** Redis-backed when a client is given (limits hold across nodes), else in memory. */
export function createLimiter(redis: Redis | null, opts: LimiterOptions): Limiter {
  const duration = Math.max(1, Math.ceil(opts.windowMs / 1000));
  const limiter: RateLimiterAbstract = redis
    ? new RateLimiterRedis({ storeClient: redis, keyPrefix: `rl:${opts.keyPrefix}`, points: opts.points, duration, useRedisPackage: false })
    : new RateLimiterMemory({ keyPrefix: opts.keyPrefix, points: opts.points, duration });
  return {
    async consume(key: string) {
      try {
        await limiter.consume(key);
      } catch (res) {
        if (res instanceof RateLimiterRes) throw errors.rateLimited(Math.max(1, res.msBeforeNext));
        throw errors.unavailable('rate limiter unavailable; nothing was stored');
      }
    },
  };
}
