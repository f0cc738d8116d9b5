// Per-user message rate limits: RATE_LIMITED with details.retryAfterMs, nothing
// stored, shared across sockets, rooms and REST; the default of 20 per 10 s.
import { describe, expect, it } from 'vitest';
import { collect, request, waitFor } from '../helpers/clients';
import {
  api,
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
import { useChatApp } from '../helpers/chat-app';

const LIMIT = 3;
// Long enough that a test never straddles a window on a loaded machine; the window's own
// length is tested below with a short one.
const WINDOW_MS = 60_000;

describe('chat: message rate limit (small limit)', () => {
  const t = useChatApp({ RATE_LIMIT_MESSAGES: String(LIMIT), RATE_LIMIT_WINDOW_MS: String(WINDOW_MS) });

  async function setup() {
    const [a, b, c] = await Promise.all([newPerson(t.url), newPerson(t.url), newPerson(t.url)]);
    const room = await createRoom(a.socket, { type: 'public' });
    await ok(b.socket, 'room:join', { roomId: room.id });
    await ok(c.socket, 'room:join', { roomId: room.id });
    return { a, b, c, room };
  }

  it('the message over the limit is RATE_LIMITED with retryAfterMs; it is neither stored nor broadcast', async () => {
    const { a, b, c, room } = await setup();
    for (let i = 0; i < LIMIT; i++) await sendMessage(a.socket, room.id, `ok${i}`);
    const seen = collect<Message>(b.socket, 'message:new');
    const limited = await request(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'too many' });
    const error = expectAckError(limited, 'RATE_LIMITED');
    expect(error.details).toMatchObject({ retryAfterMs: expect.any(Number) });
    expect(error.details.retryAfterMs).toBeGreaterThan(0);
    expect(error.details.retryAfterMs).toBeLessThanOrEqual(WINDOW_MS);
    // Another member's message, sent after the refusal was acked, arrives after anything the refused one could have caused.
    const marker = waitFor<Message>(b.socket, 'message:new', (m) => m.text === 'marker');
    await sendMessage(c.socket, room.id, 'marker');
    await marker;
    // b may still be receiving the last accepted ones: only 'too many' must never come.
    expect(seen.map((m) => m.text).filter((x) => !x.startsWith('ok'))).toEqual(['marker']);
    expect((await history(b.socket, room.id)).items.map((m) => m.text)).toEqual(['ok0', 'ok1', 'ok2', 'marker']);
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

  it('REST posting shares the budget and answers 429 RATE_LIMITED with retryAfterMs and a retry-after header', async () => {
    const { a, b, room } = await setup();
    for (let i = 0; i < LIMIT; i++) await sendMessage(a.socket, room.id, `s${i}`);
    const res = await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: a.token, body: { clientMsgId: cmid(), text: 'rest' } });
    const error = expectHttpError(res, 'RATE_LIMITED');
    expect(error.details.retryAfterMs).toBeGreaterThan(0);
    expect(error.details.retryAfterMs).toBeLessThanOrEqual(WINDOW_MS);
    // HTTP's Retry-After is whole seconds: never earlier than retryAfterMs.
    expect(res.headers.get('retry-after')).toBe(String(Math.ceil(error.details.retryAfterMs / 1000)));
    expect((await history(a.socket, room.id)).items).toHaveLength(LIMIT);
    // The other way round: REST spends the budget, the socket is refused.
    for (let i = 0; i < LIMIT; i++) {
      expect((await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: b.token, body: { clientMsgId: cmid(), text: `r${i}` } })).status).toBe(201);
    }
    expectAckError(await request(b.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'x' }), 'RATE_LIMITED');
  });

  it('a retry with the same clientMsgId is never rate limited and spends nothing of the budget', async () => {
    const { a, room } = await setup();
    const first = await sendMessage(a.socket, room.id, 'first', { clientMsgId: 'retry-me' });
    // Retries over socket and REST, more of them than the whole budget.
    for (let i = 0; i < LIMIT + 2; i++) {
      expect(await ok<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId: 'retry-me', text: 'first' })).toEqual(first);
      const rest = await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: a.token, body: { clientMsgId: 'retry-me', text: 'first' } });
      expect(rest.status).toBeLessThan(300);
      expect(rest.body).toEqual(first);
    }
    // The rest of the budget is still there.
    for (let i = 1; i < LIMIT; i++) await sendMessage(a.socket, room.id, `more${i}`);
    expectAckError(await request(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'over' }), 'RATE_LIMITED');
    // And once limited, a retry of an acked message still answers it.
    expect(await ok<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId: 'retry-me', text: 'first' })).toEqual(first);
  });
});

describe('chat: message rate limit (window not a whole number of seconds)', () => {
  const SHORT_WINDOW_MS = 2500;
  const t = useChatApp({ RATE_LIMIT_MESSAGES: '2', RATE_LIMIT_WINDOW_MS: String(SHORT_WINDOW_MS) });

  it('honours RATE_LIMIT_WINDOW_MS: retryAfterMs ≤ the window, and after retryAfterMs the message goes through', async () => {
    const a = await newPerson(t.url);
    const room = await createRoom(a.socket, { type: 'public' });
    const started = Date.now();
    await sendMessage(a.socket, room.id, 'one');
    await sendMessage(a.socket, room.id, 'two');
    const limited = await request(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'three' });
    // Refused unless the machine took the whole window to send two messages (then there is nothing to check).
    if (Date.now() - started < SHORT_WINDOW_MS) {
      const error = expectAckError(limited, 'RATE_LIMITED');
      expect(error.details.retryAfterMs).toBeLessThanOrEqual(SHORT_WINDOW_MS);
      await sleep(error.details.retryAfterMs + 50);
    }
    expect((await sendMessage(a.socket, room.id, 'three')).seq).toBe(3);
  });
});

describe('chat: message rate limit (defaults)', () => {
  const t = useChatApp({ RATE_LIMIT_MESSAGES: undefined, RATE_LIMIT_WINDOW_MS: undefined });

  it('20 messages per 10 s: the 21st is RATE_LIMITED with 0 < retryAfterMs ≤ 10000', async () => {
    const a = await newPerson(t.url);
    const room = await createRoom(a.socket, { type: 'public' });
    const started = Date.now();
    for (let i = 0; i < 20; i++) await sendMessage(a.socket, room.id, `m${i}`);
    const ack = await request(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'twenty-first' });
    // Only meaningful if the machine sent the 20 within the default 10 s window.
    if (Date.now() - started >= 10_000) return;
    const error = expectAckError(ack, 'RATE_LIMITED');
    expect(error.details.retryAfterMs).toBeGreaterThan(0);
    expect(error.details.retryAfterMs).toBeLessThanOrEqual(10_000);
    expect((await history(a.socket, room.id)).items).toHaveLength(20);
  });
});
