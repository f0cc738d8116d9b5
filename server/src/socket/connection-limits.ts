// Per-user and per-IP socket limits (MAX_CONNECTIONS_PER_USER / MAX_CONNECTIONS_PER_IP),
// enforced in the handshake: a refusal is connect_error with data.code RATE_LIMITED.
// With Redis the counts hold across the cluster through leases (data/connection-leases.store.ts).
// Without Redis, or while Redis is down (an abuse limit must not take the service down), the
// node counts only its own sockets.
import type Redis from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { ExtendedError } from 'socket.io';
import { createConnectionLeaseStore, type ConnectionLease, type LeaseVerdict } from '../data/connection-leases.store';
import type { Logger } from '../logger';
import type { AppSocket } from './types';

export interface ConnectionLimitOptions {
  redis: Redis | null;
  nodeId: string;
  maxPerUser: number;
  maxPerIp: number;
  /** A lease not refreshed for this long is dropped by the other nodes. */
  leaseMs: number;
  /** X-Forwarded-For entries (from the right) set by trusted proxies; 0 = the TCP peer. */
  trustProxyHops: number;
  log: Logger;
  registry?: Registry;
  /** Key prefix in Redis (tests give each app its own). */
  keyPrefix?: string;
}

export interface ConnectionLimiter {
  /** Handshake middleware; runs after authentication (it needs the user id). */
  middleware(socket: AppSocket, next: (err?: ExtendedError) => void): void;
  /** Sockets this node holds a slot for. */
  localCount(): number;
  close(): void;
}

/** Hint for the client: connections are not time-based, so try again a little later. */
const RETRY_AFTER_MS = 5000;

/** The client address the limit applies to: the TCP peer, or the entry a trusted proxy added. */
export function clientAddress(socket: Pick<AppSocket, 'handshake'>, trustProxyHops: number): string {
  let address = socket.handshake.address ?? '';
  if (trustProxyHops > 0) {
    const header = socket.handshake.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    // Each trusted proxy appends the address it saw; anything further left is the client's own claim.
    if (hops.length >= trustProxyHops) address = hops[hops.length - trustProxyHops];
    else if (hops.length > 0) address = hops[0];
  }
  return address.replace(/^::ffff:/, '').slice(0, 64) || 'unknown';
}

function refusal(which: 'user' | 'ip', max: number): ExtendedError {
  const message = which === 'user' ? `at most ${max} connections per user` : `at most ${max} connections per address`;
  const err = new Error('RATE_LIMITED') as ExtendedError;
  err.data = { code: 'RATE_LIMITED', message, details: { retryAfterMs: RETRY_AFTER_MS, limit: which } };
  return err;
}

interface Slot extends ConnectionLease {
  released: boolean;
}

export function createConnectionLimiter(opts: ConnectionLimitOptions): ConnectionLimiter {
  const { redis, log } = opts;
  const leases = createConnectionLeaseStore({ redis, leaseMs: opts.leaseMs, log, keyPrefix: opts.keyPrefix });
  // Keyed by the engine connection: its 'close' listener (shared, `this` = the connection)
  // finds the slot without a per-socket closure.
  const slots = new Map<object, Slot>();
  // Local counts: the whole truth without Redis, the fallback while Redis is down.
  const perUser = new Map<string, number>();
  const perIp = new Map<string, number>();
  const refused = opts.registry
    ? new Counter({
        name: 'chat_connections_refused_total',
        help: 'Handshakes refused by the per-user or per-IP connection limit',
        labelNames: ['limit'],
        registers: [opts.registry],
      })
    : null;

  const bump = (map: Map<string, number>, key: string, by: number) => {
    const n = (map.get(key) ?? 0) + by;
    if (n <= 0) map.delete(key);
    else map.set(key, n);
  };

  function release(conn: object): void {
    const slot = slots.get(conn);
    if (!slot || slot.released) return;
    slot.released = true;
    slots.delete(conn);
    bump(perUser, slot.userKey, -1);
    bump(perIp, slot.ipKey, -1);
    leases.release(slot);
  }

  // Keeps this node's leases alive; re-adds them after Redis lost its data (a restart).
  const refresher = redis
    ? setInterval(() => {
        if (slots.size > 0) leases.refresh(slots.values());
      }, Math.max(250, Math.floor(opts.leaseMs / 3)))
    : null;
  refresher?.unref();
  function releaseOnDisconnect(this: AppSocket): void {
    release(this.conn);
  }
  function releaseOnClose(this: object): void {
    release(this);
  }

  return {
    middleware(socket, next) {
      const userId = socket.data.userId;
      const ip = clientAddress(socket, opts.trustProxyHops);
      const slot: Slot = { ...leases.lease(userId, ip, `${opts.nodeId}:${socket.id}`), released: false };
      const localCheck = (): 'ok' | 'user' | 'ip' =>
        (perUser.get(slot.userKey) ?? 0) >= opts.maxPerUser ? 'user' : (perIp.get(slot.ipKey) ?? 0) >= opts.maxPerIp ? 'ip' : 'ok';
      // Checked locally first: a node never exceeds the limit on its own, even while Redis is down.
      const local = localCheck();
      const decide: Promise<LeaseVerdict> = local !== 'ok' ? Promise.resolve(local) : leases.acquire(slot, opts.maxPerUser, opts.maxPerIp);
      void decide.then((verdict) => {
        if (verdict === 'user' || verdict === 'ip') {
          refused?.inc({ limit: verdict });
          log.info({ userId, ip, limit: verdict }, 'connection refused by limit');
          return next(refusal(verdict, verdict === 'user' ? opts.maxPerUser : opts.maxPerIp));
        }
        // The Redis answer was awaited: re-check the local counts, others may have connected meanwhile.
        if (verdict === 'unavailable' && localCheck() !== 'ok') {
          const which = localCheck() as 'user' | 'ip';
          refused?.inc({ limit: which });
          return next(refusal(which, which === 'user' ? opts.maxPerUser : opts.maxPerIp));
        }
        slots.set(socket.conn, slot);
        bump(perUser, slot.userKey, 1);
        bump(perIp, slot.ipKey, 1);
        // A socket refused by a later middleware, or whose client left mid-handshake, never
        // emits 'disconnect'; the engine connection closing releases the slot then.
        socket.on('disconnect', releaseOnDisconnect);
        socket.conn.on('close', releaseOnClose);
        next();
      });
    },
    localCount: () => slots.size,
    close() {
      if (refresher) clearInterval(refresher);
      for (const id of [...slots.keys()]) release(id);
    },
  };
}
