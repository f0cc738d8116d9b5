// History read paths: range queries and `_id` lookups give the same pages (also after
// retention removed the oldest messages), and every node's newest-page cache follows
// edits, deletes and reactions made on another node.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { CHAT_ENV, closeClients, connectUser, createRoom, history, newPerson, ok, registerUser, seedMessages, sendMessage, type Person } from '../helpers/chat';
import { TestCluster, until } from '../helpers/cluster';

/** chat_history_pages_total by source, from a node's /metrics. */
async function pagesBySource(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^chat_history_pages_total\{[^}]*source="(\w+)"[^}]*\} (\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
}

const QUERIES = [
  {},
  { limit: 7 },
  { limit: 100 },
  { afterSeq: 0 },
  { afterSeq: 0, limit: 5 },
  { afterSeq: 5, limit: 5 },
  { afterSeq: 12, limit: 3 },
  { afterSeq: 28 },
  { afterSeq: 30 },
  { afterSeq: 1000 },
  { beforeSeq: 1 },
  { beforeSeq: 13 },
  { beforeSeq: 14 },
  { beforeSeq: 20, limit: 5 },
  { beforeSeq: 20, limit: 7 },
  { beforeSeq: 31 },
  { beforeSeq: 1000, limit: 3 },
];

describe('history: range and _id-lookup reads', () => {
  let points: TestApp;
  let range: TestApp;
  let owner: Person;
  let onRange: Person['socket'];

  beforeAll(async () => {
    points = await startTestApp({ ...CHAT_ENV, HISTORY_READS: 'points' });
    // The same database, read with range queries.
    range = await startTestApp({ ...CHAT_ENV, HISTORY_READS: 'range', MONGODB_URI: points.config.mongodbUri! });
    owner = await newPerson(points.url);
    onRange = await connectUser(range.url, owner);
  });
  afterAll(async () => {
    closeClients();
    await range?.close();
    await points?.close();
  });

  const compareAll = async (roomId: string) => {
    for (const q of QUERIES) {
      const [a, b] = await Promise.all([history(owner.socket, roomId, q), history(onRange, roomId, q)]);
      expect({ q, page: a }).toEqual({ q, page: b });
    }
  };

  it('each app reads the way it was told', () => {
    expect(points.config.history.reads).toBe('points');
    expect(range.config.history.reads).toBe('range');
  });

  it('give the same pages for every direction and edge', async () => {
    const room = await createRoom(owner.socket, { type: 'public' });
    await seedMessages(owner.socket, room.id, 30, 'p');
    await compareAll(room.id);
    expect((await history(owner.socket, room.id, { afterSeq: 5, limit: 5 })).items.map((m) => m.seq)).toEqual([6, 7, 8, 9, 10]);
    const before = await pagesBySource(points.url);
    expect(before.points).toBeGreaterThan(0);
    expect(before.cache).toBeGreaterThan(0); // the newest pages of a room this node sent into
  });

  it('give the same pages after retention removed the oldest messages (the cached newest page is checked)', async () => {
    const room = await createRoom(owner.socket, { type: 'public' });
    await seedMessages(owner.socket, room.id, 30, 'r');
    expect((await history(owner.socket, room.id)).items).toHaveLength(30); // cached
    await points.app.chat.repos.rooms.setRetention(room.id, 1);
    // What the retention sweep does, for seqs 1..12.
    await points.app.deps.db.collection('messages').deleteMany({ roomId: room.id, seq: { $lte: 12 } });
    const newest = await history(owner.socket, room.id);
    expect(newest.items.map((m) => m.seq)).toEqual(Array.from({ length: 18 }, (_, i) => 13 + i));
    expect(newest.hasMore).toBe(false);
    await compareAll(room.id);
    expect((await history(owner.socket, room.id, { afterSeq: 0, limit: 3 })).items.map((m) => m.seq)).toEqual([13, 14, 15]);
    expect(await history(owner.socket, room.id, { beforeSeq: 13 })).toEqual({ items: [], hasMore: false });
  });

  it('an edit, a reaction and a delete show in the cached newest page at once', async () => {
    const room = await createRoom(owner.socket, { type: 'public' });
    const sent = await seedMessages(owner.socket, room.id, 5, 'e');
    await history(owner.socket, room.id);
    await ok(owner.socket, 'message:edit', { messageId: sent[1].id, text: 'edited' });
    await ok(owner.socket, 'message:react', { messageId: sent[2].id, emoji: '👍', add: true });
    await ok(owner.socket, 'message:delete', { messageId: sent[3].id });
    const before = (await pagesBySource(points.url)).cache ?? 0;
    const page = await history(owner.socket, room.id);
    expect((await pagesBySource(points.url)).cache).toBe(before + 1);
    expect(page).toEqual(await history(onRange, room.id));
    expect(page.items[1]).toMatchObject({ text: 'edited', editedAt: expect.any(String) });
    expect(page.items[2].reactions).toEqual({ '👍': [owner.id] });
    expect(page.items[3]).toMatchObject({ text: '', deletedAt: expect.any(String), reactions: {} });
  });
});

describe('history: the newest-page cache across two nodes', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await TestCluster.start({ nodes: 2 });
  });
  afterEach((ctx) => {
    closeClients();
    if (ctx.task.result?.state === 'fail') process.stderr.write(cluster.logs());
  });
  afterAll(() => cluster?.close());

  it('edits, reactions and deletes on one node reach the other node cached page', async () => {
    const [urlA, urlB] = cluster.urls;
    const [a, b] = await Promise.all([registerUser(urlA), registerUser(urlB)]);
    const [a1, b2] = await Promise.all([connectUser(urlA, a), connectUser(urlB, b)]);
    const room = await createRoom(a1, { type: 'public' });
    await ok(b2, 'room:join', { roomId: room.id });
    const sent = [];
    for (let i = 0; i < 4; i++) sent.push(await sendMessage(i % 2 ? b2 : a1, room.id, `x${i}`));
    // Both nodes answer the newest page from memory once it has reached them.
    for (const s of [a1, b2]) await until(async () => (await history(s, room.id)).items.length === 4, 5000, 'the messages on both nodes');
    const cachedOn = async (url: string) => (await pagesBySource(url)).cache ?? 0;

    await ok(a1, 'message:edit', { messageId: sent[0].id, text: 'edited on A' });
    await ok(b2, 'message:react', { messageId: sent[0].id, emoji: '🎉', add: true });
    await ok(a1, 'message:delete', { messageId: sent[2].id });
    await ok(b2, 'message:edit', { messageId: sent[1].id, text: 'edited on B' });
    const expected = (p: { items: Array<{ text: string; reactions: Record<string, string[]>; deletedAt: string | null }> }) =>
      p.items[0].text === 'edited on A' && p.items[0].reactions['🎉']?.[0] === b.id && p.items[2].deletedAt !== null && p.items[1].text === 'edited on B';
    for (const [s, url] of [
      [a1, urlA],
      [b2, urlB],
    ] as const) {
      const hits = await cachedOn(url);
      const page = await until(async () => {
        const p = await history(s, room.id);
        return expected(p) ? p : null;
      }, 5000, `the updates on ${url}`);
      expect(page.items.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
      // Served from the node's memory, not read again from the database.
      expect(await cachedOn(url)).toBeGreaterThan(hits);
    }
    // A page the cache answers equals the database's (afterSeq pages always read the database).
    const fromDb = await history(b2, room.id, { afterSeq: 0 });
    expect(await history(b2, room.id)).toEqual(fromDb);
    expect(await history(a1, room.id)).toEqual(fromDb);
  });
});
