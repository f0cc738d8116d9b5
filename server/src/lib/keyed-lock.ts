// Serialises work per room inside this process, so that one node stores and
// announces a room's messages strictly in seq order without seq races among its
// own requests. Other nodes are arbitrated by the unique (roomId, seq) index.
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs fn after every earlier fn for the same key has settled. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(fn, fn);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  get size(): number {
    return this.tails.size;
  }
}
