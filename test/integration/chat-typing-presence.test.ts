// typing:start / typing:stop and presence (presence:get, presence:updated, the
// grace period, REST presence). Timers are shortened through the environment.
import { describe, expect, it } from 'vitest';
import { collect, request, waitFor, type Client } from '../helpers/clients';
import {
  api,
  connectUser,
  createRoom,
  expectHttpError,
  expectIso,
  isoDate,
  membersAll,
  newPerson,
  ok,
  refused,
  registerUser,
  sleep,
  unknownObjectId,
  type Person,
  type TestUser,
} from '../helpers/chat';
import { useChatApp } from '../helpers/chat-app';
import { until } from '../helpers/cluster';

// The bounds under test are configured large enough that a loaded machine cannot cross them
// by accident; waits are on events, never on sleeps.
const TYPING_AUTO_STOP_MS = 2000;
const TYPING_THROTTLE_MS = 60_000;
const PRESENCE_GRACE_MS = 300;
/** For checks made inside the grace period: a close, a query or a reconnect must fit in it. */
const LONG_GRACE_MS = 3000;

type Presence = { userId: string; status: 'online' | 'offline'; lastSeenAt: string | null };

describe('chat: typing and presence', () => {
  const t = useChatApp({ TYPING_AUTO_STOP_MS: String(TYPING_AUTO_STOP_MS), TYPING_THROTTLE_MS: String(TYPING_THROTTLE_MS), PRESENCE_GRACE_MS: String(PRESENCE_GRACE_MS) });

  const person = () => newPerson(t.url);
  const typingIn = (s: Client, roomId: string, typing: boolean, timeoutMs = 10_000) => waitFor(s, 'typing', (p) => p.roomId === roomId && p.typing === typing, timeoutMs);

  describe('typing', () => {
    async function setup() {
      const [a, b, c, outsider] = await Promise.all([person(), person(), person(), person()]);
      const a2 = await connectUser(t.url, a);
      const b2 = await connectUser(t.url, b);
      const room = await createRoom(a.socket, { type: 'public' });
      await ok(b.socket, 'room:join', { roomId: room.id });
      await ok(c.socket, 'room:join', { roomId: room.id });
      return { a, a2, b, b2, c, outsider, room };
    }

    it('typing:start without an ack reaches every other member’s sockets, not the typist’s own sockets', async () => {
      const { a, a2, b, b2, c, outsider, room } = await setup();
      const own = [collect(a.socket, 'typing'), collect(a2, 'typing'), collect(outsider.socket, 'typing')];
      const got = Promise.all([b.socket, b2, c.socket].map((s) => typingIn(s, room.id, true)));
      a.socket.emit('typing:start', { roomId: room.id });
      for (const p of await got) expect(p).toEqual({ roomId: room.id, userId: a.id, typing: true });
      const stopped = Promise.all([b.socket, b2, c.socket].map((s) => typingIn(s, room.id, false)));
      a.socket.emit('typing:stop', { roomId: room.id });
      for (const p of await stopped) expect(p).toEqual({ roomId: room.id, userId: a.id, typing: false });
      // A later typing by c reaches a's sockets after anything of a's own could have; the
      // outsider joins first so that it receives c's.
      await ok(outsider.socket, 'room:join', { roomId: room.id });
      const later = Promise.all([a.socket, a2, outsider.socket].map((s) => typingIn(s, room.id, true)));
      c.socket.emit('typing:start', { roomId: room.id });
      await later;
      for (const list of own) expect(list).toEqual([{ roomId: room.id, userId: c.id, typing: true }]);
    });

    it('accepts an ack callback and answers ok', async () => {
      const { a, b, room } = await setup();
      const got = typingIn(b.socket, room.id, true);
      const ack = await request(a.socket, 'typing:start', { roomId: room.id });
      expect(ack.ok).toBe(true);
      expect(ack.error).toBeUndefined();
      await got;
      const stop = await request(a.socket, 'typing:stop', { roomId: room.id });
      expect(stop.ok).toBe(true);
    });

    it('stops on its own after TYPING_AUTO_STOP_MS', async () => {
      const { a, b, room } = await setup();
      const started = typingIn(b.socket, room.id, true);
      const stopped = typingIn(b.socket, room.id, false);
      a.socket.emit('typing:start', { roomId: room.id });
      await started;
      const at = Date.now();
      expect(await stopped).toEqual({ roomId: room.id, userId: a.id, typing: false });
      const elapsed = Date.now() - at;
      expect(elapsed).toBeGreaterThanOrEqual(TYPING_AUTO_STOP_MS - 150);
      expect(elapsed).toBeLessThan(TYPING_AUTO_STOP_MS + 1500);
    });

    it('a non-member gets FORBIDDEN and nobody sees it; unknown room NOT_FOUND; bad payload VALIDATION_FAILED', async () => {
      const { b, c, outsider, room } = await setup();
      const seen = collect(b.socket, 'typing');
      await refused(outsider.socket, 'typing:start', { roomId: room.id }, 'FORBIDDEN');
      outsider.socket.emit('typing:start', { roomId: room.id });
      await request(outsider.socket, 'room:list', {});
      const later = typingIn(b.socket, room.id, true);
      c.socket.emit('typing:start', { roomId: room.id });
      await later;
      expect(seen).toEqual([{ roomId: room.id, userId: c.id, typing: true }]);
      await refused(outsider.socket, 'typing:start', { roomId: unknownObjectId() }, 'NOT_FOUND');
      await refused(b.socket, 'typing:start', {}, 'VALIDATION_FAILED');
      await refused(b.socket, 'typing:start', { roomId: 5 }, 'VALIDATION_FAILED');
      await refused(b.socket, 'typing:stop', { roomId: { $gt: '' } }, 'VALIDATION_FAILED');
      await refused(b.socket, 'typing:start', { roomId: room.id, typing: true }, 'VALIDATION_FAILED');
      await refused(b.socket, 'typing:start', 'room', 'VALIDATION_FAILED');
    });

    it('invalid typing events without an ack are dropped silently; the socket keeps working', async () => {
      const { a, b, room } = await setup();
      const seen = collect(b.socket, 'typing');
      a.socket.emit('typing:start', { roomId: 42 });
      a.socket.emit('typing:start', null);
      a.socket.emit('typing:start');
      a.socket.emit('typing:stop', 'x');
      // The valid one, emitted after them on the same socket, is the first thing b sees.
      const got = typingIn(b.socket, room.id, true);
      a.socket.emit('typing:start', { roomId: room.id });
      await got;
      expect(a.socket.connected).toBe(true);
      expect(seen).toEqual([{ roomId: room.id, userId: a.id, typing: true }]);
    });
  });

  describe('typing throttle', () => {
    it('repeated typing:start within TYPING_THROTTLE_MS is not re-broadcast', async () => {
      const [a, b] = await Promise.all([person(), person()]);
      const room = await createRoom(a.socket, { type: 'public' });
      await ok(b.socket, 'room:join', { roomId: room.id });
      const seen = collect(b.socket, 'typing');
      const first = typingIn(b.socket, room.id, true);
      await ok(a.socket, 'typing:start', { roomId: room.id });
      await first;
      for (let i = 0; i < 5; i++) await ok(a.socket, 'typing:start', { roomId: room.id });
      const stopped = typingIn(b.socket, room.id, false);
      await ok(a.socket, 'typing:stop', { roomId: room.id });
      await stopped;
      expect(seen).toEqual([
        { roomId: room.id, userId: a.id, typing: true },
        { roomId: room.id, userId: a.id, typing: false },
      ]);
    });

    it('a repeated typing:start extends the indicator: the automatic stop comes TYPING_AUTO_STOP_MS after the last start', async () => {
      const [a, b] = await Promise.all([person(), person()]);
      const room = await createRoom(a.socket, { type: 'public' });
      await ok(b.socket, 'room:join', { roomId: room.id });
      const seen = collect(b.socket, 'typing');
      const first = typingIn(b.socket, room.id, true);
      await ok(a.socket, 'typing:start', { roomId: room.id });
      await first;
      // A quarter of the way in (the remaining three quarters leave room for a slow machine).
      await sleep(TYPING_AUTO_STOP_MS / 4);
      const stopped = typingIn(b.socket, room.id, false, TYPING_AUTO_STOP_MS * 4);
      const repeatedAt = Date.now();
      await ok(a.socket, 'typing:start', { roomId: room.id });
      await stopped;
      // Without the extension the stop would come about TYPING_AUTO_STOP_MS / 4 earlier.
      expect(Date.now() - repeatedAt).toBeGreaterThanOrEqual(TYPING_AUTO_STOP_MS - 50);
      expect(seen.map((p) => p.typing)).toEqual([true, false]);
    });
  });

  describe('presence', () => {
    const getPresence = async (s: Client, ids: string[]) => {
      const data = await ok<{ items: Presence[] }>(s, 'presence:get', { userIds: ids });
      return Object.fromEntries(data.items.map((p) => [p.userId, p]));
    };

    it('presence:get: online for a connected user; offline with lastSeenAt null for one never connected', async () => {
      const a = await person();
      const never = await registerUser(t.url);
      const data = await ok<{ items: Presence[] }>(a.socket, 'presence:get', { userIds: [a.id, never.id] });
      expect(data).toEqual({ items: expect.any(Array) });
      expect(data.items).toHaveLength(2);
      const byId = Object.fromEntries(data.items.map((p) => [p.userId, p]));
      expect(byId[a.id]).toEqual({ userId: a.id, status: 'online', lastSeenAt: byId[a.id].lastSeenAt });
      if (byId[a.id].lastSeenAt !== null) expectIso(byId[a.id].lastSeenAt);
      expect(byId[never.id]).toEqual({ userId: never.id, status: 'offline', lastSeenAt: null });
    });


    it('the last socket closing: offline after the grace period, lastSeenAt set, told only to users sharing a room', async () => {
      const [watcher, stranger] = await Promise.all([person(), person()]);
      const x: TestUser = await registerUser(t.url);
      const xs = await connectUser(t.url, x);
      const watcher2 = await connectUser(t.url, watcher);
      const room = await createRoom(watcher.socket, { type: 'public' });
      await ok(xs, 'room:join', { roomId: room.id });
      const strayEvents = collect<Presence>(stranger.socket, 'presence:updated');
      const offline = Promise.all([watcher.socket, watcher2].map((s) => waitFor<Presence>(s, 'presence:updated', (p) => p.userId === x.id && p.status === 'offline', 12_000)));
      const closedAt = Date.now();
      xs.close();
      const [p1, p2] = await offline;
      const elapsed = Date.now() - closedAt;
      expect(p1).toEqual({ userId: x.id, status: 'offline', lastSeenAt: isoDate() });
      expectIso(p1.lastSeenAt);
      expect(p2).toEqual(p1);
      expect(elapsed).toBeGreaterThanOrEqual(PRESENCE_GRACE_MS - 50);
      expect(elapsed).toBeLessThan(10_000);
      expect(Date.parse(p1.lastSeenAt!)).toBeGreaterThanOrEqual(closedAt - 1000);
      expect(Date.parse(p1.lastSeenAt!)).toBeLessThanOrEqual(Date.now() + 1000);
      expect((await getPresence(watcher.socket, [x.id]))[x.id]).toEqual(p1);
      const rest = await api(t.url, 'GET', `/api/v1/users/${x.id}/presence`, { token: watcher.token });
      expect(rest.status).toBe(200);
      expect(rest.body).toEqual(p1);
      expect((await membersAll(watcher.socket, room.id)).find((m) => m.userId === x.id)?.online).toBe(false);
      // Coming back: online again, told to the room, not to strangers.
      const online = waitFor<Presence>(watcher.socket, 'presence:updated', (p) => p.userId === x.id && p.status === 'online');
      const xs2 = await connectUser(t.url, x);
      const back = await online;
      expect(back).toEqual({ userId: x.id, status: 'online', lastSeenAt: back.lastSeenAt });
      expect((await getPresence(watcher.socket, [x.id]))[x.id].status).toBe('online');
      expect((await membersAll(watcher.socket, room.id)).find((m) => m.userId === x.id)?.online).toBe(true);
      // x's offline reaches the watcher; anything sent to the stranger in the same fan-outs is in
      // before the stranger's next ack.
      const offlineAgain = waitFor<Presence>(watcher.socket, 'presence:updated', (p) => p.userId === x.id && p.status === 'offline', 15_000);
      xs2.close();
      await offlineAgain;
      await ok(stranger.socket, 'room:list', {});
      expect(strayEvents.filter((p) => p.userId === x.id)).toEqual([]);
    });

    it('a user with two sockets stays online when one closes', async () => {
      const watcher = await person();
      const [x, witness] = await Promise.all([registerUser(t.url), registerUser(t.url)]);
      const s1 = await connectUser(t.url, x);
      const s2 = await connectUser(t.url, x);
      const w = await connectUser(t.url, witness);
      const room = await createRoom(watcher.socket, { type: 'public', memberIds: [witness.id] });
      await ok(s1, 'room:join', { roomId: room.id });
      const events = collect<Presence>(watcher.socket, 'presence:updated');
      // The witness's last socket closes after x's first one: once its offline is announced,
      // an offline for x (same grace, started earlier) would have been too.
      const witnessOffline = waitFor<Presence>(watcher.socket, 'presence:updated', (p) => p.userId === witness.id && p.status === 'offline', 15_000);
      const s1Id = s1.id!;
      s1.close();
      // Only once the server has let go of s1 (two connections' closes may be handled in either order).
      await until(() => !t.app.io.of('/').sockets.has(s1Id), 10_000, 'the server to drop the first socket');
      w.close();
      await witnessOffline;
      expect(events.filter((p) => p.userId === x.id)).toEqual([]);
      expect((await getPresence(watcher.socket, [x.id]))[x.id].status).toBe('online');
      const offline = waitFor<Presence>(watcher.socket, 'presence:updated', (p) => p.userId === x.id && p.status === 'offline', 15_000);
      s2.close();
      expect((await offline).status).toBe('offline');
    });


    it('presence:get takes at most 100 ids', async () => {
      const [a, b] = await Promise.all([person(), person()]);
      const hundred = Array.from({ length: 100 }, (_, i) => (i % 2 ? a.id : b.id));
      const ack = await request<{ items: Presence[] }>(a.socket, 'presence:get', { userIds: hundred });
      expect(ack.ok).toBe(true);
      const ids = new Set(ack.data!.items.map((p) => p.userId));
      expect(ids).toEqual(new Set([a.id, b.id]));
      await refused(a.socket, 'presence:get', { userIds: [...hundred, a.id] }, 'VALIDATION_FAILED');
    });

    it.each([
      ['a missing userIds', {}],
      ['userIds not an array', { userIds: 'abc' }],
      ['a numeric id', { userIds: [1] }],
      ['an operator as id', { userIds: [{ $ne: null }] }],
      ['an extra field', { userIds: [], all: true }],
      ['a non-object payload', ['abc']],
    ])('presence:get refuses %s with VALIDATION_FAILED', async (_n, payload) => {
      const a: Person = await person();
      await refused(a.socket, 'presence:get', payload, 'VALIDATION_FAILED');
    });

    it('REST GET /api/v1/users/:userId/presence: 200 for a user, 404 for an unknown one, 401 without a token', async () => {
      const a = await person();
      const never = await registerUser(t.url);
      const res = await api(t.url, 'GET', `/api/v1/users/${a.id}/presence`, { token: never.token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ userId: a.id, status: 'online', lastSeenAt: res.body.lastSeenAt });
      const off = await api(t.url, 'GET', `/api/v1/users/${never.id}/presence`, { token: a.token });
      expect(off.body).toEqual({ userId: never.id, status: 'offline', lastSeenAt: null });
      expectHttpError(await api(t.url, 'GET', `/api/v1/users/${unknownObjectId()}/presence`, { token: a.token }), 'NOT_FOUND');
      expectHttpError(await api(t.url, 'GET', `/api/v1/users/${a.id}/presence`), 'UNAUTHORIZED');
    });
  });

  describe('presence inside the grace period (PRESENCE_GRACE_MS large enough to act within it)', () => {
    const lt = useChatApp({ PRESENCE_GRACE_MS: String(LONG_GRACE_MS) });
    const getPresence = async (s: Client, ids: string[]) => {
      const data = await ok<{ items: Presence[] }>(s, 'presence:get', { userIds: ids });
      return Object.fromEntries(data.items.map((p) => [p.userId, p]));
    };

    it('presence:get and member lists still say online, as no offline was announced; offline once it is', async () => {
      const watcher = await newPerson(lt.url);
      const x: TestUser = await registerUser(lt.url);
      const xs = await connectUser(lt.url, x);
      const room = await createRoom(watcher.socket, { type: 'public' });
      await ok(xs, 'room:join', { roomId: room.id });
      const offline = waitFor<Presence>(watcher.socket, 'presence:updated', (p) => p.userId === x.id && p.status === 'offline', LONG_GRACE_MS + 15_000);
      const closedAt = Date.now();
      xs.close();
      // A reconnect now would announce nothing, so a client asking now must not be told offline.
      const asked = (await getPresence(watcher.socket, [x.id]))[x.id].status;
      const listed = (await membersAll(watcher.socket, room.id)).find((m) => m.userId === x.id)?.online;
      // Only meaningful if the machine answered within the grace period (3 s).
      if (Date.now() - closedAt < LONG_GRACE_MS) {
        expect(asked).toBe('online');
        expect(listed).toBe(true);
      }
      await offline;
      expect((await getPresence(watcher.socket, [x.id]))[x.id].status).toBe('offline');
    });

    it('a reconnect within the grace period does not flap to offline', async () => {
      const watcher = await newPerson(lt.url);
      const [x, witness] = await Promise.all([registerUser(lt.url), registerUser(lt.url)]);
      const s1 = await connectUser(lt.url, x);
      const w = await connectUser(lt.url, witness);
      const room = await createRoom(watcher.socket, { type: 'public', memberIds: [witness.id] });
      await ok(s1, 'room:join', { roomId: room.id });
      const events = collect<Presence>(watcher.socket, 'presence:updated');
      const witnessOffline = waitFor<Presence>(watcher.socket, 'presence:updated', (p) => p.userId === witness.id && p.status === 'offline', LONG_GRACE_MS + 15_000);
      const closedAt = Date.now();
      s1.close();
      const s2 = await connectUser(lt.url, x);
      const reconnectMs = Date.now() - closedAt;
      // The witness leaves after x came back; its offline, once announced, comes after x's would have.
      w.close();
      await witnessOffline;
      if (reconnectMs < LONG_GRACE_MS) expect(events.filter((p) => p.userId === x.id && p.status === 'offline')).toEqual([]);
      expect((await getPresence(watcher.socket, [x.id]))[x.id].status).toBe('online');
      s2.close();
    });
  });
});
