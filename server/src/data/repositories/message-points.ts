// History read as `_id` lookups (`roomId:seq`), for databases that serve nothing but `_id`
// equality from an index (FerretDB: every range or sort is a scan of the whole collection).
// A page of `limit` costs limit + 1 lookups (the extra one answers hasMore), plus one probe
// past the room's lastSeq hint for the newest page.
//
// It relies on what the write paths guarantee: a room's stored seqs are one run
// [oldest, top] (seqs are gap-free, deletes are soft, and retention removes the oldest
// first), so the first missing seq walking away from a present one is an end of the run.
// Only a page that starts below the oldest stored message (retention) has to search for
// it: a binary search by `_id`, O(log n) lookups, never a scan.
import { checkBudget } from '../../overload/budget';
import type { Model } from 'mongoose';
import { messageDocId } from '../ids';
import type { MessageDoc } from '../models';

/** A history page request, per the contract's afterSeq/beforeSeq/limit rules. */
export interface HistoryQuery {
  beforeSeq?: number;
  afterSeq?: number;
  limit: number;
}

export interface PointPage {
  items: MessageDoc[];
  hasMore: boolean;
}

/** More seqs than this in one gap fill are read as a range: gaps that large are rare. */
const MAX_POINT_RANGE = 200;
/**
 * Lookups of one page in flight at once. FerretDB answers commands one after another anyway;
 * measured at 1,000,000 messages, 51 lookups took ~58 ms one at a time and ~195 ms all at once
 * (they contend inside the database), so a page keeps only a few in flight.
 */
const PAGE_CONCURRENCY = 4;

export function messagePoints(Message: Model<MessageDoc>) {
  // Each lookup first checks the asking request's budget (overload/budget.ts): a page of ~100
  // lookups whose client has given up stops there instead of holding the database for the rest.
  const one = (roomId: string, seq: number) => {
    checkBudget();
    return Message.findById(messageDocId(roomId, seq)).lean<MessageDoc>().exec();
  };
  const exists = async (roomId: string, seq: number) => {
    checkBudget();
    return seq >= 1 && (await Message.exists({ _id: messageDocId(roomId, seq) })) !== null;
  };

  /** The messages at seqs from..to (null where absent), PAGE_CONCURRENCY lookups at a time. */
  async function batch(roomId: string, from: number, to: number): Promise<Array<MessageDoc | null>> {
    const out: Array<MessageDoc | null> = new Array(Math.max(0, to - from + 1)).fill(null);
    let next = 0;
    const worker = async () => {
      while (next < out.length) {
        const i = next++;
        out[i] = await one(roomId, from + i);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PAGE_CONCURRENCY, out.length) }, worker));
    return out;
  }

  /** The highest stored seq, probing forward from a hint that may lag (never lead) the truth. */
  async function top(roomId: string, hint: number): Promise<number> {
    let seq = Math.max(0, hint);
    while (await exists(roomId, seq + 1)) seq++;
    return seq;
  }

  /** The lowest stored seq in [lo, hi], or null: stored seqs are one run, so presence is monotone here. */
  async function firstStored(roomId: string, lo: number, hi: number): Promise<number | null> {
    if (hi < lo || !(await exists(roomId, hi))) return null;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (await exists(roomId, mid)) hi = mid;
      else lo = mid + 1;
    }
    return hi;
  }

  /** Up to `count` consecutive messages from `from` upwards, stopping at the first missing seq. */
  async function ascending(roomId: string, from: number, count: number, hint: number): Promise<MessageDoc[]> {
    // Known range in one batch; past the hint (it may lag) one probe at a time.
    const known = Math.min(count, Math.max(1, hint - from + 1));
    const run: MessageDoc[] = [];
    for (const doc of await batch(roomId, from, from + known - 1)) {
      if (!doc) return run;
      run.push(doc);
    }
    while (run.length < count) {
      const doc = await one(roomId, from + run.length);
      if (!doc) break;
      run.push(doc);
    }
    return run;
  }

  return {
    exists,

    /** A history page in ascending seq, per the contract's afterSeq/beforeSeq rules; `lastSeqHint` is the room's lastSeq. */
    async page(roomId: string, q: HistoryQuery, lastSeqHint: number): Promise<PointPage> {
      if (q.afterSeq !== undefined) {
        let from = q.afterSeq + 1;
        let run = await ascending(roomId, from, q.limit + 1, lastSeqHint);
        if (run.length === 0 && from > 0) {
          // Below the oldest stored message (retention), or past the top: find where the run starts.
          const start = await firstStored(roomId, from, await top(roomId, lastSeqHint));
          if (start === null) return { items: [], hasMore: false };
          from = start;
          run = await ascending(roomId, from, q.limit + 1, lastSeqHint);
        }
        return { items: run.slice(0, q.limit), hasMore: run.length > q.limit };
      }
      const highest = q.beforeSeq === undefined || q.beforeSeq - 1 > lastSeqHint ? await top(roomId, lastSeqHint) : lastSeqHint;
      const end = Math.min(highest, q.beforeSeq === undefined ? highest : q.beforeSeq - 1);
      if (end < 1) return { items: [], hasMore: false };
      const docs = await batch(roomId, Math.max(1, end - q.limit), end);
      const run: MessageDoc[] = [];
      for (let i = docs.length - 1; i >= 0 && docs[i]; i--) run.push(docs[i]!);
      run.reverse();
      const hasMore = run.length > q.limit;
      return { items: hasMore ? run.slice(1) : run, hasMore };
    },

    /** Stored messages with fromSeq <= seq <= toSeq, ascending (a live-delivery gap fill); null when the gap is too large for lookups. */
    async inRange(roomId: string, fromSeq: number, toSeq: number): Promise<MessageDoc[] | null> {
      if (toSeq - fromSeq + 1 > MAX_POINT_RANGE) return null;
      return (await batch(roomId, fromSeq, toSeq)).filter((d): d is MessageDoc => d !== null);
    },
  };
}
export type MessagePoints = ReturnType<typeof messagePoints>;
