// Room counters are exact in memory/Redis and checkpointed to the database late (issue 10):
// a crash before the checkpoint, or Redis losing them, must change nothing a client sees:
// lastSeq, unread counts (own messages never unread), the next seq, the room:list order.
import mongoose from 'mongoose';
import Redis from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { freshMongoUri } from '../helpers/app';
import { closeClients, connectUser, createRoom, listAll, ok, registerUser, sendMessage, type Message, type TestUser } from '../helpers/chat';
import { CLUSTER_ENV, spawnNode, TestCluster, type NodeProcess } from '../helpers/cluster';
import { freePort } from '../helpers/ports';

/** The room document as the database holds it: the checkpoint. */
async function storedRoom(uri: string, roomId: string): Promise<{ lastSeq: number; senderMarks?: Record<string, number> } | null> {
  const conn = await mongoose.createConnection(uri).asPromise();
  try {
    return (await conn.db!.collection('rooms').findOne({ _id: roomId as never })) as never;
  } finally {
    await conn.close();
  }
}

/** a sends 1-3, b sends 4, a sends 5: a has read up to 5 by sending, b up to 4. */
async function converse(url: string, a: TestUser, b: TestUser): Promise<{ roomId: string; last: Message }> {
  const as = await connectUser(url, a);
  const bs = await connectUser(url, b);
  const room = await createRoom(as, { type: 'public' });
  await ok(bs, 'room:join', { roomId: room.id });
  for (const t of ['one', 'two', 'three']) await sendMessage(as, room.id, t);
  await sendMessage(bs, room.id, 'four');
  const last = await sendMessage(as, room.id, 'five');
  expect(last.seq).toBe(5);
  return { roomId: room.id, last };
}

/** What a and b must see of the room after any failure. */
async function expectExact(url: string, a: TestUser, b: TestUser, roomId: string, last: Message): Promise<void> {
  const as = await connectUser(url, a);
  const bs = await connectUser(url, b);
  const [forA] = (await listAll(as)).filter((r) => r.id === roomId);
  const [forB] = (await listAll(bs)).filter((r) => r.id === roomId);
  expect(forA).toMatchObject({ lastSeq: 5, lastReadSeq: 5, unreadCount: 0, lastMessage: last });
  expect(forB).toMatchObject({ lastSeq: 5, lastReadSeq: 4, unreadCount: 1, lastMessage: last });
  expect((await ok(bs, 'room:join', { roomId })).lastSeq).toBe(5);
  expect(await ok(bs, 'message:read', { roomId, seq: 100 })).toEqual({ lastReadSeq: 5, unreadCount: 0, unreadMentions: 0 });
  // The next seq follows the last acked one: no hole, no reuse.
  expect((await sendMessage(bs, roomId, 'six')).seq).toBe(6);
}

describe('room counters: exact between checkpoints, recovered after failures', () => {
  let node: NodeProcess | null = null;
  let cluster: TestCluster | null = null;
  afterEach(async () => {
    closeClients();
    node?.kill('SIGKILL');
    await node?.exited;
    node = null;
    await cluster?.close();
    cluster = null;
  });

  it('a single node without Redis killed before any checkpoint recovers lastSeq and read marks from the messages', async () => {
    const { uri } = freshMongoUri('ckpt');
    const port = await freePort();
    // No checkpoint within the test: everything after the kill comes from recovery.
    const env = { ...CLUSTER_ENV, MONGODB_URI: uri, COUNTERS_FLUSH_INTERVAL_MS: '600000' };
    node = await spawnNode('ckpt-1', port, env);
    const [a, b] = [await registerUser(node.url), await registerUser(node.url)];
    const { roomId, last } = await converse(node.url, a, b);
    // The database really lags: lastSeq and marks live only in the dead process.
    expect(await storedRoom(uri, roomId)).toMatchObject({ lastSeq: 0 });
    closeClients();
    node.kill('SIGKILL');
    await node.exited;

    node = await spawnNode('ckpt-2', port, env);
    await expectExact(node.url, a, b, roomId, last);
  });

  it('a checkpoint carries lastSeq and the senders\u2019 marks in the room document', async () => {
    const { uri } = freshMongoUri('ckpt');
    node = await spawnNode('ckpt-3', await freePort(), { ...CLUSTER_ENV, MONGODB_URI: uri, COUNTERS_FLUSH_INTERVAL_MS: '50' });
    const [a, b] = [await registerUser(node.url), await registerUser(node.url)];
    const { roomId } = await converse(node.url, a, b);
    let stored = await storedRoom(uri, roomId);
    for (let i = 0; i < 100 && stored?.lastSeq !== 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      stored = await storedRoom(uri, roomId);
    }
    expect(stored).toMatchObject({ lastSeq: 5, senderMarks: { [a.id]: 5, [b.id]: 4 } });
  });

  it('with Redis, counters lost from Redis are recovered on every node', async () => {
    cluster = await TestCluster.start({ nodes: 2, env: { COUNTERS_FLUSH_INTERVAL_MS: '600000' } });
    const [n1, n2] = cluster.urls;
    const [a, b] = [await registerUser(n1), await registerUser(n1)];
    const { roomId, last } = await converse(n1, a, b);
    closeClients();
    // Redis restarted empty, as far as the counters know.
    const redis = new Redis(cluster.env.REDIS_URL);
    try {
      const keys = await redis.keys(`${cluster.env.REDIS_KEY_PREFIX}{counters}*`);
      expect(keys.length).toBeGreaterThan(0);
      await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
    await expectExact(n2, a, b, roomId, last);
  });
});
