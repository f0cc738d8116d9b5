import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import type { MessageDto } from '../../server/src/contracts/dto';
import { MessageFanout } from '../../server/src/socket/message-fanout';

const msg = (seq: number, roomId = 'r'): MessageDto => ({
  id: `m${seq}`, roomId, seq, senderId: 'u', clientMsgId: `c${seq}`, text: 't', replyTo: null,
  createdAt: new Date(0).toISOString(), editedAt: null, deletedAt: null, reactions: {},
});

describe('MessageFanout', () => {
  let fanout: MessageFanout | null = null;
  afterEach(() => {
    fanout?.close();
    vi.useRealTimers();
  });

  it('delivers each room in seq order whatever the arrival order, once each', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray([2, 3, 4, 5, 6, 7, 8], { minLength: 7, maxLength: 7 }), (order) => {
        const seen: number[] = [];
        const f = new MessageFanout({ deliver: (m) => seen.push(m.seq), loadRange: async () => [] });
        f.accept(msg(1));
        for (const s of order) f.accept(msg(s));
        for (const s of order) f.accept(msg(s)); // duplicates are dropped
        f.close();
        expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      }),
    );
  });

  it('keeps rooms independent', () => {
    const seen: string[] = [];
    fanout = new MessageFanout({ deliver: (m) => seen.push(`${m.roomId}${m.seq}`), loadRange: async () => [] });
    fanout.accept(msg(1, 'a'));
    fanout.accept(msg(3, 'b'));
    fanout.accept(msg(3, 'a'));
    fanout.accept(msg(2, 'a'));
    expect(seen).toEqual(['a1', 'b3', 'a2', 'a3']);
  });

  it('fills a gap that stays open from the database, then skips what is still missing', async () => {
    vi.useFakeTimers();
    const seen: number[] = [];
    const loadRange = vi.fn(async (_room: string, from: number, to: number) => (from <= 2 && 2 <= to ? [msg(2)] : []));
    fanout = new MessageFanout({ deliver: (m) => seen.push(m.seq), loadRange, gapWaitMs: 100 });
    fanout.accept(msg(1));
    fanout.accept(msg(5));
    expect(seen).toEqual([1]);
    await vi.advanceTimersByTimeAsync(150);
    expect(loadRange).toHaveBeenCalledWith('r', 2, 4);
    // 2 came from the database; 3 and 4 do not exist yet and are skipped for the client to fill.
    expect(seen).toEqual([1, 2, 5]);
    fanout.accept(msg(3));
    expect(seen).toEqual([1, 2, 5]);
  });
});
