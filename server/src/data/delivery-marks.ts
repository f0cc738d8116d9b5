// Delivery marks (extension; issue 14): exact in the store (delivery-marks.store.ts), written
// to `memberships.lastDeliveredSeq` by a flusher every interval, one `$max` update per member
// whose mark moved (not one per receipt: a member who received 50 messages in the interval
// costs one update). Readers take the higher of the store and the membership.
//
// A mark is a receipt, not a message: without Redis, a crash loses the marks of the last
// interval (they fall back to the checkpoint and the next receipt moves them on); with
// Redis, nothing is lost while Redis keeps its data.
import { periodicFlush } from '../lib/periodic-flush';
import type { Logger } from '../logger';
import type { DocLock } from './doc-lock';
import type { DeliveryStore } from './delivery-marks.store';
import { lockKeys } from './lock-keys';
import type { Repositories } from './repositories';
import type { WriteGate } from './write-gate';

export interface DeliveryMarksOptions {
  store: DeliveryStore;
  repos: Repositories;
  docLock: DocLock;
  log: Logger;
  writeGate: WriteGate;
  flushIntervalMs: number;
  /** Rooms checkpointed per flush at most. */
  flushBatch: number;
}

export interface DeliveryMarks {
  store: DeliveryStore;
  /** Writes up to one batch of rooms' moved marks; resolves how many rooms were written. */
  flush(): Promise<number>;
  /** Writes every pending mark (tests comparing stored documents call it first). */
  settle(): Promise<void>;
  /** Stops the flusher after writing what is pending (bounded). */
  close(): Promise<void>;
}

export function createDeliveryMarks(opts: DeliveryMarksOptions): DeliveryMarks {
  const { store, repos, docLock, log, writeGate } = opts;

  /** Resolves false when some mark could not be written (it is given back for the next flush). */
  async function checkpoint(roomId: string): Promise<boolean> {
    const moved = await store.takeUnflushed(roomId);
    const failed = new Map<string, number>();
    for (const [userId, seq] of moved) {
      try {
        // Under the membership's lock: FerretDB's $max is read-modify-write, and message:read
        // moves lastReadSeq of the same document.
        await docLock.run(lockKeys.membership(roomId, userId), () => writeGate.run(() => repos.memberships.advanceDelivered(roomId, userId, seq)));
      } catch (err) {
        failed.set(userId, seq);
        log.debug({ err, roomId, userId }, 'delivery checkpoint failed; retried next time');
      }
    }
    if (failed.size > 0) await store.putBack(roomId, failed);
    return failed.size === 0;
  }

  async function flushOnce(): Promise<number> {
    const roomIds = await store.takeDirty(opts.flushBatch);
    let written = 0;
    for (const roomId of roomIds) {
      const ok = await checkpoint(roomId).catch((err: unknown) => {
        log.debug({ err, roomId }, 'delivery checkpoint failed');
        return false;
      });
      if (ok) written += 1;
    }
    return written;
  }
  const flusher = periodicFlush(flushOnce, opts.flushIntervalMs, (err) => log.warn({ err }, 'delivery checkpoint flush failed'));

  return {
    store,
    ...flusher,
  };
}
