// Issue 11, defect 4: graceful shutdown closed MongoDB under requests still being handled.
// The drain waited for acks only while their socket was connected, and for REST requests only
// until their connection closed: a client that left (or was cut off at the hard stop) left its
// handler running into a closed database, half done. Here two room creations are held between
// their room document and the owner's membership while the node shuts down.
import { Writable } from 'node:stream';
import mongoose from 'mongoose';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/src/app';
import { loadConfig } from '../../server/src/config';
import { freshMongoUri, testEnv } from '../helpers/app';
import { CHAT_ENV, closeClients, connectUser, registerUser } from '../helpers/chat';
import { until } from '../helpers/cluster';
import { gate } from '../helpers/nodes';

describe('shutdown: requests in flight finish before MongoDB and Redis close', () => {
  afterAll(() => closeClients());

  it('a socket request whose client left and a REST request whose client gave up are completed, whole, before the database closes', async () => {
    const { uri } = freshMongoUri();
    const held = gate();
    let opened: string | null = null;
    const open = (why: string) => {
      opened ??= why;
      held.open();
    };
    // The node logs that it waits for requests in flight: the held writes may go on then.
    const sink = new Writable({
      write(chunk, _enc, done) {
        if (String(chunk).includes('waiting for requests in flight')) open('the node waited for them');
        done();
      },
    });
    const config = loadConfig(testEnv({ ...CHAT_ENV, MONGODB_URI: uri, SHUTDOWN_GRACE_MS: '5000', REDIS_URL: undefined }));
    const app = await createApp(config, { log: pino({ level: 'info' }, sink) });
    const url = `http://127.0.0.1:${await app.listen()}`;
    // Without the wait, the first the held writes hear of the shutdown is the database closing.
    app.deps.db.once('close', () => open('the database closed under them'));

    const u = await registerUser(url);
    const s = await connectUser(url, u);
    const memberships = app.chat.repos.memberships;
    const add = memberships.add;
    memberships.add = ((...args: Parameters<typeof add>) => held.wait().then(() => add(...args))) as typeof add;

    s.emit('room:create', { type: 'public', name: 'over the socket' }, () => undefined);
    const aborted = new AbortController();
    const rest = fetch(`${url}/api/v1/rooms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'public', name: 'over REST' }),
      signal: aborted.signal,
    }).catch(() => null);
    // Both room documents are stored; both owners' memberships are held.
    await until(() => held.waiting === 2, 15_000, 'both creations held');
    s.close();
    aborted.abort();
    await rest;

    await app.close();

    // Each creation is whole: the room and its owner's membership.
    const conn = await mongoose.createConnection(uri).asPromise();
    try {
      const rooms = await conn.collection('rooms').find({}).toArray();
      expect(rooms.map((r) => r.name).sort()).toEqual(['over REST', 'over the socket']);
      for (const r of rooms) expect(await conn.collection('memberships').findOne({ _id: `${r._id}:${u.id}` as never })).toMatchObject({ role: 'owner' });
    } finally {
      await conn.close();
    }
    expect(opened).toBe('the node waited for them');
  });
});
