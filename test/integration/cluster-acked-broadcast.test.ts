// The contract's "A message acked to its sender reaches every connected member even if the
// node that stored it dies before broadcasting it: another node broadcasts it, at the latest
// when the sender retries with the same clientMsgId" (PROTOCOL.md, docs/protocol.md).
//
// Node A stores and acks, but its broadcast never leaves it: A's Redis connection for the
// adapter's publisher goes through a proxy that swallows what it sends (as if A had died just
// before publishing); then A is SIGKILLed. The receiver sits on node B and never asks for
// history, so a `message:new` it gets can only be B broadcasting the message live.
import crypto from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshMongoUri } from '../helpers/app';
import { closeClients, cmid, connectUser, createRoom, ok, registerUser, type Message, type TestUser } from '../helpers/chat';
import { collect, type Client } from '../helpers/clients';
import { CLUSTER_ENV, spawnNode, until, type NodeProcess } from '../helpers/cluster';
import { freePort } from '../helpers/ports';
import { startRedisProxy, type RedisProxy } from '../helpers/redis-proxy';

describe('cluster: a message acked by a node that died before broadcasting it', () => {
  const env: Record<string, string> = { ...CLUSTER_ENV };
  let nodeB: NodeProcess;
  const started: NodeProcess[] = [];
  const proxies: RedisProxy[] = [];

  beforeAll(async () => {
    env.MONGODB_URI = freshMongoUri('ab').uri;
    env.REDIS_URL = inject('redisUrl');
    env.REDIS_KEY_PREFIX = `t${crypto.randomBytes(4).toString('hex')}:`;
    nodeB = await spawnNode(`b-${env.REDIS_KEY_PREFIX.slice(1, 5)}`, await freePort(), env);
    started.push(nodeB);
  });
  afterEach((ctx) => {
    closeClients();
    if (ctx.task.result?.state === 'fail') for (const n of started) process.stderr.write(`--- ${n.name}\n${n.output().slice(-4000)}\n`);
  });
  afterAll(async () => {
    for (const n of started) n.kill('SIGKILL');
    await Promise.all(started.map((n) => n.exited));
    for (const p of proxies) await p.close();
  });

  /**
   * Node A (its Redis through a proxy), a room with a sender on A and a receiver on B, one
   * message delivered across the nodes the normal way; then A's publisher is cut off, the
   * sender sends `text` and gets its ack, and A is killed once its publish has been swallowed.
   */
  async function ackedThenDied(text: string) {
    const proxy = await startRedisProxy(env.REDIS_URL);
    proxies.push(proxy);
    const nodeA = await spawnNode(`a-${crypto.randomBytes(2).toString('hex')}`, await freePort(), { ...env, REDIS_URL: proxy.url });
    started.push(nodeA);
    const [sender, receiver]: TestUser[] = await Promise.all([registerUser(nodeB.url), registerUser(nodeB.url)]);
    const onA = await connectUser(nodeA.url, sender);
    const onB = await connectUser(nodeB.url, receiver);
    const room = await createRoom(onA, { type: 'public' });
    await ok(onB, 'room:join', { roomId: room.id });
    const received = collect<Message & { at: number }>(onB, 'message:new');
    onB.on('message:new', (m: Message & { at: number }) => (m.at = Date.now()));
    const first: Message = await ok(onA, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'before' });
    await until(() => received.length === 1, 15_000, 'the first message on node B');

    proxy.blackhole('adapter-pub');
    const clientMsgId = cmid();
    const acked: Message = await ok(onA, 'message:send', { roomId: room.id, clientMsgId, text });
    // A tried to publish it, and the proxy swallowed it.
    await until(() => proxy.dropped().includes(acked.id), 15_000, "node A's publish of the acked message");
    nodeA.kill('SIGKILL');
    await nodeA.exited;
    // Nothing of it reached B from A: the publish was dropped, not delayed.
    expect(received.map((m) => m.seq)).toEqual([first.seq]);
    return { sender, receiver, room, onB, received, first, acked, clientMsgId };
  }

  const plain = (m: Message & { at?: number }) => {
    const { at: _at, ...rest } = m;
    return rest;
  };

  it('the sender retries on another node: that node broadcasts it live to the member that never read history', async () => {
    const { sender, room, received, first, acked, clientMsgId } = await ackedThenDied('acked, then the node died');
    const onB: Client = await connectUser(nodeB.url, sender);
    const retriedAt = Date.now();
    const again: Message = await ok(onB, 'message:send', { roomId: room.id, clientMsgId, text: 'acked, then the node died' });
    expect(again).toEqual(acked);
    await until(() => received.length === 2, 15_000, 'the message on node B after the retry');
    expect(received.map((m) => m.seq)).toEqual([first.seq, acked.seq]);
    expect(plain(received[1])).toEqual(acked);
    expect(received[1].at).toBeGreaterThanOrEqual(retriedAt);
  });

  it('without a retry, the next message stored on another node brings it along, in seq order', async () => {
    const { receiver, room, received, first, acked, onB } = await ackedThenDied('acked, then the node died, no retry');
    // Someone on B keeps talking; the receiver never asks for history.
    const next: Message = await ok(onB, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: `next, from ${receiver.username}` });
    expect(next.seq).toBe(acked.seq + 1);
    await until(() => received.length === 3, 15_000, 'both messages on node B');
    expect(received.map((m) => m.seq)).toEqual([first.seq, acked.seq, next.seq]);
    expect(plain(received[1])).toEqual(acked);
    expect(plain(received[2])).toEqual(next);
  });
});
