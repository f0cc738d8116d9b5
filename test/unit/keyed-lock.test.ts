import { describe, expect, it } from 'vitest';
import { KeyedLock } from '../../server/src/lib/keyed-lock';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KeyedLock', () => {
  it('runs work for one key strictly one after another, in call order', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    await Promise.all(
      [30, 10, 0].map((delay, i) =>
        lock.run('k', async () => {
          log.push(`start${i}`);
          await tick(delay);
          log.push(`end${i}`);
        }),
      ),
    );
    expect(log).toEqual(['start0', 'end0', 'start1', 'end1', 'start2', 'end2']);
    expect(lock.size).toBe(0);
  });

  it('a failure does not block the next caller and is returned to its own caller', async () => {
    const lock = new KeyedLock();
    const failed = lock.run('k', async () => {
      throw new Error('boom');
    });
    const next = lock.run('k', async () => 42);
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe(42);
  });

  it('different keys run concurrently', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    await Promise.all([
      lock.run('a', async () => {
        await tick(20);
        log.push('a');
      }),
      lock.run('b', async () => {
        log.push('b');
      }),
    ]);
    expect(log).toEqual(['b', 'a']);
  });
});
