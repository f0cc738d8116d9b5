// Per-node cache of each user's room ids (the connect and room:list paths read it on every
// connection). An entry is dropped when the user's rooms change on this node, on every
// other node through the cluster (forgetOnPeers), and after a TTL as a safety net; the
// whole cache is dropped when the cluster link recovers (invalidations may have been lost).

import { BoundedMap } from '../lib/bounded-map';
import type { Peers } from './peers';

interface Entry {
  roomIds: readonly string[];
  at: number;
}

export interface UserRoomsCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  /** The other nodes of a cluster, told of every forget. */
  peers?: Pick<Peers, 'userRoomsChanged'>;
}

export class UserRoomsCache {
  private readonly entries: BoundedMap<string, Entry>;
  /** Bumped by every forget: a load that started before one must not store what it read. */
  private readonly generations: BoundedMap<string, number>;
  private clock = 0;
  /** The stamp of users with no generation: moved by clear(), so loads in flight are ignored. */
  private baseline = 0;
  private readonly ttlMs: number;
  /** Tells the other nodes to forget a user's entry (from options.peers; tests set it). */
  forgetOnPeers: ((userId: string) => void) | null;

  constructor(opts: UserRoomsCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 60_000;
    const maxEntries = opts.maxEntries ?? 100_000;
    this.entries = new BoundedMap(maxEntries);
    const peers = opts.peers;
    this.forgetOnPeers = peers ? (userId) => peers.userRoomsChanged(userId) : null;
    // Only users with a load in flight need a generation; the map is bounded like the entries.
    this.generations = new BoundedMap(maxEntries);
  }

  get(userId: string): readonly string[] | null {
    const entry = this.entries.get(userId);
    if (!entry) return null;
    if (Date.now() - entry.at > this.ttlMs) {
      this.entries.delete(userId);
      return null;
    }
    return entry.roomIds;
  }

  /** A token to pass to set(): set() ignores a value read before a later forget(). */
  stamp(userId: string): number {
    return this.generations.get(userId) ?? this.baseline;
  }

  set(userId: string, roomIds: readonly string[], stamp: number): void {
    if (this.stamp(userId) !== stamp) return;
    this.entries.set(userId, { roomIds, at: Date.now() });
  }

  /** Drops a user's entry here and on every node. */
  forget(userId: string): void {
    this.forgetLocal(userId);
    this.forgetOnPeers?.(userId);
  }

  forgetLocal(userId: string): void {
    this.entries.delete(userId);
    this.generations.set(userId, ++this.clock);
  }

  /** Drops every entry on this node (after the cluster link was down). */
  clear(): void {
    this.entries.clear();
    this.generations.clear();
    this.baseline = ++this.clock;
  }
}
