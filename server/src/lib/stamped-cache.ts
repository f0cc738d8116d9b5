// A per-node cache of one value per key, invalidated here and on the other nodes of a
// cluster (forgetOnPeers), after a TTL as a safety net, and wholly by clear() when the
// cluster link recovers (invalidations may have been lost). Loads are stamped: a value read
// before a later forget() of its key is not stored (see stamp() and set()).
import { BoundedMap } from './bounded-map';

interface Entry<V> {
  value: V;
  at: number;
}

export interface StampedCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  /**
   * Keep entries past the TTL for peek() (get() still misses on them). Without it, a get()
   * that finds an entry past the TTL drops it.
   */
  keepStale?: boolean;
}

export class StampedCache<V> {
  private readonly entries: BoundedMap<string, Entry<V>>;
  /** Bumped by every forget: a load that started before one must not store what it read. */
  private readonly generations: BoundedMap<string, number>;
  private clock = 0;
  /** The stamp of keys with no generation: moved by clear(), so loads in flight are ignored. */
  private baseline = 0;
  private readonly ttlMs: number;
  private readonly keepStale: boolean;

  constructor(
    /** Tells the other nodes to forget a key (null on one node; tests set it). */
    public forgetOnPeers: ((key: string) => void) | null,
    opts: StampedCacheOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.keepStale = opts.keepStale ?? false;
    const maxEntries = opts.maxEntries ?? 100_000;
    this.entries = new BoundedMap(maxEntries);
    // Only keys with a load in flight need a generation; the map is bounded like the entries.
    this.generations = new BoundedMap(maxEntries);
  }

  /** A fresh value, or null (missing or past the TTL). */
  get(key: string): V | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (Date.now() - entry.at <= this.ttlMs) return entry.value;
    if (!this.keepStale) this.entries.delete(key);
    return null;
  }

  /** Whatever this node holds, even past the TTL (with keepStale); null when it holds nothing. */
  peek(key: string): V | null {
    return this.entries.get(key)?.value ?? null;
  }

  /** A token to pass to set(): set() ignores a value read before a later forget(). */
  stamp(key: string): number {
    return this.generations.get(key) ?? this.baseline;
  }

  set(key: string, value: V, stamp: number): void {
    if (this.stamp(key) !== stamp) return;
    this.entries.set(key, { value, at: Date.now() });
  }

  /** Drops a key's entry here and on every node. */
  forget(key: string): void {
    this.forgetLocal(key);
    this.forgetOnPeers?.(key);
  }

  forgetLocal(key: string): void {
    this.entries.delete(key);
    this.generations.set(key, ++this.clock);
  }

  /** Drops every entry on this node (after the cluster link was down). */
  clear(): void {
    this.entries.clear();
    this.generations.clear();
    this.baseline = ++this.clock;
  }
}
