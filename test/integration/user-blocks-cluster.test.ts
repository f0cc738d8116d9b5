// User blocks (issue 15) across two nodes sharing a database and Redis: a block made on one
// node filters deliveries and refuses the blocked user's DM on the other, even where the
// other node had the blocked user's lists cached, and it survives a node restart.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../server/src/app';
import { loadConfig } from '../../server/src/config';
import { createLogger } from '../../server/src/logger';
import { freshMongoUri, testEnv, type TestApp } from '../helpers/app';
import { eventsUntil, request } from '../helpers/clients';
import { until } from '../helpers/cluster';
import { CHAT_ENV, closeClients, cmid, connectUser, createRoom, history, ok, refused, registerUser, sendMessage, type Message, type Room, type TestUser } from '../helpers/chat';

describe('user blocks: two nodes', () => {
  const { uri } = freshMongoUri('blk');
  const prefix = `t${crypto.randomBytes(4).toString('hex')}:`;
  const nodes: TestApp[] = [];

  async function startNode(i: number): Promise<TestApp> {
    const config = loadConfig(testEnv({ ...CHAT_ENV, MONGODB_URI: uri, REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: prefix, NODE_ID: `node${i}` }));
    const app = await createApp(config, { log: createLogger(config.logLevel) });
    const port = await app.listen();
    return { app, config, url: `http://127.0.0.1:${port}`, port, dbName: '', close: () => app.close() };
  }

  beforeAll(async () => {
    nodes.push(await startNode(0));
    nodes.push(await startNode(1));
  });
  afterAll(async () => {
    closeClients();
    await Promise.all(nodes.map((n) => n.close()));
  });

  it('a block on node 0 filters node 1 and refuses the DM there; it survives a restart', async () => {
    const [a, b, c] = await Promise.all([registerUser(nodes[0].url), registerUser(nodes[0].url), registerUser(nodes[0].url)]);
    const [a0, c0] = await Promise.all([connectUser(nodes[0].url, a), connectUser(nodes[0].url, c)]);
    const [a1, b1] = await Promise.all([connectUser(nodes[1].url, a), connectUser(nodes[1].url, b)]);
    const room = await createRoom(c0, { type: 'public' });
    await ok(a0, 'room:join', { roomId: room.id });
    await ok(b1, 'room:join', { roomId: room.id });
    const dm = await ok<Room>(b1, 'dm:open', { userId: a.id });
    // Node 1 now holds b's lists in its cache: the block must reach it.
    await sendMessage(b1, dm.id, 'before');
    await sendMessage(b1, room.id, 'before');

    await ok(a0, 'user:block', { userId: b.id });
    const seen = [a0, a1].map((s) => ({ msgs: eventsUntil<Message>(s, 'message:new'), typing: eventsUntil<{ userId: string }>(s, 'typing') }));
    // Node 1 hears of the block over Redis (a published forget, sent before the ack): dm:open
    // (which stores nothing new when refused) shows when it has; node 1's cached lists would
    // otherwise answer for a minute.
    await until(async () => (await request(b1, 'dm:open', { userId: a.id })).error?.code === 'FORBIDDEN', 5000, 'the block on node 1');
    expect((await refused(b1, 'message:send', { roomId: dm.id, clientMsgId: cmid(), text: 'after' }, 'FORBIDDEN')).details).toEqual({ reason: 'BLOCKED' });
    expect((await refused(b1, 'dm:open', { userId: a.id }, 'FORBIDDEN')).details).toEqual({ reason: 'BLOCKED' });
    await sendMessage(b1, room.id, 'from b on node 1');
    b1.emit('typing:start', { roomId: room.id });
    // Markers from c on node 0: they reach both of a's sockets after anything of b's could.
    const marker = await sendMessage(c0, room.id, 'marker');
    c0.emit('typing:start', { roomId: room.id });
    for (const s of seen) {
      expect(await s.msgs.before((m) => m.id === marker.id)).toEqual([]);
      expect(await s.typing.before((p) => p.userId === c.id)).toEqual([]);
    }
    expect((await history(a0, dm.id)).items.map((m) => m.text)).toEqual(['before']);

    // Node 1 restarts (empty caches): the block is still there.
    const old = nodes[1];
    closeClients();
    await old.close();
    nodes[1] = await startNode(1);
    const b1again = await connectUser(nodes[1].url, b);
    expect((await refused(b1again, 'message:send', { roomId: dm.id, clientMsgId: cmid(), text: 'after restart' }, 'FORBIDDEN')).details).toEqual({ reason: 'BLOCKED' });
    const a1again = await connectUser(nodes[1].url, a);
    expect(await ok(a1again, 'user:list_blocks', {})).toEqual({ userIds: [b.id] });

    // Unblocked on node 1: node 0 delivers b's messages to a again.
    await ok(a1again, 'user:unblock', { userId: b.id });
    const a0again = await connectUser(nodes[0].url, a);
    const got = eventsUntil<Message>(a0again, 'message:new');
    const fromB = await sendMessage(b1again, room.id, 'b after unblock');
    expect((await got.before((m) => m.id === fromB.id)).length).toBe(0);
    await sendMessage(b1again, dm.id, 'dm after unblock');
  });

  it('a blocked user sees the same refusal on either node, and blocking is per pair', async () => {
    const users: TestUser[] = await Promise.all([registerUser(nodes[0].url), registerUser(nodes[0].url), registerUser(nodes[0].url)]);
    const [a, b, d] = users;
    const a1 = await connectUser(nodes[1].url, a);
    const b0 = await connectUser(nodes[0].url, b);
    const d0 = await connectUser(nodes[0].url, d);
    await ok(a1, 'user:block', { userId: b.id });
    await refused(b0, 'dm:open', { userId: a.id }, 'FORBIDDEN');
    // d is not blocked by a; b is not blocked by d.
    await ok(d0, 'dm:open', { userId: a.id });
    await ok(b0, 'dm:open', { userId: d.id });
  });
});
