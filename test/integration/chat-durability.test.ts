// "An ok: true ack for a write means the write is durable in MongoDB. A request
// that fails leaves no partial state behind." Restarts and a database outage.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../server/src/app';
import { loadConfig } from '../../server/src/config';
import { startDevdb } from '../../server/src/data/devdb';
import { createLogger } from '../../server/src/logger';
import { freshMongoUri, testEnv } from '../helpers/app';
import { request } from '../helpers/clients';
import { freePort } from '../helpers/ports';
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
  listAll,
  ok,
  PASSWORD,
  registerUser,
  sendMessage,
  sleep,
  type Message,
  type Room,
  type TestUser,
} from '../helpers/chat';

async function boot(uri: string) {
  const config = loadConfig(testEnv({ ...CHAT_ENV, MONGODB_URI: uri }));
  const app = await createApp(config, { log: createLogger('silent') });
  const port = await app.listen();
  return { app, url: `http://127.0.0.1:${port}` };
}

describe('chat: durability', () => {
  it('everything acked survives a restart of the app, and seq carries on', async () => {
    const { uri } = freshMongoUri('dur');
    const first = await boot(uri);
    let a!: TestUser, b!: TestUser, room!: Room, dm!: Room, msgs!: Message[];
    try {
      a = await registerUser(first.url);
      b = await registerUser(first.url);
      const as = await connectUser(first.url, a);
      const bs = await connectUser(first.url, b);
      room = await createRoom(as, { type: 'private', name: 'durable', memberIds: [b.id] });
      dm = await ok<Room>(as, 'dm:open', { userId: b.id });
      msgs = [await sendMessage(as, room.id, 'one'), await sendMessage(bs, room.id, 'two'), await sendMessage(as, room.id, 'three')];
      await ok(as, 'message:edit', { messageId: msgs[0].id, text: 'one (edited)' });
      await ok(bs, 'message:react', { messageId: msgs[0].id, emoji: '👍', add: true });
      await ok(as, 'message:delete', { messageId: msgs[2].id });
      await ok(bs, 'message:read', { roomId: room.id, seq: 1 });
      await sendMessage(bs, dm.id, 'dm');
    } finally {
      closeClients();
    }
    const beforeHistory = await (async () => {
      const s = await connectUser(first.url, a);
      const h = await history(s, room.id);
      const lists = { a: await listAll(s), b: await listAll(await connectUser(first.url, b)) };
      closeClients();
      return { h, lists };
    })();
    await first.app.close();

    const second = await boot(uri);
    try {
      const login = await api(second.url, 'POST', '/api/v1/auth/login', { body: { username: a.username, password: PASSWORD } });
      expect(login.status).toBe(200);
      expect(login.body.user).toEqual(a.user);
      expectHttpError(await api(second.url, 'POST', '/api/v1/auth/register', { body: { username: b.username, password: PASSWORD } }), 'CONFLICT');
      const as = await connectUser(second.url, login.body.token);
      const bs = await connectUser(second.url, b);
      const h = await history(as, room.id);
      expect(h).toEqual(beforeHistory.h);
      expect(h.items.map((m) => [m.seq, m.text])).toEqual([
        [1, 'one (edited)'],
        [2, 'two'],
        [3, ''],
      ]);
      expect(h.items[0].reactions).toEqual({ '👍': [b.id] });
      expect(await listAll(as)).toEqual(beforeHistory.lists.a);
      expect(await listAll(bs)).toEqual(beforeHistory.lists.b);
      expect((await listAll(bs)).find((r) => r.id === room.id)).toMatchObject({ lastReadSeq: 2, unreadCount: 1 });
      // The seq counter and the idempotency keys survive too.
      expect(await ok(bs, 'message:send', { roomId: room.id, clientMsgId: msgs[1].clientMsgId, text: 'two' })).toEqual(h.items[1]);
      expect((await sendMessage(as, room.id, 'four')).seq).toBe(4);
      expect((await ok<Room>(bs, 'dm:open', { userId: a.id })).id).toBe(dm.id);
    } finally {
      closeClients();
      await second.app.close();
    }
  });

  it('while the database is down writes answer UNAVAILABLE / 503 and store nothing; service resumes after', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-outage-'));
    const port = await freePort();
    let db = await startDevdb({ port, dir, backend: 'sqlite', stdio: 'ignore' });
    const { app, url } = await boot(db.uri.replace(/\/chat$/, '/outage'));
    try {
      const a = await registerUser(url);
      const s = await connectUser(url, a);
      const room = await createRoom(s, { type: 'public' });
      const first = await sendMessage(s, room.id, 'before the outage');
      await db.stop();

      const outageId = cmid('outage');
      expectAckError(await request(s, 'message:send', { roomId: room.id, clientMsgId: outageId, text: 'during' }, 20_000), 'UNAVAILABLE');
      expectAckError(await request(s, 'room:create', { type: 'public', name: 'during' }, 20_000), 'UNAVAILABLE');
      expectHttpError(await api(url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: a.token, body: { clientMsgId: cmid(), text: 'during' } }), 'UNAVAILABLE');
      expectHttpError(await api(url, 'POST', '/api/v1/auth/register', { body: { username: `during_${Date.now()}`, password: PASSWORD } }), 'UNAVAILABLE');
      expect((await fetch(`${url}/readyz`)).status).toBe(503);

      db = await startDevdb({ port, dir, backend: 'sqlite', stdio: 'ignore' });
      const deadline = Date.now() + 30_000;
      while ((await fetch(`${url}/readyz`)).status !== 200 && Date.now() < deadline) await sleep(250);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      let h = await history(s, room.id).catch(() => null);
      for (let i = 0; h === null && i < 40; i++) {
        await sleep(250);
        h = await history(s, room.id).catch(() => null);
      }
      expect(h!.items).toEqual([first]);
      expect((await listAll(s)).map((r) => r.id)).toEqual([room.id]);
      // Nothing was kept of the refused send: its clientMsgId now makes a new message with the next seq.
      const retried = await ok<Message>(s, 'message:send', { roomId: room.id, clientMsgId: outageId, text: 'after' });
      expect(retried).toMatchObject({ seq: 2, text: 'after', clientMsgId: outageId });
    } finally {
      closeClients();
      await app.close();
      await db.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
