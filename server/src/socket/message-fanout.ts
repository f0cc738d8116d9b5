// Delivers message:new to this node's sockets in seq order per room, whatever
// order messages arrive in (own sends, or peers' over the adapter). A gap that is
// not filled within gapWaitMs is loaded from the database; what is still missing
// then is skipped (clients fill gaps from history, as the contract says).
import type { MessageDto } from '../contracts/dto';

interface RoomState {
  delivered: number;
  pending: Map<number, MessageDto>;
  timer: NodeJS.Timeout | null;
  touchedAt: number;
}

export interface FanoutOptions {
  /** Emits to this node's sockets in the room. */
  deliver(message: MessageDto): void;
  /** Loads stored messages with fromSeq <= seq <= toSeq, ascending. */
  loadRange(roomId: string, fromSeq: number, toSeq: number): Promise<MessageDto[]>;
  gapWaitMs?: number;
  idleMs?: number;
  onError?(err: unknown): void;
}

export class MessageFanout {
  private readonly rooms = new Map<string, RoomState>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly gapWaitMs: number;
  private readonly idleMs: number;

  constructor(private readonly opts: FanoutOptions) {
    this.gapWaitMs = opts.gapWaitMs ?? 500;
    this.idleMs = opts.idleMs ?? 10 * 60_000;
    this.sweeper = setInterval(() => this.sweep(), Math.min(this.idleMs, 60_000));
    this.sweeper.unref();
  }

  /** Accepts a stored message; duplicates (seq already delivered) are dropped. */
  accept(message: MessageDto): void {
    let state = this.rooms.get(message.roomId);
    if (!state) {
      // First sight of this room on this node: nothing before it is owed to our sockets.
      state = { delivered: message.seq - 1, pending: new Map(), timer: null, touchedAt: Date.now() };
      this.rooms.set(message.roomId, state);
    }
    state.touchedAt = Date.now();
    if (message.seq <= state.delivered || state.pending.has(message.seq)) return;
    state.pending.set(message.seq, message);
    this.flush(message.roomId, state);
  }

  private flush(roomId: string, state: RoomState): void {
    this.deliverConsecutive(state);
    if (state.pending.size === 0) {
      if (state.timer) clearTimeout(state.timer);
      state.timer = null;
    } else if (!state.timer) {
      state.timer = setTimeout(() => void this.fillGap(roomId, state), this.gapWaitMs);
      state.timer.unref();
    }
  }

  private deliverConsecutive(state: RoomState): void {
    let next = state.pending.get(state.delivered + 1);
    while (next) {
      state.pending.delete(next.seq);
      state.delivered = next.seq;
      this.opts.deliver(next);
      next = state.pending.get(state.delivered + 1);
    }
  }

  private async fillGap(roomId: string, state: RoomState): Promise<void> {
    state.timer = null;
    if (state.pending.size === 0) return;
    const firstPending = Math.min(...state.pending.keys());
    try {
      const missing = await this.opts.loadRange(roomId, state.delivered + 1, firstPending - 1);
      for (const m of missing) if (m.seq > state.delivered) state.pending.set(m.seq, m);
    } catch (err) {
      this.opts.onError?.(err);
    }
    // Deliver what the database filled in; whatever is still missing is skipped rather
    // than holding the room back.
    this.deliverConsecutive(state);
    if (state.pending.size > 0) state.delivered = Math.min(...state.pending.keys()) - 1;
    this.flush(roomId, state);
  }

  private sweep(): void {
    const cutoff = Date.now() - this.idleMs;
    for (const [roomId, state] of this.rooms) {
      if (state.touchedAt < cutoff && state.pending.size === 0) this.rooms.delete(roomId);
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const state of this.rooms.values()) if (state.timer) clearTimeout(state.timer);
    this.rooms.clear();
  }
}
