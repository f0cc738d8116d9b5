// A client that stops reading cannot make the server hold its output without bound: above
// SOCKET_DROP_VOLATILE_BYTES typing and presence are not queued for it, above
// MAX_SOCKET_BUFFER_BYTES it is cut off, while healthy sockets in the same room get
// everything, typing included, even in bursts. Every message goes through the real send path
// (`message:send` from a client: validated, stored, fanned out), not an emit from the test.
import crypto from 'node:crypto';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppSocket } from '../../server/src/socket/types';
import { startTestApp, type TestApp } from '../helpers/app';
import { CHAT_ENV, closeClients, connectUser, createRoom, newPerson, ok, sleep, type Person, type Room } from '../helpers/chat';
import { collect, type Client } from '../helpers/clients';
import { until } from '../helpers/cluster';

const MAX = 256 * 1024;
const DROP = 32 * 1024;

/** Stops reading the client's TCP socket: the kernel buffers fill, then the server's. */
function stopReading(client: Client): net.Socket {
  const raw = (client.io.engine as any).transport.ws._socket as net.Socket;
  raw.pause();
  return raw;
}

function serverSocket(t: TestApp, userId: string, not: Set<string> = new Set()): AppSocket {
  const found = [...t.app.io.of('/').sockets.values()].filter((s) => s.data.userId === userId && !not.has(s.id));
  if (found.length !== 1) throw new Error(`expected one server socket for ${userId}, found ${found.length}`);
  return found[0];
}

/** Bytes the server holds for a socket: engine.io's write buffer plus ws's bufferedAmount. */
function backlog(s: AppSocket): number {
  const conn = s.conn as any;
  const queued = (conn.writeBuffer as Array<{ data?: string; options?: { wsPreEncodedFrame?: Buffer[] } }>).reduce((n, p) => {
    const frame = p.options?.wsPreEncodedFrame;
    return n + (frame ? frame.reduce((m, b) => m + b.length, 0) : typeof p.data === 'string' ? Buffer.byteLength(p.data) : 0);
  }, 0);
  return queued + (conn.transport.socket?.bufferedAmount ?? 0);
}

async function metric(t: TestApp, name: string): Promise<number> {
  const m = t.app.deps.metrics.registry.getSingleMetric(name);
  return m ? (await m.get()).values.reduce((n, v) => n + v.value, 0) : 0;
}

describe('abuse: slow consumers', () => {
  let t: TestApp;
  let sender: Person;
  let healthy: Person;
  let room: Room;
  const bigText = '😀'.repeat(4000); // 16 KB of UTF-8: the largest text a message may carry

  /** `n` of the largest messages sent at once by `sender` through `message:send`; their seqs once all are acked. */
  const flood = async (n: number): Promise<number[]> => {
    const acks = await Promise.all(Array.from({ length: n }, () => ok(sender.socket, 'message:send', { roomId: room.id, clientMsgId: `flood-${crypto.randomUUID()}`, text: bigText })));
    return acks.map((m) => m.seq as number);
  };

  /** The largest backlog seen for `s`, sampled right after every packet the server queues for it. */
  const watchBacklog = (s: AppSocket) => {
    const seen = { max: 0 };
    (s.conn as any).on('packetCreate', () => queueMicrotask(() => (seen.max = Math.max(seen.max, backlog(s)))));
    return seen;
  };

  /** Waits (generously) until `received` holds `n` items. */
  const arrived = async (received: unknown[], n: number) => {
    const deadline = Date.now() + 20_000;
    while (received.length < n && Date.now() < deadline) await sleep(20);
  };

  beforeAll(async () => {
    t = await startTestApp({ ...CHAT_ENV, MAX_SOCKET_BUFFER_BYTES: String(MAX), SOCKET_DROP_VOLATILE_BYTES: String(DROP), TYPING_THROTTLE_MS: '0' });
    [sender, healthy] = await Promise.all([newPerson(t.url), newPerson(t.url)]);
    room = await createRoom(sender.socket, { type: 'public' });
    await ok(healthy.socket, 'room:join', { roomId: room.id });
  });
  afterAll(async () => {
    closeClients();
    await t.close();
  });

  it('a socket that stops reading is disconnected once its backlog passes MAX_SOCKET_BUFFER_BYTES; the backlog never grows past it', async () => {
    const slowUser = await newPerson(t.url);
    await ok(slowUser.socket, 'room:join', { roomId: room.id });
    const server = serverSocket(t, slowUser.id);
    const received = collect(healthy.socket, 'message:new');
    stopReading(slowUser.socket);
    const cutBefore = await metric(t, 'chat_slow_consumer_disconnects_total');
    const seen = watchBacklog(server);

    const seqs: number[] = [];
    // Up to 64 MiB: far beyond what the kernel buffers absorb, so without the guard the
    // server would hold tens of MiB for this socket.
    while (server.connected && seqs.length < 4096) seqs.push(...(await flood(8)));
    const sent = seqs.length;
    expect(server.connected, `still connected after ${sent} messages (${sent * 16} KiB)`).toBe(false);
    // The cap, one packet let through below it, and the packet that got the socket cut off.
    expect(seen.max).toBeGreaterThan(DROP);
    expect(seen.max).toBeLessThanOrEqual(MAX + 2 * 17 * 1024);
    expect(await metric(t, 'chat_slow_consumer_disconnects_total')).toBe(cutBefore + 1);
    // The engine connection is gone too, with its buffers.
    await until(() => (server.conn as any).readyState === 'closed', 10_000, 'engine connection closed');
    expect(t.app.io.of('/').sockets.has(server.id)).toBe(false);

    // The healthy member of the same room got every message, in order.
    await arrived(received, sent);
    expect(received.map((m) => m.seq)).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.length).toBe(new Set(seqs).size);
    expect(Math.max(...seqs) - Math.min(...seqs)).toBe(sent - 1);
  });

  it('above SOCKET_DROP_VOLATILE_BYTES typing events are not queued for the slow socket; messages still are, and it recovers when it reads again', async () => {
    const slowUser = await newPerson(t.url);
    await ok(slowUser.socket, 'room:join', { roomId: room.id });
    const server = serverSocket(t, slowUser.id);
    const raw = stopReading(slowUser.socket);
    const slowMessages = collect(slowUser.socket, 'message:new');
    const slowTyping = collect(slowUser.socket, 'typing');
    const healthyTyping = collect(healthy.socket, 'typing');
    const healthyMessages = collect(healthy.socket, 'message:new');

    // Back the socket up past the drop threshold, well short of the cut-off (two messages at a
    // time: at most 2 x 17 KiB more once the threshold is passed).
    const seqs: number[] = [];
    while (backlog(server) <= DROP + 16 * 1024 && seqs.length < 4096) seqs.push(...(await flood(2)));
    const sent = seqs.length;
    // Every message is out of the fan-out (the healthy socket has them all), so nothing more is
    // queued for the slow socket while its typing is checked.
    await arrived(healthyMessages, sent);
    expect(healthyMessages).toHaveLength(sent);
    expect(server.connected).toBe(true);
    expect(backlog(server)).toBeLessThan(MAX);
    const droppedBefore = await metric(t, 'chat_volatile_dropped_total');
    const queuedBefore = (server.conn as any).writeBuffer.length;

    sender.socket.emit('typing:start', { roomId: room.id });
    sender.socket.emit('typing:stop', { roomId: room.id });
    while (healthyTyping.length < 2) await sleep(10);
    expect(healthyTyping.map((e) => e.typing)).toEqual([true, false]);
    expect(await metric(t, 'chat_volatile_dropped_total')).toBeGreaterThanOrEqual(droppedBefore + 2);
    expect((server.conn as any).writeBuffer.length).toBe(queuedBefore);

    // Reading again: every message arrives, the dropped typing events do not, the socket stays.
    raw.resume();
    await arrived(slowMessages, sent);
    expect(slowMessages.map((m) => m.seq)).toEqual([...seqs].sort((a, b) => a - b));
    expect(slowTyping).toEqual([]);
    expect(slowUser.socket.connected).toBe(true);
    // Once drained, typing reaches it again.
    sender.socket.emit('typing:start', { roomId: room.id });
    await arrived(slowTyping, 1);
    expect(slowTyping).toEqual([{ roomId: room.id, userId: sender.id, typing: true }]);
    sender.socket.emit('typing:stop', { roomId: room.id });
  });

  it('one answer larger than the cap (a history page of 100 of the longest messages) is delivered; the socket stays', async () => {
    const reader = await newPerson(t.url);
    const big = await createRoom(reader.socket, { type: 'public' });
    for (let i = 0; i < 100; i += 10) await Promise.all(Array.from({ length: 10 }, () => ok(reader.socket, 'message:send', { roomId: big.id, clientMsgId: `big-${crypto.randomUUID()}`, text: bigText })));
    const page = await ok(reader.socket, 'message:history', { roomId: big.id, limit: 100 });
    expect(page.items).toHaveLength(100);
    expect(Buffer.byteLength(JSON.stringify(page))).toBeGreaterThan(MAX);
    expect(reader.socket.connected).toBe(true);
    expect((await ok(reader.socket, 'room:list', {})).items.length).toBeGreaterThan(0);
  });

  it('a healthy socket gets every typing and presence event even in bursts mixed with messages', async () => {
    const watcher = await newPerson(t.url);
    await ok(watcher.socket, 'room:join', { roomId: room.id });
    const typing = collect(watcher.socket, 'typing');
    const messages = collect(watcher.socket, 'message:new');
    const presence = collect(watcher.socket, 'presence:updated');
    let sent = 0;
    // A member coming online while the burst runs: presence:updated to the watcher.
    const lateUser = await newPerson(t.url);
    await ok(lateUser.socket, 'room:join', { roomId: room.id });
    lateUser.socket.close();
    const droppedBefore = await metric(t, 'chat_volatile_dropped_total');
    for (let i = 0; i < 50; i++) {
      // Two messages in flight with each typing request; typing requests are acked one by one
      // (two in flight at once may be handled in either order).
      const messagesSent = flood(2);
      await ok(sender.socket, i % 2 === 0 ? 'typing:start' : 'typing:stop', { roomId: room.id });
      sent += (await messagesSent).length;
    }
    // Offline comes PRESENCE_GRACE_MS after the close (the burst may be over by then); only then
    // does a reconnect announce online again (within the grace period it would not be news).
    let deadline = Date.now() + 10_000;
    while (!presence.some((p) => p.userId === lateUser.id && p.status === 'offline') && Date.now() < deadline) await sleep(20);
    const second = await connectUser(t.url, lateUser);
    sent += (await flood(10)).length;
    deadline = Date.now() + 20_000;
    while ((typing.length < 50 || messages.length < sent || presence.filter((p) => p.userId === lateUser.id).length < 2) && Date.now() < deadline) await sleep(20);
    expect(messages.length).toBe(sent);
    expect(await metric(t, 'chat_volatile_dropped_total')).toBe(droppedBefore);
    expect(typing.map((e) => e.typing)).toEqual(Array.from({ length: 50 }, (_, i) => i % 2 === 0));
    expect(presence.filter((p) => p.userId === lateUser.id).map((p) => p.status)).toEqual(expect.arrayContaining(['offline', 'online']));
    second.close();
  });
});
