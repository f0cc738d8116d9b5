// Per-node cache of "is this user a member of this room" for the send and typing hot
// paths, which would otherwise read the membership on every request. Entries are dropped
// at once when a membership changes on this node, on every other node through the cluster
// (forgetOnPeers), and after a short TTL as a safety net.
import type { Role } from '../contracts/dto';
import { BoundedMap } from '../lib/bounded-map';
import type { Peers } from './peers';

interface Entry {
  role: Role;
  at: number;
}

export interface MembershipCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  /** The other nodes of a cluster, told of every forget. */
  peers?: Pick<Peers, 'membershipChanged'>;
}

export class MembershipCache {
  private readonly entries: BoundedMap<string, Entry>;
  private readonly ttlMs: number;
  /** Tells the other nodes to forget an entry (from options.peers). */
  readonly forgetOnPeers: ((roomId: string, userId: string) => void) | null;

  constructor(opts: MembershipCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 5000;
    this.entries = new BoundedMap(opts.maxEntries ?? 100_000);
    const peers = opts.peers;
    this.forgetOnPeers = peers ? (roomId, userId) => peers.membershipChanged(roomId, userId) : null;
  }

  get(roomId: string, userId: string): Role | null {
    const key = `${roomId}:${userId}`;
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (Date.now() - entry.at > this.ttlMs) {
      this.entries.delete(key);
      return null;
    }
    return entry.role;
  }

  set(roomId: string, userId: string, role: Role): void {
    this.entries.set(`${roomId}:${userId}`, { role, at: Date.now() });
  }

  /** Drops an entry here and on every node. */
  forget(roomId: string, userId: string): void {
    this.forgetLocal(roomId, userId);
    this.forgetOnPeers?.(roomId, userId);
  }

  forgetLocal(roomId: string, userId: string): void {
    this.entries.delete(`${roomId}:${userId}`);
  }
}
