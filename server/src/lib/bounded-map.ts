// A Map that holds at most `max` entries: set() makes an entry the newest, and past the
// bound the oldest is dropped. The per-node caches and hints use it so that none of them
// grows with the number of rooms or users it has ever seen.
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly max: number) {
    super();
  }

  /** Stores the value as the most recent entry; drops the least recent past the bound. */
  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    if (this.size > this.max) super.delete(this.keys().next().value as K);
    return this;
  }
}
