// The client SDK (client/src) against a real server: ordered exactly-once delivery across
// reconnects, sends retried with one clientMsgId, token refresh, errors as values,
// unread counts, read marks, presence, typing and history pagination.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient, createChatClient, login, register, type MessageDto } from '../../client/src';
import { signToken, startTestApp, type TestApp } from '../helpers/app';
import { CHAT_ENV } from '../helpers/chat';
import { until } from '../helpers/cluster';

const clients: ChatClient[] = [];

async function newUser(url: string, opts: Partial<ConstructorParameters<typeof ChatClient>[0]> = {}) {
  const username = `u${crypto.randomBytes(5).toString('hex')}`;
  const reg = await register(url, { username, password: 'correct-horse-battery' });
  if (!reg.ok) throw new Error(`register: ${reg.error.message}`);
  const client = createChatClient({ url, token: reg.data.token, ...opts });
  clients.push(client);
  const connected = await client.connect();
  expect(connected).toEqual({ ok: true, data: undefined });
  return { client, user: reg.data.user, token: reg.data.token, username };
}

/** Records what the SDK hands the app for each room. */
function recorder(client: ChatClient) {
  const seen = new Map<string, MessageDto[]>();
  client.on('message', (m) => {
    if (!seen.has(m.roomId)) seen.set(m.roomId, []);
    seen.get(m.roomId)!.push(m);
  });
  return (roomId: string) => (seen.get(roomId) ?? []).map((m) => m.seq);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('sdk: against one server', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ...CHAT_ENV });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t.close();
  });

  it('register and login return typed results; a wrong password is an UNAUTHORIZED value', async () => {
    const username = `u${crypto.randomBytes(5).toString('hex')}`;
    const reg = await register(t.url, { username, password: 'correct-horse-battery' });
    expect(reg.ok && reg.data.user.username).toBe(username);
    const bad = await login(t.url, { username, password: 'wrong-password' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    const taken = await register(t.url, { username, password: 'correct-horse-battery' });
    expect(taken).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  });

  it('delivers every message once in seq order, including those sent while disconnected', async () => {
    const alice = await newUser(t.url);
    const bob = await newUser(t.url);
    const bobSeen = recorder(bob.client);
    const room = await alice.client.createRoom('public', 'sdk order');
    expect(room.ok).toBe(true);
    const roomId = room.ok ? room.data.id : '';
    expect((await bob.client.joinRoom(roomId)).ok).toBe(true);
    await bob.client.follow(roomId);

    for (let i = 1; i <= 10; i++) expect((await alice.client.send(roomId, `m${i}`)).ok).toBe(true);
    await until(() => bobSeen(roomId).length === 10, 10_000, 'first ten');

    // Bob's sockets are cut by the server; Alice keeps sending while Bob reconnects.
    t.app.io.in(`user:${bob.user.id}`).disconnectSockets(true);
    for (let i = 11; i <= 25; i++) expect((await alice.client.send(roomId, `m${i}`)).ok).toBe(true);
    await until(() => bobSeen(roomId).length >= 25, 15_000, 'all 25 after the reconnect');
    await new Promise((r) => setTimeout(r, 300));
    expect(bobSeen(roomId)).toEqual(range(1, 25));
    expect(bob.client.deliveredSeq(roomId)).toBe(25);
  });

  it('follow(roomId, afterSeq) starts after a seq and catches up from history', async () => {
    const alice = await newUser(t.url);
    const room = await alice.client.createRoom('public', 'sdk follow');
    const roomId = room.ok ? room.data.id : '';
    for (let i = 1; i <= 5; i++) await alice.client.send(roomId, `m${i}`);
    const bob = await newUser(t.url);
    const bobSeen = recorder(bob.client);
    await bob.client.joinRoom(roomId);
    await bob.client.follow(roomId, 2);
    expect(bobSeen(roomId)).toEqual([3, 4, 5]);
  });

  it('send retries with the same clientMsgId: one stored message, one delivery', async () => {
    const alice = await newUser(t.url);
    const aliceSeen = recorder(alice.client);
    const room = await alice.client.createRoom('public', 'sdk idem');
    const roomId = room.ok ? room.data.id : '';
    await alice.client.follow(roomId);
    const first = await alice.client.send(roomId, 'once', { clientMsgId: 'fixed-id' });
    const again = await alice.client.send(roomId, 'once', { clientMsgId: 'fixed-id' });
    expect(first.ok && again.ok && again.data.id === first.data.id).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(aliceSeen(roomId)).toEqual([1]);
  });

  it('refusals are typed values, not exceptions', async () => {
    const alice = await newUser(t.url);
    expect(await alice.client.send('no-such-room', 'hi')).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    const room = await alice.client.createRoom('public', 'sdk errors');
    const roomId = room.ok ? room.data.id : '';
    const bad = await alice.client.send(roomId, '');
    expect(bad).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
  });

  it('a refused handshake resolves connect() with UNAUTHORIZED', async () => {
    const client = createChatClient({ url: t.url, token: 'not-a-valid.jwt.token' });
    clients.push(client);
    const r = await client.connect();
    expect(r).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
  });

  it('refreshes a short-lived token with auth:refresh before it expires: no session:expired', async () => {
    const alice = await newUser(t.url);
    let issued = 0;
    const provider = () => {
      issued++;
      return signToken(alice.user.id, { expiresIn: 3 });
    };
    const client = createChatClient({ url: t.url, token: provider });
    clients.push(client);
    let expired = 0;
    let disconnects = 0;
    client.on('session:expired', () => expired++);
    client.on('state', (s) => s === 'disconnected' && disconnects++);
    expect((await client.connect()).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 5500));
    expect(expired).toBe(0);
    expect(disconnects).toBe(0);
    expect(issued).toBeGreaterThanOrEqual(2);
    expect((await client.listRooms()).ok).toBe(true);
  });

  it('backs off on RATE_LIMITED and still delivers every send, once', async () => {
    const limited = await startTestApp({ ...CHAT_ENV, RATE_LIMIT_MESSAGES: '3', RATE_LIMIT_WINDOW_MS: '1000' });
    try {
      const alice = await newUser(limited.url);
      const room = await alice.client.createRoom('public', 'sdk limits');
      const roomId = room.ok ? room.data.id : '';
      const results = await Promise.all(range(1, 7).map((i) => alice.client.send(roomId, `r${i}`)));
      expect(results.every((r) => r.ok)).toBe(true);
      const seqs = results.map((r) => (r.ok ? r.data.seq : 0)).sort((a, b) => a - b);
      expect(seqs).toEqual(range(1, 7));
    } finally {
      await limited.close();
    }
  });

  it('tracks unread counts and read marks; history pages back to the first message', async () => {
    const alice = await newUser(t.url);
    const bob = await newUser(t.url);
    const room = await alice.client.createRoom('public', 'sdk unread');
    const roomId = room.ok ? room.data.id : '';
    await bob.client.joinRoom(roomId);
    expect((await bob.client.listRooms()).ok).toBe(true);
    for (let i = 1; i <= 12; i++) await alice.client.send(roomId, `h${i}`);
    await until(() => bob.client.unreadCount(roomId) === 12, 5000, 'unread 12');
    const read = await bob.client.markRead(roomId, 10);
    expect(read).toEqual({ ok: true, data: { lastReadSeq: 10, unreadCount: 2, unreadMentions: 0 } });
    expect(bob.client.unreadCount(roomId)).toBe(2);

    const pager = bob.client.history(roomId, 5);
    const pages: number[][] = [];
    while (pager.hasMore) {
      const page = await pager.older();
      if (!page.ok) throw new Error(page.error.message);
      pages.push(page.data.map((m) => m.seq));
    }
    expect(pages).toEqual([range(8, 12), range(3, 7), range(1, 2)]);

    const forward: number[] = [];
    for await (const page of bob.client.pagesAfter(roomId, 4, 3)) forward.push(...page.map((m) => m.seq));
    expect(forward).toEqual(range(5, 12));
  });

  it('threads and mentions (extension): send a thread reply, page the thread, see unreadMentions', async () => {
    const alice = await newUser(t.url);
    const bob = await newUser(t.url);
    const room = await alice.client.createRoom('public', 'sdk threads');
    const roomId = room.ok ? room.data.id : '';
    await bob.client.joinRoom(roomId);
    const parent = await alice.client.send(roomId, 'parent');
    if (!parent.ok) throw new Error(parent.error.message);
    const reply = await bob.client.send(roomId, `@${alice.username} sure`, { threadOf: parent.data.id, alsoInRoom: true });
    expect(reply).toMatchObject({ ok: true, data: { threadOf: parent.data.id, alsoInRoom: true, mentions: [alice.user.id] } });
    const page = await alice.client.threadPage(parent.data.id);
    expect(page).toMatchObject({ ok: true, data: { items: [{ text: `@${alice.username} sure` }], hasMore: false } });
    const rooms = await alice.client.listRooms();
    expect(rooms.ok && rooms.data.items.find((r) => r.id === roomId)?.unreadMentions).toBe(1);
    expect(await alice.client.markRead(roomId, 2)).toEqual({ ok: true, data: { lastReadSeq: 2, unreadCount: 0, unreadMentions: 0 } });
  });

  it('presence and typing reach the other member', async () => {
    const alice = await newUser(t.url);
    const bob = await newUser(t.url);
    const room = await alice.client.createRoom('public', 'sdk typing');
    const roomId = room.ok ? room.data.id : '';
    await bob.client.joinRoom(roomId);
    const presence = await alice.client.getPresence([bob.user.id]);
    expect(presence).toMatchObject({ ok: true, data: [{ userId: bob.user.id, status: 'online' }] });
    expect(alice.client.presenceOf(bob.user.id)?.status).toBe('online');

    bob.client.typing(roomId);
    await until(() => alice.client.typingIn(roomId).includes(bob.user.id), 5000, 'bob typing');
    bob.client.stopTyping(roomId);
    await until(() => alice.client.typingIn(roomId).length === 0, 5000, 'bob stopped');

    bob.client.close();
    await until(() => alice.client.presenceOf(bob.user.id)?.status === 'offline', 10_000, 'bob offline');
  });

  it('profiles: updateProfile reaches a room-mate as user:updated; searchUsers finds by prefix', async () => {
    const alice = await newUser(t.url);
    const bob = await newUser(t.url);
    const room = await alice.client.createRoom('public', 'sdk profiles');
    await bob.client.joinRoom(room.ok ? room.data.id : '');
    const seen: Array<{ id: string; statusText?: string }> = [];
    bob.client.on('user:updated', (u) => seen.push(u));
    const updated = await alice.client.updateProfile({ statusText: 'from the sdk', avatarUrl: 'https://example.com/a.png' });
    expect(updated).toEqual({ ok: true, data: { ...alice.user, statusText: 'from the sdk', avatarUrl: 'https://example.com/a.png' } });
    await until(() => seen.length > 0, 5000, 'user:updated');
    expect(seen).toEqual([updated.ok && updated.data]);
    expect(await alice.client.updateProfile({ avatarUrl: 'javascript:alert(1)' })).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    const found = await bob.client.searchUsers(alice.username.toUpperCase());
    expect(found).toEqual({ ok: true, data: { items: [updated.ok && updated.data], nextCursor: null } });
  });

  it('blocks: block, listBlocks and unblock; a blocked user gets FORBIDDEN BLOCKED from openDm', async () => {
    const alice = await newUser(t.url);
    const bob = await newUser(t.url);
    expect(await alice.client.listBlocks()).toEqual({ ok: true, data: [] });
    expect(await alice.client.block(bob.user.id)).toEqual({ ok: true, data: {} });
    expect(await alice.client.listBlocks()).toEqual({ ok: true, data: [bob.user.id] });
    expect(await bob.client.openDm(alice.user.id)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', details: { reason: 'BLOCKED' } } });
    expect(await alice.client.block(alice.user.id)).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(await alice.client.unblock(bob.user.id)).toEqual({ ok: true, data: {} });
    expect(await alice.client.listBlocks()).toEqual({ ok: true, data: [] });
    expect((await bob.client.openDm(alice.user.id)).ok).toBe(true);
  });

  it('delivery receipts: markDelivered batches a room\'s receipts into one request with the highest seq; the sender sees delivery:updated', async () => {
    const alice = await newUser(t.url);
    const bob = await newUser(t.url);
    const dm = await alice.client.openDm(bob.user.id);
    const roomId = dm.ok ? dm.data.id : '';
    for (let i = 1; i <= 5; i++) expect((await alice.client.send(roomId, `m${i}`)).ok).toBe(true);
    const handled = async () => (await t.app.deps.metrics.eventsHandled.get()).values.filter((v) => v.labels.event === 'message:delivered').reduce((n, v) => n + v.value, 0);
    const before = await handled();
    const updates: Array<{ roomId: string; items: Array<{ userId: string; lastDeliveredSeq: number }> }> = [];
    alice.client.on('delivery:updated', (u) => updates.push(u));
    for (let i = 1; i <= 5; i++) bob.client.markDelivered(roomId, i);
    bob.client.markDelivered(roomId, 3);
    await until(() => updates.some((u) => u.items.some((i) => i.userId === bob.user.id && i.lastDeliveredSeq === 5)), 10_000, 'delivery:updated');
    expect((await handled()) - before).toBe(1);
    const members = await bob.client.request('room:members', { roomId });
    expect(members.ok && members.data.items.find((m) => m.userId === bob.user.id)).toMatchObject({ lastDeliveredSeq: 5, lastReadSeq: 0 });
  });

  it('attachments: send carries them, with or without text', async () => {
    const alice = await newUser(t.url);
    const room = await alice.client.createRoom('private', 'sdk files');
    const file = { type: 'file' as const, url: 'https://files.example.com/a.pdf', mime: 'application/pdf', size: 10, name: 'a.pdf' };
    const only = await alice.client.send(room.ok ? room.data.id : '', '', { attachments: [file] });
    expect(only).toMatchObject({ ok: true, data: { text: '', attachments: [file] } });
    const refused = await alice.client.send(room.ok ? room.data.id : '', '', { attachments: [{ ...file, url: 'http://files.example.com/a.pdf' }] });
    expect(refused).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
  });

  it('deliveryReceipts: on, the SDK acknowledges what arrives by itself', async () => {
    const alice = await newUser(t.url);
    const bob = await newUser(t.url, { deliveryReceipts: true });
    const dm = await alice.client.openDm(bob.user.id);
    const roomId = dm.ok ? dm.data.id : '';
    const seen: number[] = [];
    alice.client.on('delivery:updated', (u) => {
      for (const i of u.items) if (i.userId === bob.user.id) seen.push(i.lastDeliveredSeq);
    });
    for (let i = 1; i <= 3; i++) await alice.client.send(roomId, `m${i}`);
    await until(() => seen.includes(3), 10_000, 'delivery:updated for seq 3');
    expect([...seen].sort((x, y) => x - y)).toEqual(seen);
  });

  it('a DM is the same room each time', async () => {
    const alice = await newUser(t.url);
    const bob = await newUser(t.url);
    const a = await alice.client.openDm(bob.user.id);
    const b = await bob.client.openDm(alice.user.id);
    expect(a.ok && b.ok && a.data.id === b.data.id && a.data.type === 'direct').toBe(true);
  });
});
