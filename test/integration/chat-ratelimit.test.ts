// Per-user message rate limits: RATE_LIMITED with details.retryAfterMs, nothing
// stored, shared across sockets, rooms and REST; the default of 20 per 10 s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, request } from '../helpers/clients';
import { startTestApp, type TestApp } from '../helpers/app';
import {
  api,
  CHAT_ENV,
  closeClients,
  cmid,
  connectUser,
  createRoom,
  expectAckError,
  expectHttpError,
  history,
  newPerson,
  ok,
  sendMessage,
  sleep,
  type Message,
} from '../helpers/chat';

const LIMIT = 3;
const WINDOW_MS = 1000;

describe('chat: message rate limit (small limit)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ...CHAT_ENV, RATE_LIMIT_MESSAGES: String(LIMIT), RATE_LIMIT_WINDOW_MS: String(WINDOW_MS) });
  });
  afterAll(async () => {
    closeClients();
    await t.close();
  });

  async function setup() {
    const [a, b] = await Promise.all([newPerson(t.url), newPerson(t.url)]);
    const room = await createRoom(a.socket, { type: 'public' });
    await ok(b.socket, 'room:join', { roomId: room.id });
    return { a, b, room };
  }

  it('the message over the limit is RATE_LIMITED with retryAfterMs; it is not stored nor broadcast; later it goes through', async () => {
    const { a, b, room } = await setup();
    for (let i = 0; i < LIMIT; i++) await sendMessage(a.socket, room.id, `ok${i}`);
    const seen = collect<Message>(b.socket, 'message:new');
    const limited = await request(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'too many' });
    const error = expectAckError(limited, 'RATE_LIMITED');
    expect(error.details).toMatchObject({ retryAfterMs: expect.any(Number) });
    expect(error.details.retryAfterMs).toBeGreaterThan(0);
    expect(error.details.retryAfterMs).toBeLessThanOrEqual(WINDOW_MS);
    await sleep(300);
    expect(seen.filter((m) => m.text === 'too many')).toEqual([]);
    expect((await history(b.socket, room.id)).items.map((m) => m.text)).toEqual(['ok0', 'ok1', 'ok2']);
    await sleep(error.details.retryAfterMs + 50);
    const later = await sendMessage(a.socket, room.id, 'after waiting');
    expect(later.seq).toBe(LIMIT + 1);
  });

  it('the limit is per user: shared by all of a user’s sockets and rooms, not by other users', async () => {
    const { a, b, room } = await setup();
    const a2 = await connectUser(t.url, a);
    const other = await createRoom(a.socket, { type: 'public' });
    await sendMessage(a.socket, room.id, 'one');
    await sendMessage(a2, room.id, 'two');
    await sendMessage(a.socket, other.id, 'three');
    expectAckError(await request(a2, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'four' }), 'RATE_LIMITED');
    expectAckError(await request(a.socket, 'message:send', { roomId: other.id, clientMsgId: cmid(), text: 'four' }), 'RATE_LIMITED');
    // b has its own budget.
    for (let i = 0; i < LIMIT; i++) await sendMessage(b.socket, room.id, `b${i}`);
    expect((await history(b.socket, room.id)).items.map((m) => m.text)).toEqual(['one', 'two', 'b0', 'b1', 'b2']);
  });

  it('a concurrent burst lets exactly the limit through, with gap-free seqs', async () => {
    const { a, room } = await setup();
    const acks = await Promise.all(Array.from({ length: 10 }, (_, i) => request<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: `burst${i}` })));
    const okAcks = acks.filter((x) => x.ok);
    expect(okAcks).toHaveLength(LIMIT);
    for (const x of acks.filter((y) => !y.ok)) expectAckError(x, 'RATE_LIMITED');
    expect(okAcks.map((x) => x.data!.seq).sort()).toEqual([1, 2, 3]);
    expect((await history(a.socket, room.id)).items.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('REST posting shares the budget and answers 429 RATE_LIMITED with retryAfterMs', async () => {
    const { a, room } = await setup();
    for (let i = 0; i < LIMIT; i++) await sendMessage(a.socket, room.id, `s${i}`);
    const res = await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: a.token, body: { clientMsgId: cmid(), text: 'rest' } });
    const error = expectHttpError(res, 'RATE_LIMITED');
    expect(error.details.retryAfterMs).toBeGreaterThan(0);
    expect(error.details.retryAfterMs).toBeLessThanOrEqual(WINDOW_MS);
    expect((await history(a.socket, room.id)).items).toHaveLength(LIMIT);
    await sleep(WINDOW_MS + 100);
    for (let i = 0; i < LIMIT; i++) {
      expect((await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: a.token, body: { clientMsgId: cmid(), text: `r${i}` } })).status).toBe(201);
    }
    expectAckError(await request(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'x' }), 'RATE_LIMITED');
  });
});

describe('chat: message rate limit (window not a whole number of seconds)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ...CHAT_ENV, RATE_LIMIT_MESSAGES: '2', RATE_LIMIT_WINDOW_MS: '1500' });
  });
  afterAll(async () => {
    closeClients();
    await t.close();
  });

  it('honours RATE_LIMIT_WINDOW_MS to the millisecond: retryAfterMs ≤ 1500, and the budget is back after 1500 ms', async () => {
    const a = await newPerson(t.url);
    const room = await createRoom(a.socket, { type: 'public' });
    await sendMessage(a.socket, room.id, 'one');
    const started = Date.now();
    await sendMessage(a.socket, room.id, 'two');
    const error = expectAckError(await request(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'three' }), 'RATE_LIMITED');
    expect(error.details.retryAfterMs).toBeGreaterThan(0);
    expect(error.details.retryAfterMs).toBeLessThanOrEqual(1500);
    await sleep(Math.max(0, started + 1500 + 100 - Date.now()));
    expect((await sendMessage(a.socket, room.id, 'three')).seq).toBe(3);
  });
});

describe('chat: message rate limit (defaults)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ...CHAT_ENV, RATE_LIMIT_MESSAGES: undefined, RATE_LIMIT_WINDOW_MS: undefined });
  });
  afterAll(async () => {
    closeClients();
    await t.close();
  });

  it('20 messages per 10 s: the 21st is RATE_LIMITED with 0 < retryAfterMs ≤ 10000', async () => {
    const a = await newPerson(t.url);
    const room = await createRoom(a.socket, { type: 'public' });
    for (let i = 0; i < 20; i++) await sendMessage(a.socket, room.id, `m${i}`);
    const error = expectAckError(await request(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'twenty-first' }), 'RATE_LIMITED');
    expect(error.details.retryAfterMs).toBeGreaterThan(0);
    expect(error.details.retryAfterMs).toBeLessThanOrEqual(10_000);
    expect((await history(a.socket, room.id)).items).toHaveLength(20);
  });
});
