// The pure parts of the counters: probing forward finds the true last seq, and the memory
// store keeps marks until a checkpoint wrote them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { probeForward } from '../../server/src/data/room-counters';
import { createMemoryCounterStore } from '../../server/src/data/room-counters.store';

describe('probeForward', () => {
  it('finds the highest stored seq from any checkpoint at or below it, in O(log lag) lookups', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(5000), fc.nat(5000), async (checkpoint, lag) => {
        const last = checkpoint + lag;
        let lookups = 0;
        const found = await probeForward(async (seq) => {
          lookups++;
          return seq >= 1 && seq <= last;
        }, checkpoint);
        expect(found).toBe(last);
        expect(lookups).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(lag + 2)) + 2);
      }),
    );
  });
});

describe('memory counter store', () => {
  it('keeps the highest values, hands each dirty room out once, and drops only marks a checkpoint wrote', async () => {
    const s = createMemoryCounterStore();
    await s.recordSent('r', 2, 200, 'u1');
    await s.recordSent('r', 1, 100, 'u2');
    await s.recordSent('r', 3, 300, 'u1');
    expect(await s.rooms(['r', 'x'])).toEqual(new Map([['r', { lastSeq: 3, lastActivityMs: 300 }]]));
    expect(await s.marksOf('u1', ['r'])).toEqual(new Map([['r', 3]]));
    expect(await s.takeDirty(10)).toEqual(['r']);
    expect(await s.takeDirty(10)).toEqual([]);
    const written = await s.roomMarks('r');
    await s.recordSent('r', 4, 400, 'u1'); // moves on after the checkpoint read
    await s.dropMarks('r', written);
    expect(await s.marksOf('u1', ['r'])).toEqual(new Map([['r', 4]]));
    expect(await s.marksOf('u2', ['r'])).toEqual(new Map());
    expect(await s.takeDirty(10)).toEqual(['r']);
  });
});
