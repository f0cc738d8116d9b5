// The delivery store's contract (memory implementation; the Redis one runs the same steps in
// scripts and is exercised by test/integration/delivery-receipts.test.ts on two nodes): marks
// only grow; the first move arms the room's tick and later ones do not until the announcement
// takes the changes; a checkpoint takes each moved mark once and a failed one gives it back.
import { describe, expect, it } from 'vitest';
import { createMemoryDeliveryStore } from '../../server/src/data/delivery-marks.store';

describe('memory delivery store', () => {
  it('moves marks forward only; one armed tick per announcement; changes and checkpoints each taken once', async () => {
    const s = createMemoryDeliveryStore();
    expect(await s.advance('r', 'u1', 3, 60_000)).toEqual({ seq: 3, moved: true, armed: true });
    expect(await s.advance('r', 'u1', 2, 60_000)).toEqual({ seq: 3, moved: false, armed: false });
    expect(await s.advance('r', 'u1', 3, 60_000)).toEqual({ seq: 3, moved: false, armed: false });
    expect(await s.advance('r', 'u2', 5, 60_000)).toEqual({ seq: 5, moved: true, armed: false });
    expect(await s.advance('r', 'u1', 4, 60_000)).toEqual({ seq: 4, moved: true, armed: false });
    expect(await s.advance('other', 'u1', 1, 60_000)).toMatchObject({ armed: true });
    expect(await s.marks('r', ['u1', 'u2', 'u3'])).toEqual(new Map([['u1', 4], ['u2', 5]]));

    // The announcement takes the latest position of each member that moved, and ends the tick.
    expect(await s.takeChanged('r')).toEqual(new Map([['u1', 4], ['u2', 5]]));
    expect(await s.takeChanged('r')).toEqual(new Map());
    expect(await s.advance('r', 'u2', 6, 60_000)).toEqual({ seq: 6, moved: true, armed: true });

    // Checkpoint: each dirty room once; its moved marks once; a failed write is given back.
    expect((await s.takeDirty(10)).sort()).toEqual(['other', 'r']);
    expect(await s.takeDirty(10)).toEqual([]);
    expect(await s.takeUnflushed('r')).toEqual(new Map([['u1', 4], ['u2', 6]]));
    expect(await s.takeUnflushed('r')).toEqual(new Map());
    await s.putBack('r', new Map([['u2', 6]]));
    expect(await s.takeDirty(10)).toEqual(['r']);
    expect(await s.takeUnflushed('r')).toEqual(new Map([['u2', 6]]));
    // Marks stay readable after the checkpoint.
    expect(await s.marks('r', ['u1', 'u2'])).toEqual(new Map([['u1', 4], ['u2', 6]]));
  });
});
