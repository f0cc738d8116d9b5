// Connection leases in Redis: the cluster-wide half of the per-user and per-IP socket
// limits (socket/connection-limits.ts). Every socket holds a lease, a member of one sorted
// set per user and one per IP scored by its expiry, that its node refreshes; the slots of
// a node that dies free themselves when its leases run out.
import type Redis from 'ioredis';
import type { Logger } from '../logger';

export interface ConnectionLease {
  userKey: string;
  ipKey: string;
  /** Unique per socket in the cluster (node id and socket id). */
  member: string;
}

export type LeaseVerdict = 'ok' | 'user' | 'ip' | 'unavailable';

export interface ConnectionLeaseStore {
  /** The lease of one socket of this user at this address. */
  lease(userId: string, ip: string, member: string): ConnectionLease;
  /** Takes both slots if both limits allow; 'unavailable' while Redis is down. */
  acquire(lease: ConnectionLease, maxPerUser: number, maxPerIp: number): Promise<LeaseVerdict>;
  /** Gives both slots back (if this fails, the lease simply runs out). */
  release(lease: ConnectionLease): void;
  /** Keeps these leases alive; re-adds them after Redis lost its data (a restart). */
  refresh(leases: Iterable<ConnectionLease>): void;
}

export interface ConnectionLeaseOptions {
  /** Null: only the key names are made (the node counts on its own). */
  redis: Redis | null;
  /** A lease not refreshed for this long is dropped by the other nodes. */
  leaseMs: number;
  log: Logger;
  keyPrefix?: string;
}

// Trims expired leases, checks both limits and takes both slots at once; returns 0 (taken),
// 1 (user limit) or 2 (IP limit). Both keys share a hash tag so it also runs on Redis Cluster.
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) == false and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 1 end
if redis.call('ZSCORE', KEYS[2], ARGV[3]) == false and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 2 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return 0
`;

export function createConnectionLeaseStore({ redis, leaseMs, log, keyPrefix = 'chat:conn' }: ConnectionLeaseOptions): ConnectionLeaseStore {
  return {
    lease: (userId, ip, member) => ({ userKey: `${keyPrefix}:{c}:u:${userId}`, ipKey: `${keyPrefix}:{c}:ip:${ip}`, member }),

    async acquire(lease, maxPerUser, maxPerIp) {
      if (!redis || redis.status !== 'ready') return 'unavailable';
      const now = Date.now();
      try {
        const res = await redis.eval(ACQUIRE, 2, lease.userKey, lease.ipKey, now, now + leaseMs, lease.member, maxPerUser, maxPerIp, leaseMs * 2);
        return res === 1 ? 'user' : res === 2 ? 'ip' : 'ok';
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'connection limit: redis unavailable, counting this node only');
        return 'unavailable';
      }
    },

    release(lease) {
      if (!redis || redis.status !== 'ready') return;
      redis
        .multi()
        .zrem(lease.userKey, lease.member)
        .zrem(lease.ipKey, lease.member)
        .exec()
        .catch(() => undefined);
    },

    refresh(leases) {
      if (!redis || redis.status !== 'ready') return;
      const expiry = Date.now() + leaseMs;
      const pipe = redis.pipeline();
      let any = false;
      for (const lease of leases) {
        any = true;
        pipe.zadd(lease.userKey, expiry, lease.member).zadd(lease.ipKey, expiry, lease.member);
        pipe.pexpire(lease.userKey, leaseMs * 2).pexpire(lease.ipKey, leaseMs * 2);
      }
      if (!any) return;
      pipe.exec().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'connection limit: lease refresh failed'));
    },
  };
}
