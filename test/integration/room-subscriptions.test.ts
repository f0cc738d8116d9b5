// A member's sockets are subscribed to a room on the node that served the join before the
// ack goes out, and unsubscribed before a leave's ack: with the Redis adapter, socketsJoin
// alone reached even the local node's sockets only once the node heard its own request back
// from Redis, so for that moment a message:new, typing or room event sent there missed them.
// Redis is slowed here on the serving node (every publish held 5 s) to make that moment long.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app';
import { closeClients, connectUser, createRoom, ok, registerUser } from '../helpers/chat';
import type { Client } from '../helpers/clients';
import { until } from '../helpers/cluster';
import { startNodes } from '../helpers/nodes';

type PubClient = Record<'publish' | 'spublish', (...args: unknown[]) => Promise<unknown>>;

/** Holds every Redis publish of `node` for `ms` until the returned function restores them. */
function slowPublishes(node: TestApp, ms: number): () => void {
  const pub = (node.app.io.of('/').adapter as unknown as { pubClient: PubClient }).pubClient;
  const original = { publish: pub.publish, spublish: pub.spublish };
  for (const name of ['publish', 'spublish'] as const) {
    const send = original[name];
    pub[name] = (...args: unknown[]) => new Promise((r) => setTimeout(r, ms)).then(() => send.apply(pub, args));
  }
  return () => Object.assign(pub, original);
}

const subscribed = (node: TestApp, roomId: string, socket: Client) => node.app.io.of('/').adapter.rooms.get(`room:${roomId}`)?.has(socket.id!) ?? false;

describe('room subscriptions on the node that served the request', () => {
  let nodes: TestApp[];
  beforeAll(async () => {
    nodes = await startNodes(2);
  });
  afterEach(() => closeClients());
  afterAll(async () => {
    for (const n of nodes ?? []) await n.close();
  });

  it('room:join subscribes the joiner’s sockets on this node before its ack, room:leave unsubscribes them before its ack', async () => {
    const [a, b] = nodes;
    const [owner, joiner] = await Promise.all([registerUser(a.url), registerUser(a.url)]);
    const o = await connectUser(a.url, owner);
    const room = await createRoom(o, { type: 'public' });
    const [here, elsewhere] = [await connectUser(a.url, joiner), await connectUser(b.url, joiner)];

    const restore = slowPublishes(a, 5000);
    try {
      await ok(here, 'room:join', { roomId: room.id });
      expect(subscribed(a, room.id, here)).toBe(true);
      await ok(here, 'room:leave', { roomId: room.id });
      expect(subscribed(a, room.id, here)).toBe(false);
    } finally {
      restore();
    }
    // The other node applies both once they arrive through Redis, in order.
    await until(() => !subscribed(b, room.id, elsewhere) && a.app.io.of('/').adapter.rooms.get(`room:${room.id}`)?.size === 1, 10_000, 'the leave everywhere');
    expect(subscribed(a, room.id, o)).toBe(true);
  });

  it('a message sent right after the join’s ack reaches the joiner live on the serving node', async () => {
    const [a] = nodes;
    const [owner, joiner] = await Promise.all([registerUser(a.url), registerUser(a.url)]);
    const o = await connectUser(a.url, owner);
    const room = await createRoom(o, { type: 'public' });
    const s = await connectUser(a.url, joiner);

    const restore = slowPublishes(a, 5000);
    try {
      await ok(s, 'room:join', { roomId: room.id });
      const arrived = new Promise<{ seq: number }>((resolve) => s.on('message:new', resolve));
      const sent = await ok<{ seq: number }>(o, 'message:send', { roomId: room.id, clientMsgId: 'right-after-join', text: 'welcome' });
      // Delivered by this node directly (the fan-out does not wait on Redis): well within the 5 s hold.
      const got = await Promise.race([arrived, new Promise<null>((r) => setTimeout(() => r(null), 4000))]);
      expect(got?.seq).toBe(sent.seq);
    } finally {
      restore();
    }
  });
});
