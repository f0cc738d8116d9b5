// Per-room ordered delivery: hands the app every message with seq > start exactly once,
// in seq order, holding back anything that arrives after a gap until the gap is filled.
import type { MessageDto } from './contract/dto';

export class RoomStream {
  private readonly pending = new Map<number, MessageDto>();

  constructor(
    readonly roomId: string,
    /** The highest seq delivered: everything up to it has been handed over, in order. */
    public highest: number,
    private readonly deliver: (message: MessageDto) => void,
  ) {}

  /** Takes a message from any source (live, ack, history); returns true while a gap is open. */
  ingest(message: MessageDto): boolean {
    if (message.roomId === this.roomId && message.seq > this.highest) this.pending.set(message.seq, message);
    for (let next = this.pending.get(this.highest + 1); next; next = this.pending.get(this.highest + 1)) {
      this.pending.delete(next.seq);
      this.highest = next.seq;
      this.deliver(next);
    }
    return this.pending.size > 0;
  }

  /** True when messages above a missing seq are held back. */
  hasGap(): boolean {
    return this.pending.size > 0;
  }
}
