// Session revocation: "every token of user U issued up to now" or "the token with jti J" is
// refused from then on, on every node. With Redis the denylist lives there and every node
// hears new entries over pub/sub; each node keeps a copy in memory so that the check inside
// TokenService.verify stays synchronous. Without Redis the node's memory is the denylist
// (lost on restart: one node, nothing to share it with).
//
// Suspensions (operator controls, issue 15) ride the same store: "every token of user U,
// whenever issued, until lifted". A suspension is kept in Redis without expiry until lifted;
// every node hears it, refuses the user's tokens and disconnects its sockets (as a
// revocation). `at` (milliseconds) orders a suspension and a lift that cross on the wire.
import type Redis from 'ioredis';
import { AppError } from '../errors';
import type { Logger } from '../logger';

/**
 * What a revocation covers; `at` and `exp` are unix seconds. A token entry names its user so
 * that nodes look only at that user's sockets (entries written before it was added lack it).
 */
export type RevocationEntry =
  | { kind: 'user'; userId: string; at: number }
  | { kind: 'token'; jti: string; exp: number; userId?: string }
  /** Operator controls: every token of the user refused until a `lift` (at: unix milliseconds). */
  | { kind: 'suspend'; userId: string; at: number }
  | { kind: 'lift'; userId: string; at: number };

/** The claims a revocation is checked against (a verified token has them; unix seconds). */
export interface RevocableToken {
  userId: string;
  iat?: number;
  jti?: string;
}

export interface Revocation {
  /** True if the token was revoked (used by TokenService.verify on every handshake and request). */
  isRevoked(token: RevocableToken): boolean;
  /** Revokes every token of the user issued up to this second. */
  revokeUser(userId: string): Promise<RevocationEntry>;
  /** Revokes one token (by its jti) of `userId` until it expires anyway. */
  revokeToken(jti: string, exp: number, userId: string): Promise<RevocationEntry>;
  /** True while the user is suspended (any token, whenever issued). */
  isSuspended(userId: string): boolean;
  /** Suspends the user on every node until lift(); its sockets are disconnected everywhere. */
  suspend(userId: string): Promise<RevocationEntry>;
  /** Lifts a suspension on every node (tokens not otherwise revoked work again). */
  lift(userId: string): Promise<RevocationEntry>;
  /** Called for every revocation, local or from another node. */
  onRevoked(listener: (entry: RevocationEntry) => void): void;
  /** Loads the denylist and subscribes to changes (Redis only). */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface RevocationOptions {
  redis: Redis | null;
  log: Logger;
  /** How long a per-user revocation is kept: the longest lifetime a token may have. */
  userRetentionSeconds?: number;
  keyPrefix?: string;
}

const CHANNEL_SUFFIX = 'events';
const THIRTY_DAYS = 30 * 24 * 3600;

export function createRevocation(opts: RevocationOptions): Revocation {
  const { redis, log } = opts;
  const prefix = opts.keyPrefix ?? 'chat:revoked';
  const channel = `${prefix}:${CHANNEL_SUFFIX}`;
  const retention = opts.userRetentionSeconds ?? THIRTY_DAYS;
  const users = new Map<string, number>();
  const tokens = new Map<string, number>();
  /** The last suspend/lift seen per user; suspended while the last one is a suspend. */
  const suspensions = new Map<string, { suspended: boolean; at: number }>();
  const listeners: Array<(e: RevocationEntry) => void> = [];
  let subscriber: Redis | null = null;
  let sweeper: NodeJS.Timeout | null = null;

  const now = () => Math.floor(Date.now() / 1000);

  function apply(entry: RevocationEntry, announce: boolean): void {
    if (entry.kind === 'suspend' || entry.kind === 'lift') {
      const last = suspensions.get(entry.userId);
      if (last && last.at >= entry.at) return;
      suspensions.set(entry.userId, { suspended: entry.kind === 'suspend', at: entry.at });
    } else if (entry.kind === 'user') {
      if ((users.get(entry.userId) ?? -Infinity) >= entry.at) return;
      users.set(entry.userId, entry.at);
    } else {
      if (entry.exp <= now() || tokens.has(entry.jti)) return;
      tokens.set(entry.jti, entry.exp);
    }
    if (!announce) return;
    for (const l of listeners) {
      try {
        l(entry);
      } catch (err) {
        log.warn({ err }, 'revocation listener failed');
      }
    }
  }

  function parse(raw: string): RevocationEntry | null {
    try {
      const e = JSON.parse(raw) as RevocationEntry;
      if ((e?.kind === 'user' || e?.kind === 'suspend' || e?.kind === 'lift') && typeof e.userId === 'string' && typeof e.at === 'number') return e;
      if (e?.kind === 'token' && typeof e.jti === 'string' && typeof e.exp === 'number' && (e.userId === undefined || typeof e.userId === 'string')) return e;
    } catch {
      /* ignored below */
    }
    log.warn({ raw: raw.slice(0, 200) }, 'unreadable revocation entry ignored');
    return null;
  }

  const suspensionKey = (userId: string) => `${prefix}:s:${userId}`;

  /** A suspend or lift ordered after every one seen here or stored (whatever this host's clock says). */
  async function nextSuspension(kind: 'suspend' | 'lift', userId: string): Promise<RevocationEntry> {
    let stored = 0;
    if (redis) {
      const raw = await redis.get(suspensionKey(userId)).catch(() => {
        throw new AppError('UNAVAILABLE', 'suspension could not be stored; nothing was changed');
      });
      const e = raw ? parse(raw) : null;
      if (e && (e.kind === 'suspend' || e.kind === 'lift')) stored = e.at;
    }
    return { kind, userId, at: Math.max(Date.now(), (suspensions.get(userId)?.at ?? 0) + 1, stored + 1) };
  }

  async function persist(entry: RevocationEntry): Promise<void> {
    if (!redis) return;
    try {
      if (entry.kind === 'suspend' || entry.kind === 'lift') {
        // No expiry: a suspension lasts until lifted, and the lift's record stays so that a
        // later suspend or lift (from a host whose clock is behind) is ordered after it.
        await redis.multi().set(suspensionKey(entry.userId), JSON.stringify(entry)).publish(channel, JSON.stringify(entry)).exec();
        return;
      }
      const key = entry.kind === 'user' ? `${prefix}:u:${entry.userId}` : `${prefix}:t:${entry.jti}`;
      const ttl = entry.kind === 'user' ? retention : Math.max(1, entry.exp - now());
      await redis.multi().set(key, JSON.stringify(entry), 'EX', ttl).publish(channel, JSON.stringify(entry)).exec();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'revocation not stored: redis unavailable');
      throw new AppError('UNAVAILABLE', 'revocation could not be stored; nothing was revoked');
    }
  }

  /** Reads every stored entry: at start and after a reconnect (pub/sub messages may have been missed). */
  async function load(): Promise<void> {
    if (!redis) return;
    let cursor = '0';
    let count = 0;
    const loadedAt = Date.now();
    const storedSuspensions = new Set<string>();
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:[uts]:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      for (const raw of await redis.mget(...keys)) {
        const entry = raw ? parse(raw) : null;
        if (entry) {
          if (entry.kind === 'suspend' || entry.kind === 'lift') storedSuspensions.add(entry.userId);
          apply(entry, true);
          count += 1;
        }
      }
    } while (cursor !== '0');
    // A suspension whose record is gone (Redis was emptied) no longer holds: lifted here too
    // (unless suspended again since the scan began).
    for (const [userId, s] of suspensions) {
      if (s.suspended && !storedSuspensions.has(userId) && s.at < loadedAt) apply({ kind: 'lift', userId, at: loadedAt }, true);
    }
    log.debug({ count }, 'revocations loaded');
  }

  return {
    isRevoked(t) {
      if (suspensions.get(t.userId)?.suspended) return true;
      const at = users.get(t.userId);
      // A token without iat cannot prove it is newer than the revocation.
      if (at !== undefined && (t.iat === undefined || t.iat <= at)) return true;
      return t.jti !== undefined && tokens.has(t.jti);
    },

    isSuspended: (userId) => suspensions.get(userId)?.suspended === true,

    async suspend(userId) {
      const entry = await nextSuspension('suspend', userId);
      await persist(entry);
      apply(entry, true);
      return entry;
    },

    async lift(userId) {
      const entry = await nextSuspension('lift', userId);
      await persist(entry);
      apply(entry, true);
      return entry;
    },

    async revokeUser(userId) {
      const entry: RevocationEntry = { kind: 'user', userId, at: now() };
      await persist(entry);
      apply(entry, true);
      return entry;
    },

    async revokeToken(jti, exp, userId) {
      const entry: RevocationEntry = { kind: 'token', jti, exp, userId };
      await persist(entry);
      apply(entry, true);
      return entry;
    },

    onRevoked(listener) {
      listeners.push(listener);
    },

    async start() {
      sweeper = setInterval(() => {
        const t = now();
        for (const [jti, exp] of tokens) if (exp <= t) tokens.delete(jti);
      }, 60_000);
      sweeper.unref();
      if (!redis) return;
      // Subscribe first, then load: nothing published in between is missed.
      subscriber = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, connectionName: 'revocations' });
      subscriber.on('error', () => undefined);
      subscriber.on('message', (ch: string, raw: string) => {
        if (ch !== channel) return;
        const entry = parse(raw);
        if (entry) apply(entry, true);
      });
      let starting = true;
      // After any reconnect: entries published while this node was cut off are read back.
      subscriber.on('ready', () => {
        if (starting) return;
        load().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'revocations not reloaded'));
      });
      try {
        await Promise.race([subscriber.subscribe(channel), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 5000).unref())]);
        await load();
      } catch (err) {
        // Not fatal: the subscriber keeps reconnecting and loads once Redis answers.
        log.warn({ err: (err as Error).message }, 'revocations not loaded at start; will load when redis answers');
      } finally {
        starting = false;
      }
    },

    async close() {
      if (sweeper) clearInterval(sweeper);
      if (subscriber) subscriber.disconnect();
      subscriber = null;
    },
  };
}
