// A flusher that runs one pass at a time: every interval, on demand (concurrent callers share
// the pass in progress), until nothing is left (settle), and a bounded last round at close.
// The room counters and the delivery marks checkpoint to the database with it.

export interface PeriodicFlush {
  /** One pass (or the one in progress); resolves how many items it wrote. */
  flush(): Promise<number>;
  /** Passes until one writes nothing. */
  settle(): Promise<void>;
  /**
   * Stops the timer, then writes what it can within a few passes; the rest stays pending
   * for whoever checkpoints next (another node, or the next start).
   */
  close(): Promise<void>;
}

const CLOSE_ROUNDS = 20;

export function periodicFlush(pass: () => Promise<number>, intervalMs: number, onError: (err: unknown) => void): PeriodicFlush {
  let running: Promise<number> | null = null;
  const flush = (): Promise<number> => {
    running ??= pass().finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(() => flush().catch(onError), intervalMs);
  timer.unref();
  return {
    flush,
    async settle() {
      while ((await flush()) > 0);
    },
    async close() {
      clearInterval(timer);
      for (let round = 0; round < CLOSE_ROUNDS; round++) {
        if ((await flush().catch(() => 0)) === 0) break;
      }
    },
  };
}
