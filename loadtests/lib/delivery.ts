// Checks every message:new a member socket receives against what it should
// receive: the source of `delivered`, `lost` and `duplicates`.
//
// Definition (also in docs/benchmarks.md): a message is *stored* if its ack was
// ok or any socket received it. A stored message is expected exactly once on
// every member socket of its room that had joined and was connected when it was
// sent, except the sender's own socket (its echo is counted apart, since the
// sender already has the ack). lost = expected − received by the end of the
// drain wait; duplicates = the same (socket, message) received again.

/** Slot state: the socket was not a joined member at send time, so nothing is expected. */
const NOT_EXPECTED = 255;
const MAX_COUNT = 254;

interface SendRecord {
  sentAt: number;
  room: number;
  sender: number;
  /** Per member slot: NOT_EXPECTED, or how many times it was received (0 = still missing). */
  slots: Uint8Array;
  expected: number;
  received: number;
  echoes: number;
  ack: string | null;
}

export type Receipt =
  | { kind: 'delivery'; latencyMs: number; room: number; sender: number }
  | { kind: 'duplicate' | 'echo' | 'unexpected' | 'misrouted' | 'unknown' };

export interface DeliveryCounts {
  messages: number;
  stored: number;
  /** Not acked ok and never received: their fate is unknown (typically ack timeouts). */
  unresolved: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  echoes: number;
  /** Received by a socket that was not a joined member at send time (not an error by itself). */
  unexpected: number;
  /** Received by a socket of another room: a routing bug. */
  misrouted: number;
  /** A clientMsgId this run never sent. */
  unknown: number;
}

export class DeliveryTracker {
  private readonly sends = new Map<string, SendRecord>();
  /** Expected deliveries of ok-acked messages still missing: the drain wait ends at 0. */
  private pending = 0;
  private delivered = 0;
  private duplicates = 0;
  private echoes = 0;
  private unexpected = 0;
  private misrouted = 0;
  private unknown = 0;

  /** Call right before emitting; `isJoined(slot)` says whether that member socket is in the room now. */
  recordSend(id: string, room: number, sender: number, memberCount: number, isJoined: (slot: number) => boolean, sentAt: number): void {
    const slots = new Uint8Array(memberCount);
    let expected = 0;
    for (let s = 0; s < memberCount; s++) {
      if (s === sender || !isJoined(s)) slots[s] = NOT_EXPECTED;
      else expected++;
    }
    this.sends.set(id, { sentAt, room, sender, slots, expected, received: 0, echoes: 0, ack: null });
  }

  recordAck(id: string, code: string): void {
    const r = this.sends.get(id);
    if (!r || r.ack !== null) return;
    r.ack = code;
    if (code === 'ok') this.pending += r.expected - r.received;
  }

  recordReceipt(id: string, room: number, slot: number, at: number): Receipt {
    const r = this.sends.get(id);
    if (!r) return this.count('unknown');
    if (r.room !== room) return this.count('misrouted');
    if (slot === r.sender) return r.echoes++ === 0 ? this.count('echo') : this.count('duplicate');
    const state = r.slots[slot];
    if (state === NOT_EXPECTED) return this.count('unexpected');
    if (state > 0) {
      if (state < MAX_COUNT) r.slots[slot] = state + 1;
      return this.count('duplicate');
    }
    r.slots[slot] = 1;
    r.received++;
    this.delivered++;
    if (r.ack === 'ok') this.pending--;
    return { kind: 'delivery', latencyMs: at - r.sentAt, room: r.room, sender: r.sender };
  }

  outstanding(): number {
    return this.pending;
  }

  receivedCount(): number {
    return this.delivered;
  }

  counts(): DeliveryCounts {
    let stored = 0;
    let unresolved = 0;
    let expected = 0;
    let lost = 0;
    for (const r of this.sends.values()) {
      if (r.ack !== 'ok' && r.received === 0) {
        // A refused message (error code) is surely not stored; a timed-out or unanswered one may be.
        if (r.ack === null || r.ack === 'timeout') unresolved++;
        continue;
      }
      stored++;
      expected += r.expected;
      lost += r.expected - r.received;
    }
    return {
      messages: this.sends.size,
      stored,
      unresolved,
      expected,
      delivered: this.delivered,
      lost,
      duplicates: this.duplicates,
      echoes: this.echoes,
      unexpected: this.unexpected,
      misrouted: this.misrouted,
      unknown: this.unknown,
    };
  }

  private count(kind: 'duplicate' | 'echo' | 'unexpected' | 'misrouted' | 'unknown'): Receipt {
    this[kind === 'duplicate' ? 'duplicates' : kind === 'echo' ? 'echoes' : kind]++;
    return { kind };
  }
}
