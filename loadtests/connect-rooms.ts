// `npm run loadtest:rooms -- --url URL --mongo-uri URI --secret SECRET [--memberships N]`:
// connecting a user who is in 20 rooms, with N memberships stored (default 1,000,000).
// Seeds the database once by bulk insert (users in groups of 20 sharing 20 rooms: every
// room has 20 members, every user 20 rooms; each room has one message), then, for
// --repeat different users (each cold in the server's caches) and once more for the same
// users (warm), times: handshake until `connect` (the socket is subscribed to the user's
// rooms before it), and `room:list` until its ack, checking that it lists the 20 rooms.
import { parseArgs } from 'node:util';
import jwt from 'jsonwebtoken';
import mongoose from 'mongoose';
import { io, type Socket } from 'socket.io-client';
import { membershipId } from '../server/src/data/ids';
import type { MembershipDoc, RoomDoc, UserRoomsDoc } from '../server/src/data/models';
import { assertLoopback } from './lib/args';
import { now } from './lib/clock';
import { LatencyStats } from './lib/stats';
import { toMessageDoc } from './scenarios/history-seed';

const GROUP = 20;
const BATCH = 5000;

const { values: v } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3000' },
    'mongo-uri': { type: 'string' },
    secret: { type: 'string' },
    memberships: { type: 'string', default: '1000000' },
    repeat: { type: 'string', default: '20' },
  },
});
if (!v['mongo-uri'] || !v.secret) throw new Error('usage: connect-rooms --url URL --mongo-uri URI --secret SECRET [--memberships N] [--repeat R]');
assertLoopback([v.url!, v['mongo-uri']]);
const total = Math.max(GROUP * GROUP, Math.min(Number(v.memberships), 5_000_000));
const groups = Math.floor(total / (GROUP * GROUP));
const repeat = Math.max(1, Math.min(Number(v.repeat), groups));
const userId = (g: number, i: number) => `bench-u${g * GROUP + i}`;
const roomId = (g: number, i: number) => `bench-r${g * GROUP + i}`;

async function seed(db: mongoose.mongo.Db): Promise<void> {
  const marker = `bench-rooms-${groups}`;
  const meta = db.collection<{ _id: string; at: Date }>('migrations');
  if (await meta.findOne({ _id: marker })) {
    process.stderr.write(`already seeded (${marker})\n`);
    return;
  }
  const started = Date.now();
  const at = new Date(started - 86_400_000);
  const rooms = db.collection<RoomDoc>('rooms');
  const memberships = db.collection<MembershipDoc>('memberships');
  const lists = db.collection<UserRoomsDoc>('user_rooms');
  const messages = db.collection<ReturnType<typeof toMessageDoc>>('messages');
  let done = 0;
  const insert = async <T extends { _id: string }>(c: mongoose.mongo.Collection<T>, docs: T[]) => {
    if (docs.length === 0) return;
    // Re-running after an interrupted seed: documents already there are skipped.
    await c.insertMany(docs as never[], { ordered: false }).catch((err: { code?: number; writeErrors?: unknown[] }) => {
      if (err.code !== 11000 && !err.writeErrors) throw err;
    });
  };
  let next = 0;
  const worker = async () => {
    while (next < groups) {
      const from = next;
      const to = Math.min(groups, from + Math.max(1, Math.floor(BATCH / (GROUP * GROUP))));
      next = to;
      const r: RoomDoc[] = [];
      const m: MembershipDoc[] = [];
      const l: UserRoomsDoc[] = [];
      const msgs = [];
      for (let g = from; g < to; g++) {
        for (let i = 0; i < GROUP; i++) {
          const rid = roomId(g, i);
          const lastActivityAt = new Date(at.getTime() + (g * GROUP + i) * 1000);
          r.push({ _id: rid, type: 'public', name: `bench ${g}/${i}`, createdBy: userId(g, 0), createdAt: at, lastSeq: 1, memberCount: GROUP, lastActivityAt, retentionDays: null });
          msgs.push(toMessageDoc(rid, 1, userId(g, 0), lastActivityAt));
          l.push({ _id: userId(g, i), roomIds: Array.from({ length: GROUP }, (_, k) => roomId(g, k)) });
          for (let k = 0; k < GROUP; k++) {
            const uid = userId(g, k);
            m.push({ _id: membershipId(rid, uid), roomId: rid, userId: uid, role: k === 0 ? 'owner' : 'member', joinedAt: at, lastReadSeq: 0 });
          }
        }
      }
      await insert(rooms, r);
      await insert(memberships, m);
      await insert(lists, l);
      await insert(messages, msgs);
      done += m.length;
      process.stderr.write(`\rseeded ${done} memberships (${Math.round(done / ((Date.now() - started) / 1000))}/s)`);
    }
  };
  await Promise.all([worker(), worker()]);
  await meta.insertOne({ _id: marker, at: new Date() });
  process.stderr.write(`\nseeded ${done} memberships, ${groups * GROUP} rooms and users in ${Math.round((Date.now() - started) / 1000)} s\n`);
}

interface Probe {
  connectMs: number;
  listMs: number;
}

async function probe(user: string, expectRooms: string[]): Promise<Probe> {
  const token = jwt.sign({ sub: user, exp: Math.floor(Date.now() / 1000) + 600 }, v.secret!, { algorithm: 'HS256' });
  const t0 = now();
  const socket: Socket = io(v.url!, { auth: { token }, transports: ['websocket'], reconnection: false, timeout: 30_000 });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const t1 = now();
    const res = (await socket.timeout(30_000).emitWithAck('room:list', {})) as { ok: boolean; data?: { items: Array<{ id: string }> } };
    const t2 = now();
    const got = (res.data?.items ?? []).map((r) => r.id).sort();
    if (!res.ok || got.join() !== [...expectRooms].sort().join()) throw new Error(`room:list for ${user}: ${JSON.stringify(res).slice(0, 200)}`);
    return { connectMs: t1 - t0, listMs: t2 - t1 };
  } finally {
    socket.close();
  }
}

async function main(): Promise<void> {
  const client = new mongoose.mongo.MongoClient(v['mongo-uri']!, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  try {
    await seed(client.db());
  } finally {
    await client.close();
  }
  // Spread the probed users over the whole key range; each is cold in the server's caches.
  const picked = Array.from({ length: repeat }, (_, i) => Math.floor((i * groups) / repeat));
  for (const pass of ['cold', 'warm']) {
    const connect = new LatencyStats();
    const list = new LatencyStats();
    const both = new LatencyStats();
    for (const g of picked) {
      const p = await probe(userId(g, 1), Array.from({ length: GROUP }, (_, k) => roomId(g, k)));
      connect.record(p.connectMs);
      list.record(p.listMs);
      both.record(p.connectMs + p.listMs);
    }
    const f = (s: LatencyStats) => {
      const x = s.summary();
      return `${x.p50} / ${x.p95} / ${x.max}`;
    };
    process.stdout.write(`${pass} (${repeat} users, ms p50 / p95 / max): connect ${f(connect)}; room:list ${f(list)}; connect + room:list ${f(both)}\n`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`connect-rooms: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
