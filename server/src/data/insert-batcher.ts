// Group commit for inserts: while one insertMany is in flight, further inserts queue
// and go out together in the next one. At low load an insert leaves at once (no timer);
// under load one database command carries many documents, which is what lets the
// embedded database (~1 ms a command, commands never overlap) and Atlas (one round trip
// and one write op per batch) keep up.
import type { mongo } from 'mongoose';
import { isDuplicateKey } from './ids';
import { createWriteGate, type WriteGate } from './write-gate';
import { currentBudget, isExpired, type Budget } from '../overload/budget';

/** What became of one document of a batch. */
export type InsertOutcome = 'inserted' | 'duplicate';

export interface InsertBatcher<T> {
  /** Resolves once the document is durably inserted, or 'duplicate' on a unique-key clash. */
  insert(doc: T): Promise<InsertOutcome>;
  /** Commands sent and documents carried so far (for metrics and benchmarks). */
  readonly stats: { batches: number; documents: number };
}

interface Pending<T> {
  doc: T;
  /** The time budget of the request that asked (overload/budget.ts): past it, never sent. */
  budget: Budget | undefined;
  resolve(outcome: InsertOutcome): void;
  reject(err: unknown): void;
}

export interface InsertBatcherOptions {
  /** Most documents in one insertMany. */
  maxBatch?: number;
  /** Takes turns with other writers where the database has a single writer (write-gate.ts). */
  gate?: WriteGate;
}

/**
 * Batches inserts into one collection. Documents of one batch are independent
 * (ordered: false): a duplicate key fails only its own document.
 */
export function createInsertBatcher<T extends mongo.Document>(collection: mongo.Collection<T>, opts: InsertBatcherOptions = {}): InsertBatcher<T> {
  const maxBatch = opts.maxBatch ?? 256;
  const gate = opts.gate ?? createWriteGate(false);
  let queue: Pending<T>[] = [];
  let draining = false;
  const stats = { batches: 0, documents: 0 };

  async function send(batch: Pending<T>[]): Promise<void> {
    stats.batches += 1;
    stats.documents += batch.length;
    try {
      // The driver mutates what it inserts (adds _id when missing): ours always carry one.
      const docs = batch.map((p) => p.doc as never);
      await gate.run(() => collection.insertMany(docs, { ordered: false }));
      for (const p of batch) p.resolve('inserted');
    } catch (err) {
      const writeErrors = bulkWriteErrors(err);
      if (!writeErrors) {
        // The command as a whole failed: nothing of it can be acked (a retry by the client,
        // with the same clientMsgId, finds whatever did get stored).
        const cause = commandError(err);
        for (const p of batch) p.reject(cause);
        return;
      }
      const failed = new Map(writeErrors.map((w) => [w.index, w]));
      batch.forEach((p, i) => {
        const w = failed.get(i);
        if (!w) p.resolve('inserted');
        else if (isDuplicateKey(w)) p.resolve('duplicate');
        else p.reject(Object.assign(new Error(w.errmsg ?? 'insert failed'), { code: w.code }));
      });
    }
  }

  async function drain(): Promise<void> {
    draining = true;
    try {
      while (queue.length > 0) {
        const taken = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
        queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
        // A document whose request waited past its budget is refused here, before the database
        // sees it: its client has likely given up, and it must not be stored late.
        const now = performance.now();
        const batch: Pending<T>[] = [];
        for (const p of taken) {
          if (p.budget && isExpired(p.budget, now)) p.reject(p.budget.expired());
          else batch.push(p);
        }
        if (batch.length > 0) await send(batch);
      }
    } finally {
      draining = false;
    }
  }

  return {
    stats,
    insert(doc: T): Promise<InsertOutcome> {
      return new Promise<InsertOutcome>((resolve, reject) => {
        queue.push({ doc, budget: currentBudget(), resolve, reject });
        // A microtask, not a timer: inserts of the same tick share the first command.
        if (!draining) {
          draining = true;
          queueMicrotask(() => void drain());
        }
      });
    },
  };
}

interface WriteErrorLike {
  index: number;
  code?: number;
  errmsg?: string;
}

/**
 * The driver wraps a failed command (a network error, the server gone) in a
 * MongoBulkWriteError with no write errors: unwrap it so callers see what happened
 * (a MongoNetworkError is UNAVAILABLE, not INTERNAL).
 */
function commandError(err: unknown): unknown {
  const inner = (err as { errorResponse?: unknown } | null)?.errorResponse;
  return inner instanceof Error ? inner : err;
}

/**
 * The per-document errors of an ordered:false insertMany, or null if the command failed
 * as a whole (then nothing of it may be taken as stored).
 */
function bulkWriteErrors(err: unknown): WriteErrorLike[] | null {
  const e = err as { writeErrors?: unknown; writeConcernError?: unknown } | null;
  if (!e || e.writeErrors === undefined || e.writeConcernError) return null;
  const list = Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
  if (list.length === 0) return null;
  const out: WriteErrorLike[] = [];
  for (const w of list as Array<Record<string, unknown>>) {
    const index = typeof w.index === 'number' ? w.index : (w.err as { index?: number } | undefined)?.index;
    if (typeof index !== 'number') return null;
    out.push({ index, code: (w.code as number | undefined) ?? (w.err as { code?: number } | undefined)?.code, errmsg: w.errmsg as string | undefined });
  }
  return out;
}
