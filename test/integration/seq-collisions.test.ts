// Seq allocation when nodes share a room (messages.repository insertNext): a seq taken by
// another node is passed with the exact lastSeq, and the real maximum (a collection scan on
// the embedded database) is asked only when the counters lag the database, never because
// other nodes keep moving ahead.
import crypto from 'node:crypto';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freshMongoUri } from '../helpers/app';
import { defineModels, ensureIndexes, type MessageDoc, type Models } from '../../server/src/data/models';
import { messagesRepository } from '../../server/src/data/repositories/messages.repository';
import { idempotencyKey } from '../../server/src/data/ids';

describe('seq allocation under collisions', () => {
  let conn: mongoose.Connection;
  let models: Models;
  let repo: ReturnType<typeof messagesRepository>;
  beforeAll(async () => {
    conn = await mongoose.createConnection(freshMongoUri('seqs').uri).asPromise();
    models = defineModels(conn);
    await ensureIndexes(models);
    repo = messagesRepository(models);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await conn.close();
  });

  const doc = (roomId: string): Omit<MessageDoc, '_id' | 'seq'> => {
    const clientMsgId = crypto.randomUUID();
    return { roomId, senderId: 'u1', clientMsgId, idemKey: idempotencyKey('u1', clientMsgId), text: 'x', replyTo: null, createdAt: new Date(), editedAt: null, deletedAt: null, reactions: {} };
  };
  /** A room holding seqs 1..n, as other nodes stored them. */
  async function roomWith(n: number): Promise<string> {
    const roomId = crypto.randomBytes(12).toString('hex');
    for (let i = 0; i < n; i++) await repo.insertNext(doc(roomId), i, async () => i);
    return roomId;
  }
  /** Counts the queries for a room's highest seq (filter on roomId, not on _id). */
  function countScans(): { readonly n: number } {
    const spy = vi.spyOn(models.Message, 'findOne');
    return {
      get n() {
        return spy.mock.calls.filter(([filter]) => filter !== undefined && 'roomId' in (filter as object) && !('_id' in (filter as object))).length;
      },
    };
  }

  it('other nodes moving ahead one seq at a time: 15 collisions in a row, no scan', async () => {
    const roomId = await roomWith(15);
    const scans = countScans();
    // The exact lastSeq trails the seqs found taken by none: 1, 2, 3, ... (another node always just ahead).
    let lastSeq = 0;
    const { message, created } = await repo.insertNext(doc(roomId), 0, async () => ++lastSeq);
    expect(created).toBe(true);
    expect(message.seq).toBe(16);
    expect(scans.n).toBe(0);
    vi.restoreAllMocks();
  });

  it('counters that lag the database (they lost their state): one scan after 10 collisions, then the next free seq', async () => {
    const roomId = await roomWith(25);
    const scans = countScans();
    const { message } = await repo.insertNext(doc(roomId), 0, async () => 0);
    expect(message.seq).toBe(26);
    expect(scans.n).toBe(1);
    vi.restoreAllMocks();
  });
});
