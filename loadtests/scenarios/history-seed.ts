// Seeds a room's history by bulk insert straight into MongoDB (a million sends
// would take hours), or into the baseline's memory through its seed extension.
import mongoose from 'mongoose';
import { idempotencyKey, messageDocId } from '../../server/src/data/ids';
import type { MessageDoc } from '../../server/src/data/models';

// ─────────────────────────────────────────────────────────────────────────────
// TODO(lead): everything the seeder assumes about the database is in this block.
// Aligned with server/src/data/models (MessageDoc, RoomDoc) and data/ids.ts as
// the point-lookup history design: _id is `${roomId}:${seq}`, idemKey hashes
// (senderId, clientMsgId), and rooms.lastSeq is the allocation hint (insertNext falls back to the real max
// seq, so a stale hint costs retries, never wrong seqs). The MessageDoc type
// makes tsc flag a schema change; re-check if seq allocation moves elsewhere.
// The history scenario verifies the result: its probe send must get seq N+1 and
// every page must be exact (details.seqContinues, details.pageErrors).
export const SEED_COLLECTIONS = { messages: 'messages', rooms: 'rooms' };

export function toMessageDoc(roomId: string, seq: number, senderId: string, createdAt: Date): MessageDoc {
  const clientMsgId = `seed-${seq}`;
  return {
    _id: messageDocId(roomId, seq),
    roomId,
    seq,
    senderId,
    clientMsgId,
    idemKey: idempotencyKey(senderId, clientMsgId),
    text: `seed message ${seq}`,
    replyTo: null,
    createdAt,
    editedAt: null,
    deletedAt: null,
    reactions: {},
  };
}

/** Moves the room's lastSeq hint to the seeded top, as the server does after each insert. */
async function markRoomSeeded(db: mongoose.mongo.Db, roomId: string, lastSeq: number): Promise<boolean> {
  const rooms = db.collection<{ _id: string; lastSeq: number; lastActivityAt: Date }>(SEED_COLLECTIONS.rooms);
  await rooms.updateOne({ _id: roomId }, { $max: { lastSeq, lastActivityAt: new Date() } });
  const room = await rooms.findOne({ _id: roomId }, { projection: { lastSeq: 1 } });
  return room?.lastSeq === lastSeq;
}
// ─────────────────────────────────────────────────────────────────────────────

export interface SeedResult {
  inserted: number;
  ms: number;
  roomUpdated: boolean;
}

const BATCH = 5000;

/** Inserts seqs 1..count in batches, two in flight; bounded by count and by `timeoutMs`. */
export async function seedMongo(
  uri: string,
  roomId: string,
  senderId: string,
  count: number,
  onProgress: (inserted: number) => void,
  stopped: () => boolean,
  timeoutMs = 30 * 60_000,
): Promise<SeedResult> {
  const started = Date.now();
  const client = new mongoose.mongo.MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  try {
    const db = client.db();
    const messages = db.collection<MessageDoc>(SEED_COLLECTIONS.messages);
    const base = started - count * 1000;
    let next = 1;
    let inserted = 0;
    const worker = async () => {
      while (next <= count && !stopped()) {
        if (Date.now() - started > timeoutMs) throw new Error(`seeding timed out after ${inserted} messages`);
        const from = next;
        const to = Math.min(count, from + BATCH - 1);
        next = to + 1;
        const docs = [];
        for (let s = from; s <= to; s++) docs.push(toMessageDoc(roomId, s, senderId, new Date(base + s * 1000)));
        await messages.insertMany(docs, { ordered: false });
        inserted += docs.length;
        onProgress(inserted);
      }
    };
    await Promise.all([worker(), worker()]);
    const roomUpdated = await markRoomSeeded(db, roomId, inserted);
    return { inserted, ms: Date.now() - started, roomUpdated };
  } finally {
    await client.close();
  }
}

/** The baseline synthesizes seeded messages on read; this only sets its counter. */
export async function seedBaseline(url: string, roomId: string, count: number): Promise<SeedResult> {
  const started = Date.now();
  const res = await fetch(`${url}/__baseline/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ roomId, count }),
  });
  if (!res.ok) throw new Error(`baseline seed: HTTP ${res.status}`);
  return { inserted: count, ms: Date.now() - started, roomUpdated: true };
}
