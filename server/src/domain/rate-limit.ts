// Rate limits as a small port: the domain asks to consume a point; the limiter
// (rate-limiter-flexible, in memory on one node or in Redis across the cluster) decides.
import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { errors } from '../errors';

export interface Limiter {
  /** Resolves when allowed; throws RATE_LIMITED (with retryAfterMs) or UNAVAILABLE. */
  consume(key: string): Promise<void>;
  /** Gives back a point consumed for a request that turned out not to count (a retry). */
  refund(key: string): Promise<void>;
}

export interface LimiterOptions {
  keyPrefix: string;
  points: number;
  windowMs: number;
}

// The library's default Redis script sets the window with EX (whole seconds); this one
// uses PX so that a window such as 1500 ms means 1500 ms on Redis as in memory.
const INCR_PTTL_LUA = `redis.call('set', KEYS[1], 0, 'PX', math.floor(ARGV[2] * 1000), 'NX')
local consumed = redis.call('incrby', KEYS[1], ARGV[1])
local ttl = redis.call('pttl', KEYS[1])
if ttl == -1 then
  redis.call('pexpire', KEYS[1], math.floor(ARGV[2] * 1000))
  ttl = math.floor(ARGV[2] * 1000)
end
return {consumed, ttl}`;

/** Redis-backed when a client is given (limits hold across nodes), else in memory. */
export function createLimiter(redis: Redis | null, opts: LimiterOptions): Limiter {
  const duration = opts.windowMs / 1000; // fractional seconds are honoured to the millisecond
  const limiter: RateLimiterAbstract = redis
    ? new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `rl:${opts.keyPrefix}`,
        points: opts.points,
        duration,
        useRedisPackage: false,
        customIncrTtlLuaScript: INCR_PTTL_LUA,
      })
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
    async refund(key: string) {
      await limiter.reward(key, 1).catch(() => undefined);
    },
  };
}
