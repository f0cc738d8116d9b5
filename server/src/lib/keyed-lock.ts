// Serialises work per key inside this process: each run starts after every earlier run
// for the same key has settled (message.service orders a room's sends with it; doc-lock
// and write-gate build on it).
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
