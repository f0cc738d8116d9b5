// The one place room:list (and anything else showing unread counts) reads a room's
// counters. Today they come from the documents just read; the send path may keep them
// exact elsewhere (memory, Redis) and checkpoint them to the documents late, in which
// case this is the function to point at that source.
import type { MembershipDoc, RoomDoc } from '../../data/models';

export interface RoomCounters {
  lastSeq: number;
  lastActivityAt: Date;
  /** The user's read position, never above lastSeq. */
  lastReadSeq: number;
}

/** Counters of each room in `rooms` for the member whose `memberships` are given (by roomId). */
export async function roomCounters(rooms: readonly RoomDoc[], memberships: ReadonlyMap<string, MembershipDoc>): Promise<Map<string, RoomCounters>> {
  const out = new Map<string, RoomCounters>();
  for (const r of rooms) {
    const lastSeq = r.lastSeq;
    out.set(r._id, {
      lastSeq,
      lastActivityAt: new Date(r.lastActivityAt),
      lastReadSeq: Math.min(memberships.get(r._id)?.lastReadSeq ?? 0, lastSeq),
    });
  }
  return out;
}
