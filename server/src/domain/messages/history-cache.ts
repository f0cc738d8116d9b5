// The newest page of recently active rooms, kept by every node so that opening a room
// costs no database read. Per room: one run of consecutive messages ending at the newest
// this node has delivered (at most PAGE_MAX), LRU-bounded by room count.
//
// Invalidation rules (docs/architecture.md, "History"):
// - New messages arrive in seq order per room (the node's fanout, own and peers' alike);
//   one that does not follow the run restarts it (a gap is never cached over).
// - Edits, deletes and reactions come from this node's service and from every peer; each
//   carries the message's version `v`, so one that arrives late never overwrites a newer one.
//   An update for a seq this node has not delivered yet marks the room so that message is not
//   cached when it arrives (its content would predate the update).
// - A database read fills the run only if no update for the room arrived while it was in
//   flight (epoch), so a page read before an edit never replaces the edited entry.
// - A page is served only if the run reaches the room's lastSeq (read-your-writes across
//   nodes) and is known to be complete below (enough entries, or the room's first seq).
import type { MessageDto } from '../../contracts/dto';
import { BoundedMap } from '../../lib/bounded-map';
import type { Peers } from '../peers';

/** The largest history page the contract allows: what each room's run holds. */
export const PAGE_MAX = 100;

interface Entry {
  m: MessageDto;
  v: number;
}

type Older = 'yes' | 'no' | 'unknown';

interface RoomRun {
  entries: Entry[];
  /** Whether a message older than entries[0] is stored. */
  older: Older;
  /** Bumped by every update for the room: database fills started before it are dropped. */
  epoch: number;
  /** Messages up to this seq were updated before this node delivered them: not cached. */
  staleUpTo: number;
}

export interface CachedPage {
  items: MessageDto[];
  hasMore: boolean;
  /**
   * The seq whose presence proves the page still complete where retention may have deleted
   * messages since they were cached: the one below the page when hasMore, else the oldest item.
   */
  proofSeq: number | null;
}

export class HistoryCache {
  private readonly rooms: BoundedMap<string, RoomRun>;
  /** Sends an update to the other nodes' caches (from `peers`; tests set it). */
  updateOnPeers: ((m: MessageDto, v: number) => void) | null;
  /** False while peers' updates cannot reach this node (Redis link down). */
  linked: () => boolean;

  constructor(maxRooms: number, peers?: Pick<Peers, 'historyUpdated' | 'linked'>) {
    this.rooms = new BoundedMap(maxRooms);
    this.updateOnPeers = peers ? (m, v) => peers.historyUpdated(m, v) : null;
    this.linked = peers ? () => peers.linked() : () => true;
  }

  get size(): number {
    return this.rooms.size;
  }

  /** A stored message delivered on this node (in seq order per room). */
  delivered(m: MessageDto): void {
    if (this.rooms.max === 0) return;
    const run = this.touch(m.roomId, true)!;
    const last = run.entries.at(-1);
    if (last && m.seq <= last.m.seq) return; // already held (a re-announced retry)
    if (m.seq <= run.staleUpTo) {
      run.entries = [];
      run.older = 'unknown';
      return;
    }
    if (last && m.seq === last.m.seq + 1) {
      run.entries.push({ m, v: 0 });
      this.trim(run);
    } else {
      run.entries = [{ m, v: 0 }];
      run.older = m.seq === 1 ? 'no' : 'unknown';
    }
  }

  /** An update stored by this node: applied here and on every peer. */
  updated(m: MessageDto, v: number): void {
    this.applyUpdate(m, v);
    this.updateOnPeers?.(m, v);
  }

  /** An update from any node; one older than the cached entry changes nothing. */
  applyUpdate(m: MessageDto, v: number): void {
    if (this.rooms.max === 0) return;
    const run = this.touch(m.roomId, true)!;
    run.epoch++;
    const first = run.entries[0]?.m.seq ?? Infinity;
    const last = run.entries.at(-1)?.m.seq ?? -Infinity;
    if (m.seq >= first && m.seq <= last) {
      const entry = run.entries[m.seq - first];
      if (v > entry.v) run.entries[m.seq - first] = { m, v };
    } else if (m.seq > last) {
      run.staleUpTo = Math.max(run.staleUpTo, m.seq);
    }
  }

  /** A message loaded from the database for live delivery that was already updated: not cached as new. */
  loadedUpdated(roomId: string, seq: number): void {
    if (this.rooms.max === 0) return;
    const run = this.touch(roomId, true)!;
    run.staleUpTo = Math.max(run.staleUpTo, seq);
  }

  /** The newest `limit` messages if this node is sure of them, else null (read the database). */
  newest(roomId: string, limit: number, lastSeq: number): CachedPage | null {
    if (!this.linked()) return null;
    const run = this.touch(roomId, false);
    if (!run || run.entries.length === 0) return null;
    const last = run.entries.at(-1)!.m.seq;
    if (last < lastSeq || run.staleUpTo > last) return null;
    const n = run.entries.length;
    let hasMore: boolean;
    if (n > limit) hasMore = true;
    else if (n === limit && run.older !== 'unknown') hasMore = run.older === 'yes';
    else if (n < limit && run.older === 'no') hasMore = false;
    else return null;
    const items = run.entries.slice(-limit).map((e) => e.m);
    return { items, hasMore, proofSeq: hasMore ? items[0].seq - 1 : items[0].seq };
  }

  /** Call before reading a newest page from the database; pass the result to fill(). */
  beginFill(roomId: string): number {
    if (this.rooms.max === 0) return 0;
    return this.touch(roomId, true)!.epoch;
  }

  /** Merges a newest page read from the database (ascending, with versions) into the room's run. */
  fill(roomId: string, epoch: number, page: Array<{ m: MessageDto; v: number }>, hasMore: boolean): void {
    const run = this.touch(roomId, false);
    if (!run || run.epoch !== epoch || page.length === 0) return;
    const oldFirst = run.entries[0]?.m.seq;
    const bySeq = new Map<number, Entry>();
    for (const e of page) bySeq.set(e.m.seq, e);
    for (const e of run.entries) {
      const had = bySeq.get(e.m.seq);
      if (!had || e.v > had.v) bySeq.set(e.m.seq, e);
    }
    // Keep the consecutive run that ends at the highest seq known.
    const seqs = [...bySeq.keys()].sort((a, b) => a - b);
    let start = seqs.length - 1;
    while (start > 0 && seqs[start - 1] === seqs[start] - 1) start--;
    const first = seqs[start];
    run.entries = seqs.slice(start).map((s) => bySeq.get(s)!);
    if (first === page[0].m.seq) run.older = hasMore ? 'yes' : 'no';
    else if (first !== oldFirst) run.older = 'unknown';
    // The read saw every update that preceded it (epoch unchanged), stale marks included.
    if (seqs.at(-1)! >= run.staleUpTo) run.staleUpTo = 0;
    this.trim(run);
  }

  /** Drops what this node holds for a room (a cached page failed its proof). */
  forget(roomId: string): void {
    this.rooms.delete(roomId);
  }

  /** Drops everything (the cluster link was down: updates may have been missed). */
  clear(): void {
    this.rooms.clear();
  }

  private trim(run: RoomRun): void {
    if (run.entries.length <= PAGE_MAX) return;
    run.entries = run.entries.slice(-PAGE_MAX);
    run.older = 'yes';
  }

  /** The room's run, now most recently used; created when `create`. */
  private touch(roomId: string, create: boolean): RoomRun | undefined {
    const run = this.rooms.get(roomId) ?? (create ? { entries: [], older: 'unknown' as const, epoch: 0, staleUpTo: 0 } : undefined);
    if (run) this.rooms.set(roomId, run);
    return run;
  }
}
