// Issue 11, defect 3: typing:start and typing:stop sent back to back could be handled in
// either order (each awaits its own membership check; a cold cache or a slow read let the
// stop finish first), leaving every receiver showing "typing" after the typist stopped.
// Here the start's membership read is held until the stop has had every chance to overtake it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app';
import { closeClients, connectUser, createRoom, registerUser, sendMessage, sleep } from '../helpers/chat';
import { collect, request, waitFor, type Client } from '../helpers/clients';
import { until } from '../helpers/cluster';
import { gate, startNodes } from '../helpers/nodes';

type Typing = { roomId: string; userId: string; typing: boolean };

/**
 * Resolves once every socket is subscribed to the room on its node. A socket on another node
 * than the one that served room:create is subscribed through Redis, after the ack: what is
 * broadcast before then is not theirs to receive (not what this file tests).
 */
function subscribed(pairs: Array<[TestApp, Client]>, roomId: string): Promise<unknown> {
  return until(() => pairs.every(([node, s]) => node.app.io.of('/').adapter.rooms.get(`room:${roomId}`)?.has(s.id!)), 15_000, 'room subscriptions');
}

describe('typing: one socket’s start and stop are handled in the order sent', () => {
  let nodes: TestApp[];
  beforeAll(async () => {
    // No auto-stop within the test: only the typist's own stop may end the indicator.
    nodes = await startNodes(2, { TYPING_AUTO_STOP_MS: '60000', TYPING_THROTTLE_MS: '0' });
  });
  afterEach(() => closeClients());
  afterAll(async () => {
    for (const n of nodes ?? []) await n.close();
  });

  /** A typist on node a, receivers on a and b subscribed to their room, and what each receiver sees. */
  async function typingRoom() {
    const [a, b] = nodes;
    const [typist, near, far] = await Promise.all([registerUser(a.url), registerUser(a.url), registerUser(a.url)]);
    const t = await connectUser(a.url, typist);
    const receivers = [await connectUser(a.url, near), await connectUser(b.url, far)];
    const room = await createRoom(t, { type: 'public', memberIds: [near.id, far.id] });
    await subscribed([[a, receivers[0]], [b, receivers[1]]], room.id);
    return { a, typist, t, room, receivers, seen: receivers.map((s) => collect<Typing>(s, 'typing')) };
  }

  it('a slow start is not overtaken by the stop sent after it: receivers on both nodes end on typing false', async () => {
    const { a, typist, t, room, receivers, seen } = await typingRoom();

    // The start's membership check misses the cache and its read is slow; the stop's is not held.
    a.app.chat.membershipCache.forgetLocal(room.id, typist.id);
    const slow = gate();
    const memberships = a.app.chat.repos.memberships;
    const read = memberships.get;
    let held = false;
    memberships.get = ((roomId: string, userId: string) => {
      if (held || roomId !== room.id || userId !== typist.id) return read(roomId, userId);
      held = true;
      return slow.wait().then(() => read(roomId, userId));
    }) as typeof read;

    const started = request(t, 'typing:start', { roomId: room.id });
    await slow.entered;
    const stopped = request(t, 'typing:stop', { roomId: room.id });
    // While the start is still being handled the stop is not answered (it waits its turn).
    expect(await Promise.race([stopped.then(() => 'answered'), sleep(500).then(() => 'waiting')])).toBe('waiting');
    slow.open();
    expect((await started).ok).toBe(true);
    expect((await stopped).ok).toBe(true);

    // Whatever arrives, the last word on every node is the stop.
    const after = receivers.map((s) => waitFor(s, 'message:new', (m) => m.roomId === room.id));
    await sendMessage(t, room.id, 'after typing');
    await Promise.all(after);
    await until(() => seen.every((list) => list.at(-1)?.typing === false), 10_000, 'typing false on every receiver');
    for (const list of seen) {
      expect(list).toEqual([
        { roomId: room.id, userId: typist.id, typing: true },
        { roomId: room.id, userId: typist.id, typing: false },
      ]);
    }
  });

  it('a burst of alternating starts and stops ends in the state of the last one sent, on both nodes', async () => {
    const { a, typist, t, room, seen } = await typingRoom();
    for (const last of ['typing:stop', 'typing:start'] as const) {
      a.app.chat.membershipCache.forgetLocal(room.id, typist.id);
      const acks = Array.from({ length: 20 }, (_, i) => request(t, i % 2 === 0 ? 'typing:start' : 'typing:stop', { roomId: room.id }));
      acks.push(request(t, last, { roomId: room.id }));
      for (const ack of await Promise.all(acks)) expect(ack.ok).toBe(true);
      const want = last === 'typing:start';
      await until(() => seen.every((list) => list.at(-1)?.typing === want), 15_000, `typing ${want} on every receiver`);
      // Strictly alternating: a stop never lands before the start it follows.
      for (const list of seen) list.forEach((p, i) => expect(p.typing).toBe(i % 2 === 0));
    }
  });
});
