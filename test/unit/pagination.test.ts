import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeCursor, encodeCursor } from '../../server/src/domain/pagination';

describe('list cursors', () => {
  it('round-trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4102444800000 }), fc.string({ maxLength: 40 }), (ms, id) => {
        const c = decodeCursor(encodeCursor({ at: new Date(ms), id }));
        expect(c).toEqual({ at: new Date(ms), id });
      }),
    );
  });

  it('refuses anything malformed with VALIDATION_FAILED', () => {
    for (const bad of ['', 'not-base64!', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('[1]').toString('base64url'), Buffer.from('[1.5,"x"]').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    }
    expect(decodeCursor(undefined)).toBeNull();
  });
});
