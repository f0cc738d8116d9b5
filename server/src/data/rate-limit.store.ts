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
  /** Named in the refusal's details.limit (routes with several limits). */
  scope?: string;
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

const memoryLimiter = (opts: LimiterOptions) =>
  // fractional seconds are honoured to the millisecond
  new RateLimiterMemory({ keyPrefix: opts.keyPrefix, points: opts.points, duration: opts.windowMs / 1000 });

/** The library's limiter for opts, in Redis (falling back to `insurance` while Redis does not answer, if given). */
const redisLimiter = (redis: Redis, opts: LimiterOptions, insurance?: RateLimiterMemory) =>
  new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `rl:${opts.keyPrefix}`,
    points: opts.points,
    duration: opts.windowMs / 1000,
    useRedisPackage: false,
    customIncrTtlLuaScript: INCR_PTTL_LUA,
    ...(insurance ? { insuranceLimiter: insurance } : {}),
  });

/** Redis-backed when a client is given (limits hold across nodes), else in memory. */
export function createLimiter(redis: Redis | null, opts: LimiterOptions): Limiter {
  const limiter: RateLimiterAbstract = redis ? redisLimiter(redis, opts) : memoryLimiter(opts);
  return {
    async consume(key: string) {
      try {
        await limiter.consume(key);
      } catch (res) {
        if (res instanceof RateLimiterRes) throw errors.rateLimited(Math.max(1, res.msBeforeNext), opts.scope);
        throw errors.unavailable('rate limiter unavailable; nothing was stored');
      }
    },
    async refund(key: string) {
      await limiter.reward(key, 1).catch(() => undefined);
    },
  };
}

/** How often a key was counted in its window, and when that count (or a block) ends. */
export interface Count {
  count: number;
  msLeft: number;
  /** Over the limit: counted past it, or blocked. */
  over: boolean;
}

/**
 * Counts attempts per key for policies richer than "n per window" (login throttling):
 * the caller reads the count and decides to wait, block or forget.
 */
export interface AttemptCounter {
  /** Counts one attempt (never refuses: the count says whether it is over). */
  hit(key: string): Promise<Count>;
  /** The count without counting. */
  peek(key: string): Promise<Count>;
  /** Holds the key over its limit for ms (whole seconds: Redis expiries are set in seconds). */
  block(key: string, ms: number): Promise<void>;
  /** Gives back one attempt. */
  refund(key: string): Promise<void>;
  /** Forgets the key. */
  reset(key: string): Promise<void>;
}

/**
 * Redis-backed when a client is given (the count holds across nodes). While Redis does not
 * answer, each node counts in memory (the library's insurance limiter): a defence that
 * keeps working per node rather than refusing every login.
 */
export function createAttemptCounter(redis: Redis | null, opts: LimiterOptions): AttemptCounter {
  const memory = memoryLimiter(opts);
  const limiter: RateLimiterAbstract = redis ? redisLimiter(redis, opts, memory) : memory;
  const toCount = (res: RateLimiterRes | null): Count =>
    res ? { count: res.consumedPoints, msLeft: Math.max(0, res.msBeforeNext), over: res.consumedPoints > opts.points } : { count: 0, msLeft: 0, over: false };
  return {
    async hit(key) {
      try {
        return toCount(await limiter.consume(key));
      } catch (res) {
        if (res instanceof RateLimiterRes) return toCount(res);
        throw errors.unavailable('rate limiter unavailable; nothing was stored');
      }
    },
    async peek(key) {
      return toCount(await limiter.get(key));
    },
    async block(key, ms) {
      await limiter.block(key, Math.max(1, Math.ceil(ms / 1000)));
    },
    async refund(key) {
      await limiter.reward(key, 1).catch(() => undefined);
    },
    async reset(key) {
      await limiter.delete(key).catch(() => undefined);
    },
  };
}
