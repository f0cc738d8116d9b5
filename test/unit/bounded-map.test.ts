import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../server/src/lib/bounded-map';

describe('BoundedMap', () => {
  it('drops the least recently set entry past its bound', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2);
    m.set('a', 3); // a is now the newest
    m.set('c', 4);
    expect([...m.entries()]).toEqual([
      ['a', 3],
      ['c', 4],
    ]);
    expect(m.size).toBe(2);
  });

  it('holds nothing with a bound of 0', () => {
    const m = new BoundedMap<string, number>(0);
    m.set('a', 1);
    expect(m.size).toBe(0);
  });
});
