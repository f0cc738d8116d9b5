// Profiles (extension, docs/protocol.md "Profiles"): PATCH /users/me and user:update change
// displayName, avatarUrl and statusText; user:updated reaches every socket that shares a room
// with the user (once, however many rooms), on one node and across two nodes with Redis;
// hostile input is refused and changes nothing; username prefix search is bounded and paged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUsernameIndex } from '../../server/src/domain/users/username-index';
import { startTestApp, type TestApp } from '../helpers/app';
import { collect, eventsUntil, request, waitFor } from '../helpers/clients';
import { useNodes } from '../helpers/nodes';
import {
  api,
  CHAT_ENV,
  closeClients,
  connectUser,
  createRoom,
  expectAckError,
  expectHttpError,
  newPerson,
  ok,
  registerUser,
  roundTrip,
  type TestUser,
} from '../helpers/chat';

const ENV = { ...CHAT_ENV, RATE_LIMIT_PROFILE_UPDATES: '100000', RATE_LIMIT_USER_SEARCHES: '100000' };
const patchMe = (url: string, token: string, body: unknown) => api(url, 'PATCH', '/api/v1/users/me', { token, body });

describe('profiles: one node', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(ENV);
  });
  afterAll(async () => {
    closeClients();
    await t.close();
  });

  it('PATCH /users/me sets, trims and clears the fields; GET /me and the ack agree', async () => {
    const u = await registerUser(t.url);
    expect(u.user).not.toHaveProperty('avatarUrl');
    expect(u.user).not.toHaveProperty('statusText');
    const res = await patchMe(t.url, u.token, { displayName: '  Ada L.  ', avatarUrl: 'https://cdn.example.com/a.png?s=64', statusText: ' at lunch ' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: { ...u.user, displayName: 'Ada L.', avatarUrl: 'https://cdn.example.com/a.png?s=64', statusText: 'at lunch' } });
    expect((await api(t.url, 'GET', '/api/v1/me', { token: u.token })).body).toEqual(res.body);

    const cleared = await patchMe(t.url, u.token, { avatarUrl: null, statusText: '   ' });
    expect(cleared.body).toEqual({ user: { ...u.user, displayName: 'Ada L.' } });
    const socket = await connectUser(t.url, u);
    const ack = await ok(socket, 'user:update', { statusText: 'busy' });
    expect(ack).toEqual({ user: { ...u.user, displayName: 'Ada L.', statusText: 'busy' } });
    const again = await ok(socket, 'user:update', { statusText: null });
    expect(again.user).not.toHaveProperty('statusText');
  });

  it('user:updated goes once to each socket sharing rooms with the user, and to its own sockets; not to strangers', async () => {
    const [a, b, c, stranger] = await Promise.all([newPerson(t.url), newPerson(t.url), newPerson(t.url), newPerson(t.url)]);
    // b shares two rooms with a (one event, not two); c shares one.
    await createRoom(a.socket, { type: 'public', memberIds: [b.id, c.id] });
    await createRoom(a.socket, { type: 'private', memberIds: [b.id] });
    const aTab2 = await connectUser(t.url, a);
    const sockets = { b: b.socket, c: c.socket, a1: a.socket, a2: aTab2 };
    const streams = Object.entries(sockets).map(([who, s]) => [who, eventsUntil<{ id: string; statusText?: string }>(s, 'user:updated')] as const);
    const strangerSaw = collect(stranger.socket, 'user:updated');
    const res = await patchMe(t.url, a.token, { displayName: 'Alpha' });
    expect(res.status).toBe(200);
    // Marker: a second update. One node emits to a socket in order, so a second copy of the
    // first (one per shared room) would arrive before it.
    await patchMe(t.url, a.token, { statusText: 'marker' });
    for (const [who, stream] of streams) expect(await stream.before((u) => u.statusText === 'marker'), who).toEqual([res.body.user]);
    await roundTrip(stranger.socket);
    expect(strangerSaw).toEqual([]);
  });

  it('a user in many rooms: one broadcast, one event per room-mate socket', async () => {
    const [a, b] = await Promise.all([newPerson(t.url), newPerson(t.url)]);
    for (let i = 0; i < 40; i++) await createRoom(a.socket, { type: i % 2 ? 'public' : 'private', memberIds: [b.id] });
    const broadcasts = async () => (await t.app.deps.metrics.broadcasts.get()).values.find((v) => v.labels.event === 'user:updated')?.value ?? 0;
    const before = await broadcasts();
    const stream = eventsUntil<{ id: string; statusText?: string }>(b.socket, 'user:updated');
    const { user } = await ok(a.socket, 'user:update', { statusText: 'in 40 rooms' });
    await ok(a.socket, 'user:update', { statusText: 'marker' });
    expect(await stream.before((u) => u.statusText === 'marker')).toEqual([user]);
    expect((await broadcasts()) - before).toBe(2);
  });

  it('refuses hostile input with VALIDATION_FAILED and changes nothing', async () => {
    const u = await registerUser(t.url, undefined, { displayName: 'Original' });
    const socket = await connectUser(t.url, u);
    const bad: unknown[] = [
      {},
      { displayName: '' },
      { displayName: '    ' },
      { displayName: 'x'.repeat(65) },
      { displayName: 'a\u0000b' },
      { displayName: 'line\nbreak' },
      { displayName: 'evil\u202Eeman' },
      { displayName: '\ud800' },
      { displayName: 42 },
      { displayName: null },
      { statusText: 's'.repeat(141) },
      { statusText: 'tab\there' },
      { avatarUrl: 'http://example.com/a.png' },
      { avatarUrl: 'javascript:alert(1)' },
      { avatarUrl: 'JAVASCRIPT://example.com/%0aalert(1)' },
      { avatarUrl: 'data:image/png;base64,AAAA' },
      { avatarUrl: 'https://' },
      { avatarUrl: 'https://user:pw@example.com/a.png' },
      { avatarUrl: 'https://example.com/a b.png' },
      { avatarUrl: `https://example.com/${'a'.repeat(2040)}` },
      { avatarUrl: '' },
      { displayName: 'ok', isAdmin: true },
      { username: 'renamed' },
      { passwordHash: 'x' },
    ];
    for (const body of bad) {
      expectHttpError(await patchMe(t.url, u.token, body), 'VALIDATION_FAILED');
      expectAckError(await request(socket, 'user:update', body), 'VALIDATION_FAILED');
    }
    expect((await api(t.url, 'GET', '/api/v1/me', { token: u.token })).body.user).toEqual(u.user);
    // The bounds themselves are accepted.
    const edge = await patchMe(t.url, u.token, { displayName: 'n'.repeat(64), statusText: 's'.repeat(140), avatarUrl: `https://e.com/${'a'.repeat(2048 - 14)}` });
    expect(edge.status).toBe(200);
  });

  it('needs a session; a token for a user with no account is NOT_FOUND', async () => {
    expectHttpError(await patchMe(t.url, '', { displayName: 'x' }), 'UNAUTHORIZED');
    expectHttpError(await api(t.url, 'GET', '/api/v1/users?prefix=abc'), 'UNAUTHORIZED');
    const { signToken } = await import('../helpers/app');
    expectHttpError(await patchMe(t.url, signToken('0'.repeat(24)), { displayName: 'ghost' }), 'NOT_FOUND');
  });

  it('searches usernames by prefix, case-insensitively, in pages with a cursor', async () => {
    const stem = `Pf${Date.now().toString(36)}`;
    const names = ['a1', 'A2', 'b1', 'b2', 'B3', 'c1', 'c2'].map((s) => `${stem}_${s}`);
    const users = await Promise.all(names.map((n) => registerUser(t.url, n)));
    await registerUser(t.url, `Qx${stem}`); // not a match: the stem is not its prefix
    const me = users[0];
    const all: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const q: string = `/api/v1/users?prefix=${stem.toLowerCase()}&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await api(t.url, 'GET', q, { token: me.token });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(3);
      all.push(...res.body.items.map((x: { username: string }) => x.username));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    expect(all).toEqual([...names].sort((x, y) => x.toLowerCase().localeCompare(y.toLowerCase())));
    const socket = await connectUser(t.url, me);
    const page = await ok(socket, 'user:search', { prefix: `${stem.toUpperCase()}_B` });
    expect(page.items.map((x: { id: string }) => x.id)).toEqual(users.slice(2, 5).map((u) => u.id));
    expect(page.nextCursor).toBeNull();
    expect(page.items[0]).toEqual(users[2].user);
    expect(page.items[0]).not.toHaveProperty('passwordHash');
    expect((await ok(socket, 'user:search', { prefix: 'zzzzzz_nobody' })).items).toEqual([]);
  });

  it('search bounds: prefix 3–32 of the username alphabet, limit 1–50, cursors opaque', async () => {
    const u = await newPerson(t.url);
    for (const p of [{}, { prefix: 'ab' }, { prefix: 'a'.repeat(33) }, { prefix: 'ab*' }, { prefix: 'ab\u0000c' }, { prefix: 'abc', limit: 0 }, { prefix: 'abc', limit: 51 }, { prefix: 'abc', limit: '5' }, { prefix: 'abc', cursor: '!!' }, { prefix: 'abc', cursor: 'bm90IGEga2V5IQ' }, { prefix: 'abc', extra: 1 }, { prefix: { $gt: '' } }]) {
      expectAckError(await request(u.socket, 'user:search', p), 'VALIDATION_FAILED');
    }
    expectHttpError(await api(t.url, 'GET', '/api/v1/users?prefix=ab', { token: u.token }), 'VALIDATION_FAILED');
    expectHttpError(await api(t.url, 'GET', '/api/v1/users?prefix=abc&limit=1e1', { token: u.token }), 'VALIDATION_FAILED');
    expectHttpError(await api(t.url, 'GET', '/api/v1/users?prefix[$gt]=', { token: u.token }), 'VALIDATION_FAILED');
  });

  it('the range read (MongoDB) and the bucket read (embedded database) page alike', async () => {
    const stem = `rb${Date.now().toString(36)}`;
    const users = await Promise.all(Array.from({ length: 5 }, (_, i) => registerUser(t.url, `${stem}${i}`)));
    const { repos } = t.app.chat;
    const docLock = { run: <T>(_k: unknown, fn: () => Promise<T>) => fn() };
    for (const buckets of [false, true]) {
      const index = createUsernameIndex({ repos, docLock, buckets });
      if (buckets && !(await repos.usernameBuckets.get(stem.slice(0, 3))).length) continue; // not the embedded database
      const first = await index.search({ prefix: stem, limit: 2 });
      const second = await index.search({ prefix: stem, limit: 2, cursor: first.nextCursor! });
      const third = await index.search({ prefix: stem, limit: 2, cursor: second.nextCursor! });
      expect([...first.items, ...second.items, ...third.items].map((x) => x.id)).toEqual(users.map((u) => u.id));
      expect(third.nextCursor).toBeNull();
    }
  });

  it('embedded database: users from before the buckets are found after the one-off migration; a taken name leaves no entry', async () => {
    if (!t.app.chat.repos.usernameBuckets) return;
    const { repos } = t.app.chat;
    const db = t.app.deps.db;
    const stem = `mg${Date.now().toString(36)}`;
    const u = await registerUser(t.url, `${stem}_old`);
    if ((await repos.usernameBuckets.get(stem.slice(0, 3))).length === 0) return; // MongoDB: no buckets
    // As if the user was stored before buckets existed.
    await db.collection('username_buckets').deleteMany({});
    await db.collection('migrations').deleteOne({ _id: 'username-buckets-v1' as never });
    const search = () => api(t.url, 'GET', `/api/v1/users?prefix=${stem}`, { token: u.token });
    expect((await search()).body.items).toEqual([]);
    expect(await repos.usernameBuckets.migrate()).toBeGreaterThanOrEqual(1);
    expect(await repos.usernameBuckets.migrate()).toBeNull();
    expect((await search()).body.items).toEqual([u.user]);
    // A registration refused as taken (another case) unlists its entry again.
    expect((await api(t.url, 'POST', '/api/v1/auth/register', { body: { username: `${stem}_OLD`, password: 'correct-horse-battery' } })).status).toBe(409);
    expect((await repos.usernameBuckets.get(stem.slice(0, 3))).filter((e) => e.k === `${stem}_old`)).toEqual([{ k: `${stem}_old`, id: u.id }]);
  });

  it('rate limits profile updates and searches per user', async () => {
    const limited = await startTestApp({ ...CHAT_ENV, RATE_LIMIT_PROFILE_UPDATES: '2', RATE_LIMIT_PROFILE_WINDOW_MS: '60000', RATE_LIMIT_USER_SEARCHES: '1', RATE_LIMIT_USER_SEARCH_WINDOW_MS: '60000' });
    try {
      const u = await registerUser(limited.url);
      expect((await patchMe(limited.url, u.token, { statusText: 'one' })).status).toBe(200);
      expect((await patchMe(limited.url, u.token, { statusText: 'two' })).status).toBe(200);
      const refusal = expectHttpError(await patchMe(limited.url, u.token, { statusText: 'three' }), 'RATE_LIMITED');
      expect((refusal.details as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
      expect((await api(limited.url, 'GET', '/api/v1/me', { token: u.token })).body.user.statusText).toBe('two');
      expect((await api(limited.url, 'GET', '/api/v1/users?prefix=abc', { token: u.token })).status).toBe(200);
      expectHttpError(await api(limited.url, 'GET', '/api/v1/users?prefix=abc', { token: u.token }), 'RATE_LIMITED');
    } finally {
      closeClients();
      await limited.close();
    }
  });
});

describe('profiles: two nodes with Redis', () => {
  const nodes = useNodes(2, ENV);
  const urls: string[] = [];
  beforeAll(() => {
    urls.push(...nodes.map((n) => n.url));
  });

  it('an update on one node reaches room-mates and the user’s sockets on both nodes; search sees users registered on either', async () => {
    const [a, b]: TestUser[] = await Promise.all([registerUser(urls[0]), registerUser(urls[1])]);
    const a0 = await connectUser(urls[0], a);
    const b1 = await connectUser(urls[1], b);
    const a1 = await connectUser(urls[1], a);
    const room = await ok(a0, 'room:create', { type: 'public', name: 'profiles', memberIds: [b.id] });
    expect(room.memberCount).toBe(2);
    const arrived = Promise.all([a0, a1, b1].map((s) => waitFor(s, 'user:updated', (u) => u.id === b.id)));
    const { user } = await ok(b1, 'user:update', { displayName: 'Bee' });
    expect(user.displayName).toBe('Bee');
    expect(await arrived).toEqual([user, user, user]);
    const fromA = Promise.all([a1, b1].map((s) => waitFor(s, 'user:updated', (u) => u.id === a.id)));
    const res = await patchMe(urls[0], a.token, { statusText: 'here' });
    expect(res.status).toBe(200);
    expect(await fromA).toEqual([res.body.user, res.body.user]);
    for (const url of urls) {
      const found = await api(url, 'GET', `/api/v1/users?prefix=${b.username.slice(0, 8)}`, { token: a.token });
      expect(found.body.items.map((x: { id: string }) => x.id)).toContain(b.id);
    }
  });
});
