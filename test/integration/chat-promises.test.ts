// Promises of docs/protocol.md that no other file asserted: a DM with oneself, the 50-emoji
// limit, delete clearing reactions, REST integers in plain digits only, INTERNAL with a
// logged requestId, and server:draining reaching every client before it is disconnected.
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/src/app';
import { loadConfig } from '../../server/src/config';
import { freshMongoUri, startTestApp, testEnv } from '../helpers/app';
import { api, CHAT_ENV, closeClients, connectUser, createRoom, expectAckError, expectHttpError, expectMessage, history, listAll, newPerson, ok, refused, registerUser, sendMessage, type Message } from '../helpers/chat';
import { useChatApp } from '../helpers/chat-app';
import { request, waitFor } from '../helpers/clients';

describe('documented promises', () => {
  const t = useChatApp();

  it('dm:open with oneself is VALIDATION_FAILED and creates nothing', async () => {
    const a = await t.person();
    await refused(a.socket, 'dm:open', { userId: a.id }, 'VALIDATION_FAILED');
    expect(await listAll(a.socket)).toEqual([]);
  });

  it('at most 50 different emoji per message: the 51st is CONFLICT and changes nothing; existing ones still take users', async () => {
    const [a, b] = await Promise.all([t.person(), t.person()]);
    const room = await createRoom(a.socket, { type: 'public' });
    await ok(b.socket, 'room:join', { roomId: room.id });
    const m = await sendMessage(a.socket, room.id, 'react a lot');
    const emoji = Array.from({ length: 51 }, (_, i) => `e${i}`);
    let last!: Message;
    for (const e of emoji.slice(0, 50)) last = await ok<Message>(a.socket, 'message:react', { messageId: m.id, emoji: e, add: true });
    expect(Object.keys(last.reactions)).toHaveLength(50);
    await refused(b.socket, 'message:react', { messageId: m.id, emoji: emoji[50], add: true }, 'CONFLICT');
    const stored = (await history(a.socket, room.id)).items[0];
    expect(stored.reactions).toEqual(last.reactions);
    // Another user on an existing emoji: not a new one, so allowed.
    const more = await ok<Message>(b.socket, 'message:react', { messageId: m.id, emoji: 'e0', add: true });
    expect(more.reactions.e0).toEqual([a.id, b.id]);
    // Removing the only user of one frees a place.
    await ok(a.socket, 'message:react', { messageId: m.id, emoji: 'e1', add: false });
    const freed = await ok<Message>(b.socket, 'message:react', { messageId: m.id, emoji: emoji[50], add: true });
    expect(Object.keys(freed.reactions)).toHaveLength(50);
    expect(freed.reactions[emoji[50]]).toEqual([b.id]);
  });

  it('delete clears reactions: in the ack-side broadcast and in history', async () => {
    const [a, b] = await Promise.all([t.person(), t.person()]);
    const room = await createRoom(a.socket, { type: 'public' });
    await ok(b.socket, 'room:join', { roomId: room.id });
    const m = await sendMessage(a.socket, room.id, 'soon gone');
    await ok(b.socket, 'message:react', { messageId: m.id, emoji: '👍', add: true });
    await ok(a.socket, 'message:react', { messageId: m.id, emoji: '🎉', add: true });
    const updated = waitFor<Message>(b.socket, 'message:updated', (x) => x.id === m.id && x.deletedAt !== null);
    expect(await request(a.socket, 'message:delete', { messageId: m.id })).toEqual({ ok: true, data: {} });
    const seen = await updated;
    expectMessage(seen, { id: m.id, roomId: room.id, seq: m.seq, senderId: a.id, clientMsgId: m.clientMsgId, text: '', deletedAt: seen.deletedAt, reactions: {} });
    expect((await history(b.socket, room.id)).items[0]).toEqual(seen);
  });

  it('REST query integers are plain decimal digits: limit=1e2 and other spellings are VALIDATION_FAILED', async () => {
    const a = await t.person();
    const room = await createRoom(a.socket, { type: 'public' });
    await sendMessage(a.socket, room.id, 'one');
    for (const q of ['limit=1e2', 'limit=0x10', 'limit=1.0', 'limit=+5', 'limit=%205', 'afterSeq=1e0', 'beforeSeq=2e0']) {
      expectHttpError(await api(t.url, 'GET', `/api/v1/rooms/${room.id}/messages?${q}`, { token: a.token }), 'VALIDATION_FAILED');
    }
    expectHttpError(await api(t.url, 'GET', '/api/v1/rooms?limit=1e2', { token: a.token }), 'VALIDATION_FAILED');
    // The plain spellings are fine.
    expect((await api(t.url, 'GET', `/api/v1/rooms/${room.id}/messages?limit=100`, { token: a.token })).status).toBe(200);
    expect((await api(t.url, 'GET', '/api/v1/rooms?limit=100', { token: a.token })).status).toBe(200);
  });
});

describe('INTERNAL: a bug answers a request id that is in the error log', () => {
  const lines: Array<Record<string, any>> = [];
  let app: Awaited<ReturnType<typeof createApp>>;
  let url: string;
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    const config = loadConfig(testEnv({ ...CHAT_ENV, MONGODB_URI: freshMongoUri().uri }));
    app = await createApp(config, { log: pino({ level: 'info' }, sink) });
    url = `http://127.0.0.1:${await app.listen()}`;
  });
  afterAll(async () => {
    closeClients();
    await app.close();
  });

  it('over a socket ack and over REST', async () => {
    const a = await registerUser(url);
    const s = await connectUser(url, a);
    const room = await createRoom(s, { type: 'public' });
    // Every history request reads its room (whichever way the page itself is then read).
    const repo = app.chat.repos.rooms;
    const findById = repo.findById;
    repo.findById = async () => {
      throw new Error('injected bug');
    };
    try {
      const ack = await request(s, 'message:history', { roomId: room.id });
      const err = expectAckError(ack, 'INTERNAL');
      expect(err.details).toEqual({ requestId: expect.stringMatching(/\S/) });
      const res = await api(url, 'GET', `/api/v1/rooms/${room.id}/messages`, { token: a.token });
      const httpErr = expectHttpError(res, 'INTERNAL');
      expect(httpErr.details).toEqual({ requestId: expect.stringMatching(/\S/) });
      expect(httpErr.details.requestId).not.toBe(err.details.requestId);
      // Each id is in an error-level log line (pino: level 50), with the error itself.
      for (const id of [err.details.requestId, httpErr.details.requestId]) {
        const logged = lines.filter((l) => l.level >= 50 && JSON.stringify(l).includes(id));
        expect(logged.length, `error log lines carrying ${id}`).toBeGreaterThanOrEqual(1);
        expect(JSON.stringify(logged)).toContain('injected bug');
      }
    } finally {
      repo.findById = findById;
    }
    // Nothing about the bug leaks into the answer, and the next request is fine.
    expect((await request(s, 'message:history', { roomId: room.id })).ok).toBe(true);
  });
});

describe('server:draining', () => {
  it('reaches every connected socket, with reconnectInMs, before the node disconnects it', async () => {
    const t = await startTestApp({ ...CHAT_ENV, SHUTDOWN_GRACE_MS: '1000' });
    const people = await Promise.all([newPerson(t.url), newPerson(t.url), newPerson(t.url)]);
    const seen = people.map((p) => {
      const events: Array<[string, unknown]> = [];
      p.socket.on('server:draining', (payload) => events.push(['server:draining', payload]));
      const gone = new Promise<void>((resolve) => p.socket.once('disconnect', (reason) => (events.push(['disconnect', reason]), resolve())));
      return { events, gone };
    });
    await t.close();
    await Promise.all(seen.map((x) => x.gone));
    for (const { events } of seen) {
      expect(events.map(([e]) => e)).toEqual(['server:draining', 'disconnect']);
      const payload = events[0][1] as { reconnectInMs: unknown };
      expect(Object.keys(payload)).toEqual(['reconnectInMs']);
      expect(Number.isInteger(payload.reconnectInMs) && (payload.reconnectInMs as number) >= 0 && (payload.reconnectInMs as number) <= 1000).toBe(true);
    }
    closeClients();
  });
});
