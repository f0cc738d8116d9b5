// Storage invariants that must hold with more than one server process on one
// database: seq uniqueness, idempotency, reactions, DMs, read state, membership.
// Only acks and history are checked here; cross-node broadcast belongs to the
// cluster tests. Several nodes always share a Redis (REDIS_URL): that is the only
// supported multi-node deployment, and where the database's updates are not atomic
// (FerretDB) the nodes order their document updates through it.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp, type App } from '../../server/src/app';
import { loadConfig } from '../../server/src/config';
import { createLogger } from '../../server/src/logger';
import { freshMongoUri, testEnv } from '../helpers/app';
import { request, type Client } from '../helpers/clients';
import {
  api,
  CHAT_ENV,
  closeClients,
  cmid,
  connectUser,
  createRoom,
  history,
  listAll,
  membersAll,
  ok,
  PASSWORD,
  registerUser,
  sendMessage,
  uniqueName,
  type Message,
  type Room,
  type TestUser,
} from '../helpers/chat';

describe('chat: two server processes on one database', () => {
  const apps: App[] = [];
  const urls: string[] = [];
  beforeAll(async () => {
    const { uri } = freshMongoUri('two');
    for (let i = 0; i < 2; i++) {
      const config = loadConfig(testEnv({ ...CHAT_ENV, MONGODB_URI: uri, REDIS_URL: inject('redisUrl'), NODE_ID: `node-${i}` }));
      const app = await createApp(config, { log: createLogger('silent') });
      urls.push(`http://127.0.0.1:${await app.listen()}`);
      apps.push(app);
    }
  });
  afterAll(async () => {
    closeClients();
    await Promise.all(apps.map((a) => a.close()));
  });

  /** A user registered on node 0 with one socket on each node. */
  async function user(): Promise<TestUser & { n0: Client; n1: Client }> {
    const u = await registerUser(urls[0]);
    return { ...u, n0: await connectUser(urls[0], u), n1: await connectUser(urls[1], u) };
  }

  it('concurrent senders on both nodes get unique, gap-free seqs', async () => {
    const [a, b] = await Promise.all([user(), user()]);
    const room = await createRoom(a.n0, { type: 'public' });
    await ok(b.n1, 'room:join', { roomId: room.id });
    const sockets = [a.n0, a.n1, b.n0, b.n1];
    const acked = (await Promise.all(Array.from({ length: 60 }, (_, i) => sendMessage(sockets[i % 4], room.id, `m${i}`)))).sort((x, y) => x.seq - y.seq);
    expect(acked.map((m) => m.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect((await history(b.n0, room.id, { limit: 100 })).items).toEqual(acked);
  });

  it('the same clientMsgId sent concurrently through both nodes stores one message', async () => {
    const a = await user();
    const room = await createRoom(a.n0, { type: 'public' });
    const clientMsgId = cmid('x-node');
    const acks = await Promise.all(Array.from({ length: 10 }, (_, i) => request<Message>(i % 2 ? a.n1 : a.n0, 'message:send', { roomId: room.id, clientMsgId, text: 'once' })));
    for (const x of acks) expect(x.ok, JSON.stringify(x)).toBe(true);
    for (const x of acks) expect(x.data).toEqual(acks[0].data);
    expect((await history(a.n1, room.id)).items).toEqual([acks[0].data]);
  });

  it('concurrent reactions through both nodes are all kept', async () => {
    const owner = await user();
    const room = await createRoom(owner.n0, { type: 'public' });
    const m = await sendMessage(owner.n0, room.id, 'react');
    const people = await Promise.all(Array.from({ length: 8 }, () => user()));
    for (const p of people) await ok(p.n0, 'room:join', { roomId: room.id });
    await Promise.all(people.map((p, i) => ok(i % 2 ? p.n1 : p.n0, 'message:react', { messageId: m.id, emoji: '🔥', add: true })));
    const [stored] = (await history(owner.n1, room.id)).items;
    expect(stored.reactions['🔥'].slice().sort()).toEqual(people.map((p) => p.id).sort());
  });

  it('concurrent dm:open through both nodes makes one room', async () => {
    const [a, b] = await Promise.all([user(), user()]);
    const acks = await Promise.all(Array.from({ length: 8 }, (_, i) => request<Room>([a.n0, a.n1, b.n0, b.n1][i % 4], 'dm:open', { userId: i % 4 < 2 ? b.id : a.id })));
    for (const x of acks) expect(x.ok, JSON.stringify(x)).toBe(true);
    expect(new Set(acks.map((x) => x.data!.id)).size).toBe(1);
    expect((await listAll(a.n1)).filter((r) => r.type === 'direct')).toHaveLength(1);
  });

  it('concurrent registrations of one name on both nodes: one 201', async () => {
    const username = uniqueName('xnode');
    const res = await Promise.all(Array.from({ length: 6 }, (_, i) => api(urls[i % 2], 'POST', '/api/v1/auth/register', { body: { username, password: PASSWORD } })));
    expect(res.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
  });

  it('concurrent joins and reads through both nodes count once and settle on the highest seq', async () => {
    const [a, b] = await Promise.all([user(), user()]);
    const room = await createRoom(a.n0, { type: 'public' });
    await Promise.all(Array.from({ length: 6 }, (_, i) => ok(i % 2 ? b.n1 : b.n0, 'room:join', { roomId: room.id })));
    expect(await membersAll(a.n1, room.id)).toHaveLength(2);
    expect((await ok<Room>(a.n0, 'room:join', { roomId: room.id })).memberCount).toBe(2);
    for (let i = 0; i < 6; i++) await sendMessage(a.n0, room.id, `r${i}`);
    await Promise.all([6, 1, 5, 2, 4, 3].map((seq, i) => ok(i % 2 ? b.n1 : b.n0, 'message:read', { roomId: room.id, seq })));
    expect((await listAll(b.n0)).find((r) => r.id === room.id)).toMatchObject({ lastReadSeq: 6, unreadCount: 0 });
  });
});
