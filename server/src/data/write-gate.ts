// One write in flight at a time, where the database needs it. SQLite (the embedded
// database) has a single writer: a second write that finds the lock taken sleeps in SQLite's
// busy handler (1, 2, 5, 10 ms ...), so a checkpoint update racing an insert batch adds
// tens of ms to every send waiting behind it. Passing the high-volume writers (message
// batches, counter checkpoints) through one FIFO gate makes them take turns instead.
// On MongoDB writes run concurrently and the gate lets everything through.
import { KeyedLock } from '../lib/keyed-lock';

export interface WriteGate {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

export function createWriteGate(serial: boolean): WriteGate {
  if (!serial) return { run: (fn) => fn() };
  const lock = new KeyedLock();
  return { run: (fn) => lock.run('write', fn) };
}
