// The one place room:list (and anything else showing unread counts) reads a room's
// counters: the exact values of data/room-counters.ts over the documents just read (which
// hold lagging checkpoints of lastSeq, lastActivityAt and the senders' read marks).
import type { MembershipDoc, RoomDoc } from '../../data/models';
import type { RoomCounters as ExactCounters } from '../../data/room-counters';

export interface RoomCounters {
  lastSeq: number;
  lastActivityAt: Date;
  /** The user's read position, never above lastSeq. */
  lastReadSeq: number;
}

/** Counters of each room in `rooms` for `userId`, whose `memberships` are given (by roomId). */
export async function roomCounters(
  exact: ExactCounters,
  userId: string,
  rooms: readonly RoomDoc[],
  memberships: ReadonlyMap<string, MembershipDoc>,
): Promise<Map<string, RoomCounters>> {
  const exactRooms = await exact.overlayRooms([...rooms]);
  const mine = exactRooms.map((r) => memberships.get(r._id)).filter((m): m is MembershipDoc => m !== undefined);
  const exactMine = new Map((await exact.overlayMemberships(userId, mine, exactRooms)).map((m) => [m.roomId, m]));
  const out = new Map<string, RoomCounters>();
  for (const r of exactRooms) {
    out.set(r._id, {
      lastSeq: r.lastSeq,
      lastActivityAt: new Date(r.lastActivityAt),
      lastReadSeq: Math.min(exactMine.get(r._id)?.lastReadSeq ?? 0, r.lastSeq),
    });
  }
  return out;
}
