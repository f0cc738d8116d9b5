// Group commit: at low load an insert leaves at once; while one command is in flight the
// next inserts share one insertMany; a duplicate fails only its own document, and a
// failed command fails all of its documents (none may be acked).
import { describe, expect, it } from 'vitest';
import { createInsertBatcher } from '../../server/src/data/insert-batcher';
import { AppError } from '../../server/src/errors';
import { withBudget } from '../../server/src/overload/budget';

function fakeCollection(behave: (docs: Array<{ _id: string }>) => Promise<void>) {
  const calls: string[][] = [];
  return {
    calls,
    collection: {
      insertMany: async (docs: Array<{ _id: string }>) => {
        calls.push(docs.map((d) => d._id));
        await behave(docs);
      },
    } as never,
  };
}

describe('insert batcher', () => {
  it('sends the first insert alone and batches those that arrive while it is in flight', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { calls, collection } = fakeCollection(async (docs) => {
      if (docs[0]._id === 'a') await gate;
    });
    const b = createInsertBatcher<{ _id: string }>(collection);
    const first = b.insert({ _id: 'a' });
    await new Promise((r) => setTimeout(r, 5));
    const rest = ['b', 'c', 'd'].map((id) => b.insert({ _id: id }));
    release();
    expect(await Promise.all([first, ...rest])).toEqual(['inserted', 'inserted', 'inserted', 'inserted']);
    expect(calls).toEqual([['a'], ['b', 'c', 'd']]);
    expect(b.stats).toEqual({ batches: 2, documents: 4 });
  });

  it('reports a duplicate key for its document only', async () => {
    const { collection } = fakeCollection(async () => {
      throw Object.assign(new Error('bulk'), { writeErrors: [{ index: 1, code: 11000, errmsg: 'E11000' }] });
    });
    const b = createInsertBatcher<{ _id: string }>(collection);
    expect(await Promise.all(['x', 'y', 'z'].map((id) => b.insert({ _id: id })))).toEqual(['inserted', 'duplicate', 'inserted']);
  });

  it('fails every document of a command that failed as a whole, with the underlying error', async () => {
    const network = Object.assign(new Error('connect ECONNREFUSED'), { name: 'MongoNetworkError' });
    const { collection } = fakeCollection(async () => {
      throw Object.assign(new Error('bulk'), { name: 'MongoBulkWriteError', writeErrors: [], errorResponse: network });
    });
    const b = createInsertBatcher<{ _id: string }>(collection);
    const results = await Promise.allSettled(['x', 'y'].map((id) => b.insert({ _id: id })));
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).name : r.value))).toEqual(['MongoNetworkError', 'MongoNetworkError']);
  });

  it('never sends a document whose request waited past its budget; the others of the batch go out', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { calls, collection } = fakeCollection(async (docs) => {
      if (docs[0]._id === 'a') await gate;
    });
    const b = createInsertBatcher<{ _id: string }>(collection);
    const expired = () => new AppError('UNAVAILABLE', 'late', { retryAfterMs: 100, reason: 'deadline' });
    const first = b.insert({ _id: 'a' });
    await new Promise((r) => setTimeout(r, 5));
    const late = withBudget(20, expired, () => b.insert({ _id: 'late' }));
    const patient = withBudget(60_000, expired, () => b.insert({ _id: 'patient' }));
    await new Promise((r) => setTimeout(r, 50));
    release();
    expect(await first).toBe('inserted');
    expect(await patient).toBe('inserted');
    await expect(late).rejects.toMatchObject({ code: 'UNAVAILABLE', details: { reason: 'deadline' } });
    expect(calls).toEqual([['a'], ['patient']]);
  });
});
