// Cluster wiring: what changes when REDIS_URL is set (adapter, presence across
// nodes, cross-node message fanout, sticky polling under pm2). Without Redis this is
// one node. Draining applies to both.
import type http from 'node:http';
import { Counter, Gauge } from 'prom-client';
import type { Deps } from '../deps';
import type { MessageDto } from '../contracts/dto';
import type { RedisPresenceStore } from '../data/presence-redis.store';
import type { PresenceStore } from '../data/presence.store';
import type { MembershipCache } from '../domain/membership-cache';
import type { HistoryCache } from '../domain/messages/history-cache';
import type { BlockCache } from '../domain/users/blocks';
import { noPeers, type Peers } from '../domain/peers';
import type { PresenceService } from '../domain/presence/presence.service';
import type { UserRooms } from '../domain/rooms/user-rooms';
import type { AppServer } from '../socket/types';
import { createInflightTracker, drainNode } from './drain';
import { startHeartbeat, type Heartbeat } from './presence-heartbeat';
import { createAdapterLink, type AdapterLink } from './redis-adapter';
import { resyncPresence, resyncRooms } from './resync';
import { startSessionForwarding, type SessionForwarding } from './session-forwarding';

/** What peers' events update on this node; handed over once the services exist. */
export interface ClusterLocal {
  presence: PresenceService;
  userRooms: UserRooms;
  membershipCache: MembershipCache;
  historyCache: HistoryCache;
  /** Who blocks whom, per node (domain/users/blocks.ts). */
  blockCache: Pick<BlockCache, 'forgetLocal' | 'clear'>;
  /** A message stored by another node, for this node's sockets. */
  peerMessage(message: MessageDto): void;
}

export interface Cluster {
  /** Tells the other nodes what changed here (nobody on a single node). */
  peers: Peers;
  /** Counts requests for draining; with Redis, listens to the other nodes and starts the presence heartbeat. */
  start(local: ClusterLocal): Promise<void>;
  /** Tells clients to reconnect elsewhere, spread over the grace period. */
  drain(graceMs: number): Promise<void>;
  /** For readiness: the adapter's Redis links are up and what an outage lost is rebuilt (always true on one node). */
  linked(): boolean;
  close(): Promise<void>;
}

function isRedisPresenceStore(store: PresenceStore | undefined): store is RedisPresenceStore {
  return Boolean(store && typeof (store as Partial<RedisPresenceStore>).heartbeat === 'function');
}

/** Installs the adapter (with Redis) and the draining gate on the io server. */
export function createCluster(deps: Deps, io: AppServer, presenceStore?: PresenceStore): Cluster {
  const { config, log, redis } = deps;
  if (redis && !isRedisPresenceStore(presenceStore)) {
    throw new Error('createCluster: with REDIS_URL, pass the presence store made by createPresenceStore (data/presence-stores.ts)');
  }
  if (config.sessionForwarding && !redis) throw new Error('SESSION_FORWARDING needs REDIS_URL (workers register their private ports there)');
  const registers = [deps.metrics.registry];
  let link: AdapterLink | null = null;
  const metrics = {
    publishFailures: new Counter({ name: 'chat_adapter_publish_failures_total', help: 'Adapter publishes to Redis that failed (peers missed a broadcast)', registers }),
    peerMessages: new Counter({ name: 'chat_peer_messages_total', help: 'Stored messages received from other nodes for local delivery', registers }),
    reapedUsers: new Counter({ name: 'chat_presence_reaped_users_total', help: 'Users left without sockets when a dead node was reaped', registers }),
    draining: new Gauge({ name: 'chat_draining', help: '1 while this node drains before exiting', registers }),
    adapterUp: new Gauge({
      name: 'chat_adapter_connected',
      help: '1 while the adapter publisher and subscriber are connected to Redis (absent on one node)',
      registers: redis ? registers : [],
      collect() {
        this.set(link?.isUp() ? 1 : 0);
      },
    }),
  };
  const store = redis ? (presenceStore as RedisPresenceStore) : null;
  link = redis ? createAdapterLink(config, log, () => metrics.publishFailures.inc()) : null;
  const inflight = createInflightTracker();
  const server = io.httpServer as http.Server;
  let accepting = true;
  let heartbeat: Heartbeat | null = null;
  let forwarding: SessionForwarding | null = null;
  let roomResync: Promise<void> | null = null;

  link?.install(io);

  const peers: Peers = link
    ? {
        messageStored: (m) => io.serverSideEmit('message:fanout', m),
        // A kick, leave or role change on one node must not be served from another's cache.
        membershipChanged: (roomId, userId) => io.serverSideEmit('membership:forget', roomId, userId),
        userRoomsChanged: (userId) => io.serverSideEmit('user-rooms:forget', userId),
        // A block must filter deliveries on every node, not only where it was made.
        blocksChanged: (userId) => io.serverSideEmit('blocks:forget', userId),
        // Every node keeps the newest page of active rooms: edits, deletes and reactions reach all of them.
        historyUpdated: (m, v) => io.serverSideEmit('history:updated', m, v),
        linked: () => link?.isUp() ?? true,
      }
    : noPeers;

  return {
    peers,

    async start(local) {
      // After the socket handlers: requests are counted once the handlers took them.
      inflight.attach(io, server);
      // Engine.IO consults allowRequest on every handshake (never for an existing session).
      const allow = io.engine.opts.allowRequest;
      io.engine.opts.allowRequest = (req, fn) => {
        if (!accepting) return fn('server is draining', false);
        if (allow) return allow(req, fn);
        fn(null, true);
      };
      if (!link || !store || !redis) return;
      const adapter = link;
      await adapter.ready(5000).catch(() => log.warn('adapter not connected to Redis at start; continuing, readiness reports it'));
      io.on('message:fanout', (m) => {
        metrics.peerMessages.inc();
        local.peerMessage(m);
      });
      io.on('membership:forget', (roomId, userId) => local.membershipCache.forgetLocal(roomId, userId));
      io.on('user-rooms:forget', (userId) => local.userRooms.cache.forgetLocal(userId));
      io.on('history:updated', (m, v) => local.historyCache.applyUpdate(m, v));
      io.on('blocks:forget', (userId) => local.blockCache.forgetLocal(userId));
      const hb = startHeartbeat({
        store,
        log,
        heartbeatMs: config.presence.heartbeatMs,
        nodeTtlMs: config.presence.nodeTtlMs,
        settleOffline: (userId) => local.presence.settleOffline(userId),
        resync: () => resyncPresence(io, store, local.presence, log),
        onReaped: (users) => metrics.reapedUsers.inc(users),
      });
      heartbeat = hb;
      adapter.onRecovered(() => {
        hb.requestResync();
        local.historyCache.clear();
        local.blockCache.clear();
        const run: Promise<void> = resyncRooms(io, local.userRooms, log)
          .catch((err: unknown) => log.warn({ err }, 'room resync failed'))
          .finally(() => {
            if (roomResync === run) roomResync = null;
          });
        roomResync = run;
      });
      // Registers this node before it takes sockets (a failure is retried by the loop).
      await hb.tick();
      if (config.sessionForwarding) {
        forwarding = await startSessionForwarding({ io, server, redis, keyPrefix: config.redisKeyPrefix, ttlMs: config.presence.nodeTtlMs, log });
      }
    },

    async drain(graceMs) {
      metrics.draining.set(1);
      await drainNode({ io, server, inflight, graceMs, log, stopAccepting: () => (accepting = false) });
    },

    linked: () => !link || (link.isUp() && roomResync === null),

    async close() {
      await heartbeat?.stop();
      // Peers need not wait for our liveness key to expire; users still recorded here
      // are queued to go offline after the grace period unless they reconnected.
      if (store) await store.leave().catch((err: unknown) => log.warn({ err }, 'presence: leaving the cluster failed'));
      await forwarding?.close();
      await link?.close();
    },
  };
}
