// Each node's presence loop: refresh this node's liveness key, remove the sockets of
// nodes that stopped refreshing theirs (killed, partitioned), and settle users whose
// grace period ended anywhere. Every step is an atomic script, so all nodes run the
// loop at once without coordination.
import type { RedisPresenceStore } from '../data/presence-redis.store';
import type { Logger } from '../logger';

export interface HeartbeatDeps {
  store: RedisPresenceStore;
  log: Logger;
  heartbeatMs: number;
  nodeTtlMs: number;
  /** Announces offline (and stores lastSeenAt) if the user still has no socket. */
  settleOffline(userId: string): Promise<void>;
  /** Re-records this node's sockets after Redis lost or reaped them. */
  resync(): Promise<void>;
  onReaped?(users: number): void;
}

export interface Heartbeat {
  /** Runs one round now (the first one runs at start). */
  tick(): Promise<void>;
  /** Asks for a resync on the next successful round. */
  requestResync(): void;
  stop(): Promise<void>;
}

export function startHeartbeat(deps: HeartbeatDeps): Heartbeat {
  const { store, log } = deps;
  let first = true;
  let failing = false;
  let resyncWanted = false;
  let stopped = false;
  let running: Promise<void> | null = null;

  async function round(): Promise<void> {
    try {
      const wasAlive = await store.heartbeat(deps.nodeTtlMs);
      // Expired liveness (a long pause, or Redis restarted empty): peers may have reaped us.
      if (!wasAlive && !first) resyncWanted = true;
      first = false;
      if (failing) log.info('presence heartbeat recovered');
      failing = false;
      if (resyncWanted) {
        resyncWanted = false;
        await deps.resync().catch((err: unknown) => {
          resyncWanted = true;
          throw err;
        });
      }
      const orphaned = await store.reapDeadNodes();
      if (orphaned.length > 0) {
        log.info({ users: orphaned.length }, 'reaped sockets of dead nodes');
        deps.onReaped?.(orphaned.length);
      }
      for (const userId of await store.claimDueOffline()) {
        await deps.settleOffline(userId).catch((err: unknown) => log.warn({ err, userId }, 'settling offline failed'));
      }
    } catch (err) {
      if (!failing) log.warn({ err: err instanceof Error ? err.message : String(err) }, 'presence heartbeat failed');
      failing = true;
      // Whatever changed while Redis was unreachable was not recorded.
      resyncWanted = true;
    }
  }

  const tick = (): Promise<void> => {
    running ??= round().finally(() => (running = null));
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) void tick();
  }, deps.heartbeatMs);
  timer.unref();
  if (deps.nodeTtlMs < 2 * deps.heartbeatMs) {
    log.warn({ heartbeatMs: deps.heartbeatMs, nodeTtlMs: deps.nodeTtlMs }, 'PRESENCE_NODE_TTL_MS under two heartbeats: a slow round can get a live node reaped');
  }

  return {
    tick,
    requestResync: () => {
      resyncWanted = true;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
