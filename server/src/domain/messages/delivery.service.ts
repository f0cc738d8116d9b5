// Delivery receipts (extension; issue 14): a member acknowledges that messages of a room up to
// a seq reached a device (`message:delivered`, REST POST /rooms/:roomId/delivered). Every
// client sends it for every message it receives, so it is a hot path: a cached membership, the
// room's exact lastSeq and one store script, never a database write (data/delivery-marks.ts
// checkpoints the marks). The room hears `delivery:updated` at most once per interval,
// whichever node took the receipts: the store's per-room tick elects the node that announces.
import type { DeliveryPosition, MemberDto } from '../../contracts/dto';
import type { DeliveryStore } from '../../data/delivery-marks.store';
import type { MembershipDoc, RoomDoc } from '../../data/models';
import type { Access } from '../access';
import type { Notifier } from '../notifier';

export interface DeliveryServiceDeps {
  access: Access;
  store: DeliveryStore;
  notifier: Notifier;
  /** At most one `delivery:updated` per room per this many ms. */
  updateIntervalMs: number;
  onError?(err: unknown): void;
}

export type MemberPositions = Pick<MemberDto, 'lastReadSeq' | 'lastDeliveredSeq'>;

export function createDeliveryService({ access, store, notifier, updateIntervalMs, onError }: DeliveryServiceDeps) {
  const timers = new Map<string, NodeJS.Timeout>();

  /** Announces what moved in the room since its last announcement (and ends its tick). */
  async function announce(roomId: string): Promise<void> {
    timers.delete(roomId);
    const moved = await store.takeChanged(roomId);
    if (moved.size === 0) return;
    const items: DeliveryPosition[] = [...moved].map(([userId, lastDeliveredSeq]) => ({ userId, lastDeliveredSeq }));
    notifier.deliveryUpdated(roomId, items);
  }

  function schedule(roomId: string): void {
    if (timers.has(roomId)) return;
    const timer = setTimeout(() => {
      announce(roomId).catch((err: unknown) => onError?.(err));
    }, updateIntervalMs);
    timer.unref();
    timers.set(roomId, timer);
  }

  return {
    /**
     * Moves the caller's delivered position in a room forward to `seq` (clamped to the room's
     * lastSeq; a lower one changes nothing). Resolves the position now held.
     */
    async markDelivered(userId: string, input: { roomId: string; seq: number }): Promise<{ lastDeliveredSeq: number }> {
      await access.memberRole(input.roomId, userId);
      const lastSeq = await access.counters.lastSeq(input.roomId);
      const res = await store.advance(input.roomId, userId, Math.min(input.seq, lastSeq), updateIntervalMs);
      if (res.armed) schedule(input.roomId);
      return { lastDeliveredSeq: res.seq };
    },

    /**
     * Read and delivered positions of these members of `room` (as from access.member: exact
     * lastSeq), for member lists: the memberships' checkpoints, the marks made by sending and
     * the store's marks; delivered is never below read, neither above lastSeq.
     */
    async positions(room: RoomDoc, members: readonly MembershipDoc[]): Promise<Map<string, MemberPositions>> {
      const [sent, delivered] = await Promise.all([access.counters.senderMarks(room), store.marks(room._id, members.map((m) => m.userId))]);
      const out = new Map<string, MemberPositions>();
      for (const m of members) {
        const lastReadSeq = Math.min(Math.max(m.lastReadSeq, sent.get(m.userId) ?? 0), room.lastSeq);
        const lastDeliveredSeq = Math.min(Math.max(lastReadSeq, m.lastDeliveredSeq ?? 0, delivered.get(m.userId) ?? 0), room.lastSeq);
        out.set(m.userId, { lastReadSeq, lastDeliveredSeq });
      }
      return out;
    },

    /** Stops the pending announcements (another node's receipt re-arms a room once its tick expires). */
    close(): void {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
export type DeliveryService = ReturnType<typeof createDeliveryService>;
