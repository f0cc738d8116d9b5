// The REST side API: Bearer auth on everything, the error model, rooms,
// history and message posting (delivered and deduplicated like message:send).
import { beforeAll, describe, expect, it } from 'vitest';
import { collect, eventsUntil, waitFor } from '../helpers/clients';
import {
  api,
  cmid,
  createRoom,
  expectHttpError,
  expectMessage,
  expectRoom,
  expectSummary,
  history,
  listAll,
  newPerson,
  ok,
  registerUser,
  seedMessages,
  sendMessage,
  unknownObjectId,
  type Message,
  type Person,
  type Room,
  roundTrip,
} from '../helpers/chat';
import { useChatApp } from '../helpers/chat-app';

describe('chat: REST API', () => {
  const t = useChatApp();

  const person = () => newPerson(t.url);

  describe('authentication', () => {
    it('every chat route answers 401 UNAUTHORIZED { error } without a valid Bearer token', async () => {
      const a = await person();
      const room = await createRoom(a.socket, { type: 'public' });
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/api/v1/me'],
        ['GET', '/api/v1/rooms'],
        ['POST', '/api/v1/rooms', { type: 'public', name: 'x' }],
        ['GET', `/api/v1/rooms/${room.id}`],
        ['GET', `/api/v1/rooms/${room.id}/messages`],
        ['POST', `/api/v1/rooms/${room.id}/messages`, { clientMsgId: cmid(), text: 'x' }],
        ['GET', `/api/v1/users/${a.id}/presence`],
      ];
      for (const [method, path, body] of routes) {
        const variants: Array<Record<string, string>> = [{}, { authorization: `Token ${a.token}` }, { authorization: 'Bearer ' }, { authorization: 'Bearer nope' }, { authorization: a.token }];
        for (const headers of variants) {
          const res = await api(t.url, method, path, { body, headers });
          expect(res.status, `${method} ${path} ${JSON.stringify(headers).slice(0, 40)}`).toBe(401);
          expectHttpError(res, 'UNAUTHORIZED');
        }
      }
      // Nothing was created by the refused posts.
      expect(await listAll(a.socket)).toHaveLength(1);
      expect((await history(a.socket, room.id)).items).toEqual([]);
    });

    it('auth and health need no token', async () => {
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
      const u = await registerUser(t.url);
      expect((await api(t.url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: 'correct-horse-battery' } })).status).toBe(200);
    });
  });

  describe('rooms', () => {
    it('POST /api/v1/rooms → 201 Room; memberIds are members at once', async () => {
      const [a, b] = await Promise.all([person(), person()]);
      const res = await api(t.url, 'POST', '/api/v1/rooms', { token: a.token, body: { type: 'private', name: 'via rest', memberIds: [b.id] } });
      expect(res.status).toBe(201);
      expectRoom(res.body, { type: 'private', name: 'via rest', createdBy: a.id, lastSeq: 0, memberCount: 2 });
      const got = waitFor<Message>(b.socket, 'message:new', (m) => m.roomId === res.body.id);
      await sendMessage(a.socket, res.body.id, 'hello');
      expect((await got).text).toBe('hello');
      expect((await listAll(b.socket)).map((r) => r.id)).toEqual([res.body.id]);
    });

    it('POST /api/v1/rooms refuses bad bodies with 400 and unknown members with 404', async () => {
      const a = await person();
      for (const body of [{}, { type: 'direct', name: 'x' }, { type: 'public', name: '' }, { type: 'public', name: 'n'.repeat(101) }, { type: 'public', name: 1 }, { type: 'public', name: 'x', extra: 1 }, []]) {
        expectHttpError(await api(t.url, 'POST', '/api/v1/rooms', { token: a.token, body }), 'VALIDATION_FAILED');
      }
      expectHttpError(await api(t.url, 'POST', '/api/v1/rooms', { token: a.token, body: { type: 'private', name: 'x', memberIds: [unknownObjectId()] } }), 'NOT_FOUND');
      expect(await listAll(a.socket)).toEqual([]);
    });

    it('GET /api/v1/rooms pages RoomSummary items like room:list', async () => {
      const a = await person();
      const rooms: Room[] = [];
      for (let i = 0; i < 3; i++) {
        rooms.unshift(await createRoom(a.socket, { type: 'public', name: `g${i}` }));
        await new Promise((r) => setTimeout(r, 5));
      }
      const res = await api(t.url, 'GET', '/api/v1/rooms', { token: a.token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ items: expect.any(Array), nextCursor: null });
      expect(res.body.items.map((r: Room) => r.id)).toEqual(rooms.map((r) => r.id));
      for (const item of res.body.items) expectSummary(item, { role: 'owner', lastReadSeq: 0, unreadCount: 0, unreadMentions: 0, lastMessage: null });
      expect(res.body).toEqual(await ok(a.socket, 'room:list', {}));
      const p1 = await api(t.url, 'GET', '/api/v1/rooms?limit=2', { token: a.token });
      expect(p1.body.items.map((r: Room) => r.id)).toEqual(rooms.slice(0, 2).map((r) => r.id));
      expect(typeof p1.body.nextCursor).toBe('string');
      const p2 = await api(t.url, 'GET', `/api/v1/rooms?limit=2&cursor=${encodeURIComponent(p1.body.nextCursor)}`, { token: a.token });
      expect(p2.body).toEqual({ items: [expect.objectContaining({ id: rooms[2].id })], nextCursor: null });
      for (const q of ['limit=0', 'limit=101', 'limit=abc', 'limit=-1', 'limit=1.5', 'cursor=garbage']) {
        expectHttpError(await api(t.url, 'GET', `/api/v1/rooms?${q}`, { token: a.token }), 'VALIDATION_FAILED');
      }
    });

    it('GET /api/v1/rooms/:roomId → Room for a member; 404 for an unknown room', async () => {
      const a = await person();
      const room = await createRoom(a.socket, { type: 'public', name: 'one' });
      await sendMessage(a.socket, room.id, 'x');
      const res = await api(t.url, 'GET', `/api/v1/rooms/${room.id}`, { token: a.token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...room, lastSeq: 1 });
      expectHttpError(await api(t.url, 'GET', `/api/v1/rooms/${unknownObjectId()}`, { token: a.token }), 'NOT_FOUND');
      expectHttpError(await api(t.url, 'GET', '/api/v1/rooms/not-a-room', { token: a.token }), 'NOT_FOUND');
    });

    it('GET /api/v1/rooms/:roomId does not show a private room or a DM to a non-member', async () => {
      const [a, b] = await Promise.all([person(), person()]);
      const outsider = await registerUser(t.url);
      const secret = await createRoom(a.socket, { type: 'private', name: 'top-secret-name' });
      const dm = await ok<Room>(a.socket, 'dm:open', { userId: b.id });
      for (const id of [secret.id, dm.id]) {
        const res = await api(t.url, 'GET', `/api/v1/rooms/${id}`, { token: outsider.token });
        expect([403, 404]).toContain(res.status);
        expectHttpError(res, res.status === 403 ? 'FORBIDDEN' : 'NOT_FOUND');
        expect(res.text).not.toContain('top-secret-name');
      }
    });
  });

  describe('GET /api/v1/rooms/:roomId/messages', () => {
    let a: Person;
    let room: Room;
    let seeded: Message[];
    beforeAll(async () => {
      a = await person();
      room = await createRoom(a.socket, { type: 'public' });
      seeded = await seedMessages(a.socket, room.id, 12, 'q');
    });

    it('pages like message:history', async () => {
      const get = (q = '') => api(t.url, 'GET', `/api/v1/rooms/${room.id}/messages${q}`, { token: a.token });
      const all = await get();
      expect(all.status).toBe(200);
      expect(all.body).toEqual({ items: seeded, hasMore: false });
      expect((await get('?limit=5')).body).toEqual({ items: seeded.slice(7), hasMore: true });
      expect((await get('?afterSeq=0&limit=5')).body).toEqual({ items: seeded.slice(0, 5), hasMore: true });
      expect((await get('?afterSeq=10&limit=5')).body).toEqual({ items: seeded.slice(10), hasMore: false });
      expect((await get('?beforeSeq=3')).body).toEqual({ items: seeded.slice(0, 2), hasMore: false });
      expect((await get('?beforeSeq=8&limit=2')).body).toEqual({ items: seeded.slice(5, 7), hasMore: true });
      expect((await get('?afterSeq=12')).body).toEqual({ items: [], hasMore: false });
      expect((await get('?limit=3')).body).toEqual(await history(a.socket, room.id, { limit: 3 }));
    });

    it('refuses bad queries with 400, a non-member with 403, an unknown room with 404', async () => {
      for (const q of ['limit=0', 'limit=101', 'limit=abc', 'limit=', 'afterSeq=x', 'beforeSeq=1.5', 'afterSeq=-1', 'beforeSeq=5&afterSeq=1', 'order=desc']) {
        expectHttpError(await api(t.url, 'GET', `/api/v1/rooms/${room.id}/messages?${q}`, { token: a.token }), 'VALIDATION_FAILED');
      }
      const outsider = await registerUser(t.url);
      expectHttpError(await api(t.url, 'GET', `/api/v1/rooms/${room.id}/messages`, { token: outsider.token }), 'FORBIDDEN');
      expectHttpError(await api(t.url, 'GET', `/api/v1/rooms/${unknownObjectId()}/messages`, { token: a.token }), 'NOT_FOUND');
    });
  });

  describe('POST /api/v1/rooms/:roomId/messages', () => {
    async function setup() {
      const [a, b, outsider] = await Promise.all([person(), person(), person()]);
      const room = await createRoom(a.socket, { type: 'public' });
      await ok(b.socket, 'room:join', { roomId: room.id });
      return { a, b, outsider, room };
    }
    const post = (token: string, roomId: string, body: unknown) => api(t.url, 'POST', `/api/v1/rooms/${roomId}/messages`, { token, body });

    it('201 Message, delivered to every member socket exactly like message:send', async () => {
      const { a, b, outsider, room } = await setup();
      const strays = collect<Message>(outsider.socket, 'message:new');
      const got = Promise.all([a.socket, b.socket].map((s) => waitFor<Message>(s, 'message:new', (m) => m.roomId === room.id)));
      const clientMsgId = cmid('rest');
      const res = await post(a.token, room.id, { clientMsgId, text: 'from REST' });
      expect(res.status).toBe(201);
      expectMessage(res.body, { roomId: room.id, seq: 1, senderId: a.id, clientMsgId, text: 'from REST' });
      for (const m of await got) expect(m).toEqual(res.body);
      expect((await history(b.socket, room.id)).items).toEqual([res.body]);
      const parent = res.body as Message;
      const reply = await post(b.token, room.id, { clientMsgId: cmid(), text: 'reply', replyTo: parent.id });
      expect(reply.status).toBe(201);
      expectMessage(reply.body, { roomId: room.id, seq: 2, senderId: b.id, clientMsgId: reply.body.clientMsgId, text: 'reply', replyTo: parent.id });
      await roundTrip(outsider.socket);
      expect(strays.filter((x) => x.roomId === room.id)).toEqual([]);
    });

    it('is idempotent with the socket path in both directions, broadcasting nothing new', async () => {
      const { a, b, room } = await setup();
      const id1 = cmid('both');
      const seen = eventsUntil<Message>(b.socket, 'message:new');
      const viaSocket = await ok<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId: id1, text: 'socket first' });
      const again = await post(a.token, room.id, { clientMsgId: id1, text: 'socket first' });
      expect([200, 201]).toContain(again.status);
      expect(again.body).toEqual(viaSocket);

      const id2 = cmid('both');
      const viaRest = await post(a.token, room.id, { clientMsgId: id2, text: 'rest first' });
      expect(viaRest.status).toBe(201);
      expect(await ok(a.socket, 'message:send', { roomId: room.id, clientMsgId: id2, text: 'rest first' })).toEqual(viaRest.body);
      const retried = await post(a.token, room.id, { clientMsgId: id2, text: 'rest first' });
      expect(retried.body).toEqual(viaRest.body);
      expect((await history(a.socket, room.id)).items.map((m) => m.seq)).toEqual([1, 2]);
      // b got each message once: the retries in either direction broadcast nothing before the next message.
      const marker = await sendMessage(a.socket, room.id, 'marker');
      expect(await seen.before((m) => m.id === marker.id)).toEqual([viaSocket, viaRest.body]);
    });

    it('concurrent duplicates over REST and socket store one message', async () => {
      const { a, room } = await setup();
      const clientMsgId = cmid('mixed');
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          i % 2 ? post(a.token, room.id, { clientMsgId, text: 'dup' }).then((r) => r.body as Message) : ok<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId, text: 'dup' }),
        ),
      );
      for (const m of results) expect(m).toEqual(results[0]);
      expect((await history(a.socket, room.id)).items).toEqual([results[0]]);
    });

    it('the same clientMsgId in another room is 409 CONFLICT', async () => {
      const { a, room } = await setup();
      const other = await createRoom(a.socket, { type: 'public' });
      const clientMsgId = cmid();
      expect((await post(a.token, room.id, { clientMsgId, text: 'x' })).status).toBe(201);
      expectHttpError(await post(a.token, other.id, { clientMsgId, text: 'x' }), 'CONFLICT');
      expect((await history(a.socket, other.id)).items).toEqual([]);
    });

    it('400 for bad bodies, 403 for a non-member, 404 for an unknown room or replyTo; nothing stored', async () => {
      const { a, outsider, room } = await setup();
      const other = await createRoom(a.socket, { type: 'public' });
      const foreign = await sendMessage(a.socket, other.id, 'elsewhere');
      for (const body of [
        {},
        { clientMsgId: cmid() },
        { text: 'x' },
        { clientMsgId: cmid(), text: '' },
        { clientMsgId: cmid(), text: 't'.repeat(4001) },
        { clientMsgId: cmid(), text: 123 },
        { clientMsgId: 'c'.repeat(65), text: 'x' },
        { clientMsgId: cmid(), text: 'x', roomId: other.id },
        { clientMsgId: cmid(), text: 'x', replyTo: 5 },
        'just a string',
      ]) {
        expectHttpError(await post(a.token, room.id, body), 'VALIDATION_FAILED');
      }
      expectHttpError(await post(outsider.token, room.id, { clientMsgId: cmid(), text: 'x' }), 'FORBIDDEN');
      expectHttpError(await post(a.token, unknownObjectId(), { clientMsgId: cmid(), text: 'x' }), 'NOT_FOUND');
      expectHttpError(await post(a.token, room.id, { clientMsgId: cmid(), text: 'x', replyTo: foreign.id }), 'NOT_FOUND');
      expect((await history(a.socket, room.id)).items).toEqual([]);
    });

    it('a body over 64 KiB is 413 PAYLOAD_TOO_LARGE and nothing is stored', async () => {
      const { a, room } = await setup();
      const res = await post(a.token, room.id, { clientMsgId: cmid(), text: 'x'.repeat(70 * 1024) });
      expectHttpError(res, 'PAYLOAD_TOO_LARGE');
      const padded = await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, {
        token: a.token,
        rawBody: JSON.stringify({ clientMsgId: cmid(), text: 'ok' }).replace('{', `{${' '.repeat(66 * 1024)}`),
      });
      expectHttpError(padded, 'PAYLOAD_TOO_LARGE');
      expect((await history(a.socket, room.id)).items).toEqual([]);
    });

    it('a non-JSON body is refused with 400 VALIDATION_FAILED, never stored', async () => {
      const { a, room } = await setup();
      const res = await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: a.token, rawBody: 'clientMsgId=x&text=hello', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expectHttpError(res, 'VALIDATION_FAILED');
      expectHttpError(await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: a.token, rawBody: '{"clientMsgId":"x",' }), 'VALIDATION_FAILED');
      expect((await history(a.socket, room.id)).items).toEqual([]);
    });
  });

  it('unknown API routes answer 404 with the error model', async () => {
    const a = await registerUser(t.url);
    expectHttpError(await api(t.url, 'GET', '/api/v1/nope', { token: a.token }), 'NOT_FOUND');
  });
});
