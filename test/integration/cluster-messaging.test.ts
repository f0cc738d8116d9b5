// Three server processes on one database and one Redis behave as one server:
// delivery, ordering, membership changes, presence, rate limits and idempotency
// across nodes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect, request, waitFor, type Client } from '../helpers/clients';
import { api, closeClients, cmid, connectUser, createRoom, ok, registerUser, sendMessage, type Message, type TestUser } from '../helpers/chat';
import { TestCluster, until } from '../helpers/cluster';

const RATE_LIMIT = 30;

type Presence = { userId: string; status: 'online' | 'offline'; lastSeenAt: string | null };

const GRACE_MS = 3000;

describe('cluster: three nodes behave as one', () => {
  let cluster: TestCluster;
  let urls: string[];
  beforeAll(async () => {
    // The adapter mode comes from TEST_REDIS_ADAPTER (see CLUSTER_ENV).
    // A grace period long enough for a close and a reconnect to another node on a loaded machine.
    cluster = await TestCluster.start({ nodes: 3, env: { RATE_LIMIT_MESSAGES: String(RATE_LIMIT), RATE_LIMIT_WINDOW_MS: '60000', PRESENCE_GRACE_MS: String(GRACE_MS) } });
    urls = cluster.urls;
  });
  afterEach((ctx) => {
    closeClients();
    if (ctx.task.result?.state === 'fail') process.stderr.write(cluster.logs());
  });
  afterAll(() => cluster?.close());

  const user = () => registerUser(urls[0]);
  /** One socket of `u` on each of the given nodes. */
  const sockets = (u: TestUser, nodes: number[]) => Promise.all(nodes.map((n) => connectUser(urls[n], u)));

  /** Resolves with the seqs of the first `n` message:new of `roomId` on `socket`. */
  function receive(socket: Client, roomId: string, n: number, timeoutMs = 15_000): Promise<Message[]> {
    return new Promise((resolve, reject) => {
      const got: Message[] = [];
      const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${n} messages`)), timeoutMs);
      socket.on('message:new', (m: Message) => {
        if (m.roomId !== roomId) return;
        got.push(m);
        if (got.length === n) {
          clearTimeout(timer);
          resolve(got);
        }
      });
    });
  }

  it('delivers every message to every member socket on every node, each in seq order, with senders on all nodes', async () => {
    const [a, b, c] = await Promise.all([user(), user(), user()]);
    const [a1, a3] = await sockets(a, [0, 2]);
    const [b2] = await sockets(b, [1]);
    const [c3] = await sockets(c, [2]);
    const room = await createRoom(a1, { type: 'public' });
    await ok(b2, 'room:join', { roomId: room.id });
    await ok(c3, 'room:join', { roomId: room.id });
    const N = 20;
    const receivers = [a1, a3, b2, c3];
    const inbox = receivers.map((s) => receive(s, room.id, 3 * N));
    const extra = receivers.map((s) => collect<Message>(s, 'message:new'));
    // Three senders on three nodes, all at once: seqs interleave across nodes.
    const acked = await Promise.all([a1, b2, c3].flatMap((s, k) => Array.from({ length: N }, (_, i) => sendMessage(s, room.id, `n${k}-${i}`))));
    const seqs = acked.map((m) => m.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 3 * N }, (_, i) => i + 1));
    for (const got of await Promise.all(inbox)) {
      expect(got.map((m) => m.seq)).toEqual(seqs);
      expect(got).toEqual([...acked].sort((x, y) => x.seq - y.seq));
    }
    // Nothing more arrives (no duplicates from peers or retries): one more message from each
    // node, and every socket holds each seq once, in order, once those are in (a late duplicate
    // from a node's publisher would come before that node's next message).
    const markers = await Promise.all([a1, b2, c3].map((s, k) => sendMessage(s, room.id, `marker-${k}`)));
    const all = Array.from({ length: 3 * N + 3 }, (_, i) => i + 1);
    await until(() => extra.every((list) => markers.every((m) => list.some((x) => x.id === m.id))), 15_000, 'the markers everywhere');
    for (const list of extra) expect(list.map((m) => m.seq)).toEqual(all);
  });

  it('delivers a REST-sent message to sockets on every node', async () => {
    const [a, b] = await Promise.all([user(), user()]);
    const [a1, a2, a3] = await sockets(a, [0, 1, 2]);
    const [b3] = await sockets(b, [2]);
    const room = await createRoom(a1, { type: 'public' });
    await ok(b3, 'room:join', { roomId: room.id });
    const got = [a1, a2, a3, b3].map((s) => waitFor<Message>(s, 'message:new', (m) => m.roomId === room.id));
    const res = await api(urls[1], 'POST', `/api/v1/rooms/${room.id}/messages`, { token: b.token, body: { clientMsgId: cmid(), text: 'over REST' } });
    expect(res.status).toBe(201);
    for (const m of await Promise.all(got)) expect(m).toEqual(res.body);
  });

  it('an invite, a join and a kick on one node act on the user’s sockets on the other nodes at once', async () => {
    const [owner, u] = await Promise.all([user(), user()]);
    const [o1] = await sockets(owner, [0]);
    const [u2, u3] = await sockets(u, [1, 2]);
    const room = await createRoom(o1, { type: 'private' });

    const invited = [u2, u3].map((s) => waitFor(s, 'room:invited', (p) => p.roomId === room.id));
    await ok(o1, 'room:invite', { roomId: room.id, userId: u.id });
    for (const p of await Promise.all(invited)) expect(p).toEqual({ roomId: room.id, by: owner.id });

    // Joined through node 3: the socket on node 2 is subscribed before the next send.
    const first = [u2, u3].map((s) => waitFor<Message>(s, 'message:new', (m) => m.roomId === room.id));
    await ok(u3, 'room:join', { roomId: room.id });
    const m1 = await sendMessage(o1, room.id, 'right after the join');
    for (const m of await Promise.all(first)) expect(m).toEqual(m1);

    // Kicked on node 1: both sockets hear it, then nothing more from the room.
    const left = [u2, u3].map((s) => waitFor(s, 'room:member_left', (p) => p.roomId === room.id && p.userId === u.id));
    await ok(o1, 'room:kick', { roomId: room.id, userId: u.id });
    await Promise.all(left);
    const after = [u2, u3].map((s) => collect<Message>(s, 'message:new'));
    const ownerGot = waitFor<Message>(o1, 'message:new', (m) => m.text === 'after the kick');
    await sendMessage(o1, room.id, 'after the kick');
    await ownerGot;
    const typing = [u2, u3].map((s) => collect(s, 'typing'));
    o1.emit('typing:start', { roomId: room.id });
    // An invitation published after the typing reaches both sockets after it would have.
    const reinvited = [u2, u3].map((s) => waitFor(s, 'room:invited', (p) => p.roomId === room.id));
    await ok(o1, 'room:invite', { roomId: room.id, userId: u.id });
    await Promise.all(reinvited);
    for (const list of typing) expect(list).toEqual([]);
    for (const list of after) expect(list.filter((m) => m.roomId === room.id)).toEqual([]);
  });

  it('presence: online while any socket anywhere is connected, one update per change to room-mates only, lastSeenAt when offline', async () => {
    const [p, watcher, stranger] = await Promise.all([user(), user(), user()]);
    const [w3] = await sockets(watcher, [2]);
    const [s1] = await sockets(stranger, [0]);
    // Two shared rooms: the watcher still gets one update per change (coalesced).
    const r1 = await createRoom(w3, { type: 'public', memberIds: [p.id] });
    await createRoom(w3, { type: 'public', memberIds: [p.id] });
    const updates = collect<Presence>(w3, 'presence:updated');
    const strangerUpdates = collect<Presence>(s1, 'presence:updated');
    const mine = () => updates.filter((x) => x.userId === p.id);

    const witness = await user();
    const [wi1] = await sockets(witness, [0]);
    await ok(wi1, 'room:join', { roomId: r1.id });
    const [p1] = await sockets(p, [0]);
    await until(() => mine().length === 1, 5000, 'online update');
    expect(mine()[0]).toMatchObject({ userId: p.id, status: 'online' });
    const [p2] = await sockets(p, [1]);
    const get = async (via: Client) => ((await ok(via, 'presence:get', { userIds: [p.id] })).items[0] as Presence);
    expect((await get(w3)).status).toBe('online');

    // The socket on node 1 goes: still online through node 2, and no update.
    // The witness's only socket closes after p1: once its offline reaches the watcher, one for
    // p (same grace, started earlier) would have too.
    p1.close();
    wi1.close();
    await until(() => updates.some((x) => x.userId === witness.id && x.status === 'offline'), GRACE_MS + 15_000, 'witness offline');
    expect((await get(w3)).status).toBe('online');
    expect(mine()).toHaveLength(1);
    const members = await ok(w3, 'room:members', { roomId: r1.id });
    expect(members.items.find((m: { userId: string }) => m.userId === p.id).online).toBe(true);

    // The last socket goes: offline within the contract's 10 s, with lastSeenAt.
    const closedAt = Date.now();
    p2.close();
    const offline = await until(() => mine().find((x) => x.status === 'offline'), 15_000, 'offline update');
    expect(Date.now() - closedAt).toBeLessThan(10_000);
    expect(offline.lastSeenAt).not.toBeNull();
    expect(new Date(offline.lastSeenAt!).getTime()).toBeGreaterThanOrEqual(closedAt - 1000);
    expect(mine()).toHaveLength(2);
    const seen = await get(w3);
    expect(seen).toEqual({ userId: p.id, status: 'offline', lastSeenAt: offline.lastSeenAt });
    expect(strangerUpdates.filter((x) => x.userId === p.id)).toEqual([]);
  });

  it('a reconnect to another node within the grace period does not flap', async () => {
    const [p, watcher, witness] = await Promise.all([user(), user(), user()]);
    const [w1] = await sockets(watcher, [0]);
    const [wi2] = await sockets(witness, [1]);
    await createRoom(w1, { type: 'public', memberIds: [p.id, witness.id] });
    const updates = collect<Presence>(w1, 'presence:updated');
    const mine = () => updates.filter((x) => x.userId === p.id);
    const [p2] = await sockets(p, [1]);
    await until(() => mine().length === 1, 15_000, 'online update');
    const closedAt = Date.now();
    p2.close();
    await sockets(p, [2]);
    const reconnectMs = Date.now() - closedAt;
    // The witness leaves after p is back: its offline, once announced, comes after p's would have.
    wi2.close();
    await until(() => updates.some((x) => x.userId === witness.id && x.status === 'offline'), GRACE_MS + 15_000, 'witness offline');
    if (reconnectMs < GRACE_MS) expect(mine().map((x) => x.status)).toEqual(['online']);
  });

  it('rate limits hold across nodes', async () => {
    const a = await user();
    const [a1, a2, a3] = await sockets(a, [0, 1, 2]);
    const room = await createRoom(a1, { type: 'public' });
    const sent = await Promise.all(Array.from({ length: RATE_LIMIT }, (_, i) => sendMessage([a1, a2, a3][i % 3], room.id, `r${i}`)));
    expect(sent).toHaveLength(RATE_LIMIT);
    for (const s of [a1, a2, a3]) {
      const ack = await request(s, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'one too many' });
      expect(ack.ok).toBe(false);
      expect(ack.error!.code).toBe('RATE_LIMITED');
      expect(ack.error!.details.retryAfterMs).toBeGreaterThan(0);
    }
  });

  it('the same clientMsgId arriving on three nodes at once stores and delivers one message', async () => {
    const [a, b] = await Promise.all([user(), user()]);
    const [a1, a2, a3] = await sockets(a, [0, 1, 2]);
    const [b1, b2] = await sockets(b, [0, 1]);
    const room = await createRoom(a1, { type: 'public' });
    await ok(b2, 'room:join', { roomId: room.id });
    const inboxes = [b1, b2, a3].map((s) => collect<Message>(s, 'message:new'));
    const clientMsgId = cmid('race');
    const acks = await Promise.all([a1, a2, a3, a1, a2, a3].map((s) => request<Message>(s, 'message:send', { roomId: room.id, clientMsgId, text: 'once' })));
    for (const x of acks) expect(x).toEqual({ ok: true, data: acks[0].data });
    await until(() => inboxes.every((l) => l.length >= 1), 15_000, 'delivery');
    // A later message, sent after every ack (a retry re-announces before acking), arrives after any duplicate.
    const marker = await sendMessage(a1, room.id, 'marker');
    await until(() => inboxes.every((l) => l.some((m) => m.id === marker.id)), 15_000, 'marker delivery');
    for (const list of inboxes) expect(list).toEqual([acks[0].data, marker]);
    const page = await ok(b1, 'message:history', { roomId: room.id });
    expect(page.items).toEqual([acks[0].data, marker]);
  });
});
