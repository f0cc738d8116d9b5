// Ordering and idempotency under concurrency, and recovery after a disconnect
// ("Ordering and recovery" in the contract).
import { describe, expect, it } from 'vitest';
import { collect, request, waitFor, type Client } from '../helpers/clients';
import {
  api,
  cmid,
  connectUser,
  createRoom,
  history,
  newPerson,
  ok,
  pageAfter,
  sendMessage,
  sleep,
  type Message,
  type Person,
} from '../helpers/chat';
import { useChatApp } from '../helpers/chat-app';
import { until } from '../helpers/cluster';

describe('chat: concurrency, ordering and recovery', () => {
  const t = useChatApp();

  const person = () => newPerson(t.url);

  it('the same clientMsgId sent 10× concurrently stores one message; every ack has its id; one broadcast', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    const a2 = await connectUser(t.url, a);
    const room = await createRoom(a.socket, { type: 'public' });
    await ok(b.socket, 'room:join', { roomId: room.id });
    const received = collect<Message>(b.socket, 'message:new');
    const clientMsgId = cmid('dup');
    const acks = await Promise.all(
      Array.from({ length: 10 }, (_, i) => request<Message>(i % 2 ? a2 : a.socket, 'message:send', { roomId: room.id, clientMsgId, text: 'only once' })),
    );
    for (const ack of acks) expect(ack.ok, JSON.stringify(ack)).toBe(true);
    const first = acks[0].data!;
    for (const ack of acks) expect(ack.data).toEqual(first);
    expect(first.seq).toBe(1);
    expect((await history(b.socket, room.id)).items).toEqual([first]);
    // The next message comes after any duplicate broadcast: b has the first one once before it.
    const after = await sendMessage(a.socket, room.id, 'next');
    expect(after.seq).toBe(2);
    await until(() => received.some((m) => m.id === after.id), 10_000, 'the next message');
    expect(received.filter((m) => m.roomId === room.id)).toEqual([first, after]);
  });

  it('many distinct duplicated sends at once: one message per clientMsgId, seqs gap-free', async () => {
    const a = await person();
    const room = await createRoom(a.socket, { type: 'public' });
    const ids = Array.from({ length: 15 }, () => cmid('multi'));
    const acks = await Promise.all(ids.flatMap((id) => [0, 1, 2].map(() => request<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId: id, text: id }))));
    for (const ack of acks) expect(ack.ok, JSON.stringify(ack)).toBe(true);
    const byId = new Map<string, Set<string>>();
    for (const ack of acks) {
      const m = ack.data!;
      expect(m.text).toBe(m.clientMsgId);
      if (!byId.has(m.clientMsgId)) byId.set(m.clientMsgId, new Set());
      byId.get(m.clientMsgId)!.add(m.id);
    }
    for (const id of ids) expect(byId.get(id)!.size).toBe(1);
    const items = (await history(a.socket, room.id, { limit: 100 })).items;
    expect(items.map((m) => m.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(items.map((m) => m.clientMsgId).sort()).toEqual([...ids].sort());
  });

  it('concurrent senders: seqs 1..N unique and gap-free; every socket gets message:new in strictly increasing seq', async () => {
    const senders: Person[] = await Promise.all(Array.from({ length: 5 }, () => person()));
    const listeners: Person[] = await Promise.all(Array.from({ length: 2 }, () => person()));
    const room = await createRoom(senders[0].socket, { type: 'public' });
    for (const p of [...senders.slice(1), ...listeners]) await ok(p.socket, 'room:join', { roomId: room.id });
    const extra = await connectUser(t.url, listeners[0]);
    const sockets: Client[] = [...senders.map((p) => p.socket), ...listeners.map((p) => p.socket), extra];
    const streams = sockets.map((s) => collect<Message>(s, 'message:new'));
    const PER_SENDER = 20;
    const N = senders.length * PER_SENDER;
    const acked: Message[] = [];
    await Promise.all(
      senders.map(async (p, si) => {
        // Each sender keeps several requests in flight, like a busy client.
        const pending: Promise<Message>[] = [];
        for (let i = 0; i < PER_SENDER; i++) {
          pending.push(sendMessage(p.socket, room.id, `s${si}-${i}`));
          if (i % 5 === 4) acked.push(...(await Promise.all(pending.splice(0))));
        }
        acked.push(...(await Promise.all(pending)));
      }),
    );
    expect(acked.map((m) => m.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    // One more message: any duplicate of the first N reaches a socket before it.
    const marker = await sendMessage(senders[0].socket, room.id, 'marker');
    acked.push(marker);
    await until(() => streams.every((s) => s.some((m) => m.id === marker.id)), 20_000, 'every socket to get the marker');
    const byId = new Map(acked.map((m) => [m.id, m]));
    for (const [i, stream] of streams.entries()) {
      const seqs = stream.filter((m) => m.roomId === room.id).map((m) => m.seq);
      expect(seqs, `socket ${i} receives every message once, in seq order`).toEqual(Array.from({ length: N + 1 }, (_, k) => k + 1));
      for (const m of stream) expect(m).toEqual(byId.get(m.id));
    }
    const all = await pageAfter(listeners[1].socket, room.id, 0, 100);
    expect(all.map((m) => m.seq)).toEqual(Array.from({ length: N + 1 }, (_, k) => k + 1));
    expect(new Set(all.map((m) => m.id)).size).toBe(N + 1);
  });

  it('REST posts and socket sends interleaved: one gap-free seq line, in order on every socket', async () => {
    const [a, b, watcher] = await Promise.all([person(), person(), person()]);
    const room = await createRoom(a.socket, { type: 'public' });
    await ok(b.socket, 'room:join', { roomId: room.id });
    await ok(watcher.socket, 'room:join', { roomId: room.id });
    const streams = [a.socket, b.socket, watcher.socket].map((s) => collect<Message>(s, 'message:new'));
    const viaRest = async (p: Person, i: number) => {
      const res = await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: p.token, body: { clientMsgId: cmid(), text: `rest-${i}` } });
      expect(res.status).toBe(201);
      return res.body as Message;
    };
    const acked = (await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? viaRest(i % 4 === 1 ? a : b, i) : sendMessage(i % 4 === 0 ? a.socket : b.socket, room.id, `sock-${i}`))))).sort((x, y) => x.seq - y.seq);
    expect(acked.map((m) => m.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // One more message: any duplicate of the first 40 reaches a socket before it.
    const marker = await sendMessage(a.socket, room.id, 'marker');
    await until(() => streams.every((s) => s.some((m) => m.id === marker.id)), 20_000, 'every socket to get the marker');
    for (const stream of streams) expect(stream).toEqual([...acked, marker]);
  });

  it('a client that disconnects mid-stream recovers every message exactly once by paging afterSeq', async () => {
    const [a, b, reader] = await Promise.all([person(), person(), person()]);
    const room = await createRoom(a.socket, { type: 'public' });
    await ok(b.socket, 'room:join', { roomId: room.id });
    await ok(reader.socket, 'room:join', { roomId: room.id });

    const held = new Map<number, Message>();
    reader.socket.on('message:new', (m: Message) => {
      if (m.roomId === room.id) held.set(m.seq, m);
    });

    let stop = false;
    const acked: Message[] = [];
    const pump = async (p: Person, tag: string) => {
      for (let i = 0; !stop || i < 5; i++) {
        acked.push(await sendMessage(p.socket, room.id, `${tag}-${i}`));
        if (i >= 200) break;
      }
    };
    const pumps = [pump(a, 'a'), pump(b, 'b')];
    // Let the reader see some live messages, then drop it while the others keep sending.
    await waitFor(reader.socket, 'message:new', () => held.size >= 10, 10_000);
    reader.socket.disconnect();
    await sleep(300);
    const fresh = await connectUser(t.url, reader);
    fresh.on('message:new', (m: Message) => {
      if (m.roomId === room.id && !held.has(m.seq)) held.set(m.seq, m);
    });
    // Recover while the stream is still running: page afterSeq from the highest seq held, small pages.
    let after = Math.max(...held.keys());
    for (let guard = 0; guard < 1000; guard++) {
      const page = await history(fresh, room.id, { afterSeq: after, limit: 7 });
      for (const m of page.items) {
        expect(m.seq).toBeGreaterThan(after);
        held.set(m.seq, m);
        after = m.seq;
      }
      if (!page.hasMore) break;
    }
    stop = true;
    await Promise.all(pumps);
    await until(() => held.size >= acked.length, 10_000, 'the last live messages');
    // Live delivery on the new socket plus the pages cover everything: no gap-filling needed.
    const total = acked.length;
    expect([...held.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const byId = new Map(acked.map((m) => [m.id, m]));
    for (const m of held.values()) expect(m).toEqual(byId.get(m.id));
  });

  it('paging afterSeq while others send returns each message exactly once, ascending', async () => {
    const [a, b, reader] = await Promise.all([person(), person(), person()]);
    const room = await createRoom(a.socket, { type: 'public' });
    await ok(b.socket, 'room:join', { roomId: room.id });
    await ok(reader.socket, 'room:join', { roomId: room.id });
    await Promise.all([0, 1, 2, 3, 4].map((i) => sendMessage(a.socket, room.id, `pre-${i}`)));
    let stop = false;
    const acked: Message[] = [];
    const pump = async (p: Person) => {
      for (let i = 0; !stop && i < 200; i++) acked.push(await sendMessage(p.socket, room.id, `live-${i}`));
    };
    const pumps = [pump(a), pump(b)];
    const seen: Message[] = [];
    let after = 0;
    for (let guard = 0; guard < 1000; guard++) {
      const page = await history(reader.socket, room.id, { afterSeq: after, limit: 3 });
      expect(page.items.map((m) => m.seq)).toEqual(page.items.map((_, i) => after + i + 1));
      seen.push(...page.items);
      if (page.items.length) after = page.items[page.items.length - 1].seq;
      if (!page.hasMore) break;
      await sleep(5);
    }
    stop = true;
    await Promise.all(pumps);
    const rest = await pageAfter(reader.socket, room.id, after, 3);
    const all = [...seen, ...rest];
    expect(all.map((m) => m.seq)).toEqual(Array.from({ length: 5 + acked.length }, (_, i) => i + 1));
  });
});
