// Delivery receipts (extension, docs/protocol.md "Delivery receipts"): message:delivered and
// POST /rooms/:roomId/delivered move a member's delivered position forward only, clamped to the
// room's lastSeq; the room hears delivery:updated, coalesced to at most one per room per
// interval, on one node and across two nodes with Redis; member lists (socket and REST) show
// read and delivered positions, so a DM can show sent / delivered / read. Members only;
// hostile input refused; the marks reach the memberships at the checkpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { eventsUntil, request, waitFor, type Client } from '../helpers/clients';
import { useNodes } from '../helpers/nodes';
import { api, CHAT_ENV, closeClients, createRoom, expectAckError, expectHttpError, isoDate, newPerson, ok, roundTrip, sendMessage, unknownObjectId, type Person } from '../helpers/chat';

// Long enough that a burst of receipts sent at once lands inside one interval.
const INTERVAL_MS = 1000;
const ENV = { ...CHAT_ENV, DELIVERY_UPDATE_INTERVAL_MS: String(INTERVAL_MS) };

interface DeliveryUpdated {
  roomId: string;
  items: Array<{ userId: string; lastDeliveredSeq: number }>;
}

const delivered = (socket: Client, roomId: string, seq: number) => ok<{ lastDeliveredSeq: number }>(socket, 'message:delivered', { roomId, seq });
const postDelivered = (url: string, token: string, roomId: string, body: unknown) => api(url, 'POST', `/api/v1/rooms/${roomId}/delivered`, { token, body });
/** The next delivery:updated of `roomId` on `socket` whose items satisfy `match`. */
const updateWhere = (socket: Client, roomId: string, match: (u: DeliveryUpdated) => boolean) => waitFor<DeliveryUpdated>(socket, 'delivery:updated', (u) => u.roomId === roomId && match(u));
const has = (u: DeliveryUpdated, userId: string, seq: number) => u.items.some((i) => i.userId === userId && i.lastDeliveredSeq === seq);

async function dm(a: Person, b: Person) {
  return ok<{ id: string }>(a.socket, 'dm:open', { userId: b.id });
}

describe('delivery receipts: one node', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(ENV);
  });
  afterAll(async () => {
    closeClients();
    await t.close();
  });

  it('a DM shows sent, delivered and read: receipts, delivery:updated and member lists agree (socket and REST)', async () => {
    const [a, b] = await Promise.all([newPerson(t.url), newPerson(t.url)]);
    const room = await dm(a, b);
    for (let i = 1; i <= 3; i++) await sendMessage(a.socket, room.id, `m${i}`);
    const members = async (socket: Client) => Object.fromEntries(((await ok(socket, 'room:members', { roomId: room.id })).items as Array<{ userId: string }>).map((m) => [m.userId, m]));
    // Sent: nothing delivered to b yet.
    expect((await members(a.socket))[b.id]).toEqual({ userId: b.id, role: 'member', joinedAt: isoDate(), online: true, lastReadSeq: 0, lastDeliveredSeq: 0 });
    expect((await members(a.socket))[a.id]).toMatchObject({ lastReadSeq: 3, lastDeliveredSeq: 3 });

    const update = updateWhere(a.socket, room.id, (u) => has(u, b.id, 3));
    expect(await delivered(b.socket, room.id, 3)).toEqual({ lastDeliveredSeq: 3 });
    expect(await update).toEqual({ roomId: room.id, items: [{ userId: b.id, lastDeliveredSeq: 3 }] });
    expect((await members(a.socket))[b.id]).toMatchObject({ lastReadSeq: 0, lastDeliveredSeq: 3 });

    // Read: read:updated as before; the list shows both.
    await ok(b.socket, 'message:read', { roomId: room.id, seq: 2 });
    expect((await members(b.socket))[b.id]).toMatchObject({ lastReadSeq: 2, lastDeliveredSeq: 3 });
    const rest = await api(t.url, 'GET', `/api/v1/rooms/${room.id}/members`, { token: a.token });
    expect(rest.status).toBe(200);
    expect(rest.body.items).toEqual((await ok(a.socket, 'room:members', { roomId: room.id })).items);
    expect(rest.body.nextCursor).toBeNull();

    // Reading past the delivered position: delivered is never below read.
    await sendMessage(a.socket, room.id, 'm4');
    await ok(b.socket, 'message:read', { roomId: room.id, seq: 4 });
    expect((await members(a.socket))[b.id]).toMatchObject({ lastReadSeq: 4, lastDeliveredSeq: 4 });
  });

  it('forward only, clamped to lastSeq, idempotent: a receipt that moves nothing announces nothing', async () => {
    const [a, b] = await Promise.all([newPerson(t.url), newPerson(t.url)]);
    const room = await dm(a, b);
    for (let i = 1; i <= 5; i++) await sendMessage(a.socket, room.id, `m${i}`);
    const first = updateWhere(a.socket, room.id, (u) => has(u, b.id, 5));
    expect(await delivered(b.socket, room.id, 1000)).toEqual({ lastDeliveredSeq: 5 });
    await first;
    const stream = eventsUntil<DeliveryUpdated>(a.socket, 'delivery:updated');
    expect(await delivered(b.socket, room.id, 5)).toEqual({ lastDeliveredSeq: 5 });
    expect(await delivered(b.socket, room.id, 2)).toEqual({ lastDeliveredSeq: 5 });
    expect(await delivered(b.socket, room.id, 0)).toEqual({ lastDeliveredSeq: 5 });
    const rest = await postDelivered(t.url, b.token, room.id, { seq: 3 });
    expect(rest.status).toBe(200);
    expect(rest.body).toEqual({ lastDeliveredSeq: 5 });
    // Marker: a receipt that moves, after the ones that did not.
    await sendMessage(a.socket, room.id, 'm6');
    await delivered(b.socket, room.id, 6);
    expect(await stream.before((u) => u.roomId === room.id && has(u, b.id, 6))).toEqual([]);
  });

  it('a burst of receipts from several members is coalesced: at most one delivery:updated per room per interval, the highest seqs', async () => {
    const [a, b, c, d] = await Promise.all([newPerson(t.url), newPerson(t.url), newPerson(t.url), newPerson(t.url)]);
    const room = await createRoom(a.socket, { type: 'private', memberIds: [b.id, c.id, d.id] });
    for (let i = 1; i <= 10; i++) await sendMessage(a.socket, room.id, `m${i}`);
    const seen: DeliveryUpdated[] = [];
    a.socket.on('delivery:updated', (u: DeliveryUpdated) => {
      if (u.roomId === room.id) seen.push(u);
    });
    const started = Date.now();
    const done = updateWhere(a.socket, room.id, () => {
      const latest = new Map(seen.flatMap((u) => u.items.map((i) => [i.userId, i.lastDeliveredSeq] as const)));
      return latest.get(b.id) === 10 && latest.get(c.id) === 10 && latest.get(d.id) === 10;
    });
    const acks = [b, c, d].flatMap((p) => Array.from({ length: 10 }, (_, i) => request(p.socket, 'message:delivered', { roomId: room.id, seq: i + 1 })));
    for (const ack of await Promise.all(acks)) expect(ack.ok).toBe(true);
    await done;
    const elapsed = Date.now() - started;
    expect(seen.length).toBeLessThanOrEqual(1 + Math.floor(elapsed / INTERVAL_MS));
    // Each user appears at most once per event, positions only grow.
    for (const u of seen) expect(new Set(u.items.map((i) => i.userId)).size).toBe(u.items.length);
  });

  it('members only: strangers, unknown rooms and kicked members are refused and hear nothing', async () => {
    const [a, b, stranger] = await Promise.all([newPerson(t.url), newPerson(t.url), newPerson(t.url)]);
    const room = await createRoom(a.socket, { type: 'private', memberIds: [b.id] });
    await sendMessage(a.socket, room.id, 'hello');
    const strangerSaw: DeliveryUpdated[] = [];
    stranger.socket.on('delivery:updated', (u: DeliveryUpdated) => strangerSaw.push(u));
    expectAckError(await request(stranger.socket, 'message:delivered', { roomId: room.id, seq: 1 }), 'FORBIDDEN');
    expectAckError(await request(stranger.socket, 'message:delivered', { roomId: unknownObjectId(), seq: 1 }), 'NOT_FOUND');
    expectHttpError(await postDelivered(t.url, stranger.token, room.id, { seq: 1 }), 'FORBIDDEN');
    expectHttpError(await postDelivered(t.url, stranger.token, unknownObjectId(), { seq: 1 }), 'NOT_FOUND');
    expectHttpError(await api(t.url, 'GET', `/api/v1/rooms/${room.id}/members`, { token: stranger.token }), 'FORBIDDEN');
    expectHttpError(await postDelivered(t.url, '', room.id, { seq: 1 }), 'UNAUTHORIZED');
    await ok(a.socket, 'room:kick', { roomId: room.id, userId: b.id });
    expectAckError(await request(b.socket, 'message:delivered', { roomId: room.id, seq: 1 }), 'FORBIDDEN');
    // a's own receipt is announced to members only.
    const seen = updateWhere(a.socket, room.id, (u) => has(u, a.id, 1));
    await delivered(a.socket, room.id, 1);
    await seen;
    await roundTrip(stranger.socket);
    expect(strangerSaw).toEqual([]);
    const list = (await ok(a.socket, 'room:members', { roomId: room.id })).items as Array<{ userId: string }>;
    expect(list.map((m) => m.userId)).toEqual([a.id]);
  });

  it('hostile input is VALIDATION_FAILED and changes nothing', async () => {
    const [a, b] = await Promise.all([newPerson(t.url), newPerson(t.url)]);
    const room = await dm(a, b);
    await sendMessage(a.socket, room.id, 'x');
    const bad: unknown[] = [
      {},
      { roomId: room.id },
      { roomId: room.id, seq: -1 },
      { roomId: room.id, seq: '1' },
      { roomId: room.id, seq: 1.5 },
      { roomId: room.id, seq: Number.MAX_SAFE_INTEGER + 2 },
      { roomId: room.id, seq: { $gt: 0 } },
      { roomId: [room.id], seq: 1 },
      { roomId: '', seq: 1 },
      { roomId: room.id, seq: 1, userId: a.id },
      'x',
      [room.id, 1],
    ];
    for (const p of bad) expectAckError(await request(b.socket, 'message:delivered', p), 'VALIDATION_FAILED');
    for (const body of [{}, { seq: -1 }, { seq: '1' }, { seq: 1, roomId: room.id }, [1]]) expectHttpError(await postDelivered(t.url, b.token, room.id, body), 'VALIDATION_FAILED');
    expectHttpError(await api(t.url, 'GET', `/api/v1/rooms/${room.id}/members?limit=0`, { token: a.token }), 'VALIDATION_FAILED');
    expectHttpError(await api(t.url, 'GET', `/api/v1/rooms/${room.id}/members?extra=1`, { token: a.token }), 'VALIDATION_FAILED');
    const list = (await ok(a.socket, 'room:members', { roomId: room.id })).items as Array<{ userId: string; lastDeliveredSeq: number }>;
    expect(list.find((m) => m.userId === b.id)!.lastDeliveredSeq).toBe(0);
  });

  it('the checkpoint writes the marks to the memberships, once per moved mark', async () => {
    const [a, b] = await Promise.all([newPerson(t.url), newPerson(t.url)]);
    const room = await dm(a, b);
    for (let i = 1; i <= 3; i++) await sendMessage(a.socket, room.id, `m${i}`);
    for (let i = 1; i <= 3; i++) await delivered(b.socket, room.id, i);
    await t.app.chat.delivery.settle();
    const stored = await t.app.chat.repos.memberships.get(room.id, b.id);
    expect(stored?.lastDeliveredSeq).toBe(3);
  });
});

describe('delivery receipts: two nodes with Redis', () => {
  const nodes = useNodes(2, { DELIVERY_UPDATE_INTERVAL_MS: String(INTERVAL_MS) });

  it('receipts on either node, by socket or REST, reach members on both; one announcement per interval for the room', async () => {
    const [a, b, c] = await Promise.all([newPerson(nodes[0].url), newPerson(nodes[1].url), newPerson(nodes[0].url)]);
    const room = await createRoom(a.socket, { type: 'private', memberIds: [b.id, c.id] });
    for (let i = 1; i <= 4; i++) await sendMessage(a.socket, room.id, `m${i}`);
    const seen: DeliveryUpdated[] = [];
    a.socket.on('delivery:updated', (u: DeliveryUpdated) => {
      if (u.roomId === room.id) seen.push(u);
    });
    const started = Date.now();
    const both = updateWhere(a.socket, room.id, () => {
      const latest = new Map(seen.flatMap((u) => u.items.map((i) => [i.userId, i.lastDeliveredSeq] as const)));
      return latest.get(b.id) === 4 && latest.get(c.id) === 3;
    });
    const onB = updateWhere(b.socket, room.id, (u) => has(u, b.id, 4) || has(u, c.id, 3));
    // b's receipts on node1 (socket and REST), c's on node0, all at once.
    const acks = await Promise.all([
      request(b.socket, 'message:delivered', { roomId: room.id, seq: 2 }),
      postDelivered(nodes[1].url, b.token, room.id, { seq: 4 }),
      request(c.socket, 'message:delivered', { roomId: room.id, seq: 3 }),
    ]);
    expect(acks[0].ok && acks[1].status === 200 && acks[2].ok).toBe(true);
    await both;
    await onB;
    expect(seen.length).toBeLessThanOrEqual(1 + Math.floor((Date.now() - started) / INTERVAL_MS));
    // Either node's member list shows the same positions (the marks are in Redis).
    for (const [node, p] of [[nodes[0], a], [nodes[1], b]] as const) {
      const res = await api(node.url, 'GET', `/api/v1/rooms/${room.id}/members`, { token: p.token });
      const by = Object.fromEntries(res.body.items.map((m: { userId: string; lastDeliveredSeq: number }) => [m.userId, m.lastDeliveredSeq]));
      expect(by).toEqual({ [a.id]: 4, [b.id]: 4, [c.id]: 3 });
    }
    // A receipt on node1 is idempotent on node0 too.
    expect(await delivered(a.socket, room.id, 4)).toEqual({ lastDeliveredSeq: 4 });
    expect(await ok(c.socket, 'message:delivered', { roomId: room.id, seq: 1 })).toEqual({ lastDeliveredSeq: 3 });
    // The checkpoint of any node writes the memberships.
    await Promise.all(nodes.map((n) => n.app.chat.delivery.settle()));
    expect((await nodes[0].app.chat.repos.memberships.get(room.id, b.id))?.lastDeliveredSeq).toBe(4);
  });
});

