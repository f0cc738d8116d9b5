// Cluster wiring: what changes when REDIS_URL is set (adapter, presence across
// nodes, cross-node message fanout, sticky polling under pm2). Without Redis this is
// one node. Draining applies to both.
import crypto from 'node:crypto';
import type http from 'node:http';
import { Counter, Gauge } from 'prom-client';
import type { Deps } from '../deps';
import type { Chat } from '../chat';
import type { MessageDto } from '../contracts/dto';
import { createMemoryPresenceStore } from '../data/presence-memory.store';
import { createRedisPresenceStore, type RedisPresenceStore } from '../data/presence-redis.store';
import type { PresenceStore } from '../data/presence.store';
import type { AppServer } from '../socket/types';
import { createInflightTracker, drainNode } from './drain';
import { startHeartbeat, type Heartbeat } from './presence-heartbeat';
import { createAdapterLink, type AdapterLink } from './redis-adapter';
import { resyncPresence, resyncRooms } from './resync';
import { startSessionForwarding, type SessionForwarding } from './session-forwarding';

export interface Cluster {
  /** Sends a stored message to the other nodes (undefined on a single node). */
  publishToPeers?: (m: MessageDto) => void;
  /** Installs the adapter and cross-node listeners once io exists. */
  attach(io: AppServer, chat: Chat): Promise<void>;
  /** Tells clients to reconnect elsewhere, spread over the grace period. */
  drain(io: AppServer, graceMs: number): Promise<void>;
  /** For readiness: the adapter's Redis links are up and what an outage lost is rebuilt (always true on one node). */
  linked(): boolean;
  close(): Promise<void>;
}

/**
 * The presence store for this deployment shape: in memory on one node, in Redis for a
 * cluster (each call makes a store with its own node key; the API passes its store to
 * createCluster, whose heartbeat keeps that key alive).
 */
export function createPresenceStore(deps: Deps): PresenceStore {
  if (!deps.redis) return createMemoryPresenceStore();
  return createRedisPresenceStore({
    redis: deps.redis,
    nodeKey: `${deps.config.nodeId}#${crypto.randomBytes(4).toString('hex')}`,
    keyPrefix: deps.config.redisKeyPrefix,
    offlineGraceMs: deps.config.presence.offlineGraceMs,
  });
}

function isRedisPresenceStore(store: PresenceStore | undefined): store is RedisPresenceStore {
  return Boolean(store && typeof (store as Partial<RedisPresenceStore>).heartbeat === 'function');
}

export function createCluster(deps: Deps, presenceStore?: PresenceStore): Cluster {
  const { config, log, redis } = deps;
  if (redis && !isRedisPresenceStore(presenceStore)) {
    throw new Error('createCluster: with REDIS_URL, pass the presence store made by createPresenceStore(deps)');
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
  let ioRef: AppServer | null = null;
  let accepting = true;
  let heartbeat: Heartbeat | null = null;
  let forwarding: SessionForwarding | null = null;
  let roomResync: Promise<void> | null = null;

  return {
    // Late-bound: app.ts hands this to chat.attachIo before attach() has run.
    publishToPeers: link ? (m) => ioRef?.serverSideEmit('message:fanout', m) : undefined,

    async attach(io, chat) {
      ioRef = io;
      const server = io.httpServer as http.Server;
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

      adapter.install(io);
      await adapter.ready(5000).catch(() => log.warn('adapter not connected to Redis at start; continuing, readiness reports it'));
      io.on('message:fanout', (m) => {
        metrics.peerMessages.inc();
        chat.acceptPeerMessage(m);
      });
      // A kick, leave or role change on one node must not be served from another's cache.
      io.on('membership:forget', (roomId, userId) => chat.membershipCache.forgetLocal(roomId, userId));
      chat.membershipCache.forgetOnPeers = (roomId, userId) => io.serverSideEmit('membership:forget', roomId, userId);
      io.on('user-rooms:forget', (userId) => chat.userRooms.cache.forgetLocal(userId));
      chat.userRooms.cache.forgetOnPeers = (userId) => io.serverSideEmit('user-rooms:forget', userId);
      // Every node keeps the newest page of active rooms: edits, deletes and reactions reach all of them.
      io.on('history:updated', (m, v) => chat.historyCache.applyUpdate(m, v));
      chat.historyCache.updateOnPeers = (m, v) => io.serverSideEmit('history:updated', m, v);
      chat.historyCache.linked = () => adapter.isUp();
      const hb = startHeartbeat({
        store,
        log,
        heartbeatMs: config.presence.heartbeatMs,
        nodeTtlMs: config.presence.nodeTtlMs,
        settleOffline: (userId) => chat.services.presence.settleOffline(userId),
        resync: () => resyncPresence(io, store, chat.services.presence, log),
        onReaped: (users) => metrics.reapedUsers.inc(users),
      });
      heartbeat = hb;
      adapter.onRecovered(() => {
        hb.requestResync();
        chat.historyCache.clear();
        const run: Promise<void> = resyncRooms(io, chat.userRooms, log)
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

    async drain(io, graceMs) {
      metrics.draining.set(1);
      await drainNode({ io, server: io.httpServer as http.Server, inflight, graceMs, log, stopAccepting: () => (accepting = false) });
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
