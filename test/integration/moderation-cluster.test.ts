// Room moderation across two nodes sharing a database and Redis: a mute, a ban's expiry, slow
// mode and the audit log hold whichever node the moderator and the member use.
import { describe, expect, it } from 'vitest';
import { cmid, connectUser, createRoom, expectAckError, ok, registerUser, sendMessage, type TestUser } from '../helpers/chat';
import { request, waitFor, type Client } from '../helpers/clients';
import { useNodes } from '../helpers/nodes';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('room moderation across two nodes', () => {
  const nodes = useNodes(2);

  /** A user with one socket on each node. */
  async function user(): Promise<TestUser & { n0: Client; n1: Client }> {
    const u = await registerUser(nodes[0].url);
    return { ...u, n0: await connectUser(nodes[0].url, u), n1: await connectUser(nodes[1].url, u) };
  }
  const send = (s: Client, roomId: string, text = 'hi') => request(s, 'message:send', { roomId, clientMsgId: cmid(), text });

  it('a mute set on one node refuses sends on the other at once, and its lifting too', async () => {
    const [owner, alice] = await Promise.all([user(), user()]);
    const room = await createRoom(owner.n0, { type: 'public', memberIds: [alice.id] });
    // Node 1 has alice's membership cached (a send), so the mute must reach its cache.
    await sendMessage(alice.n1, room.id, 'before');
    await ok(owner.n0, 'room:mute', { roomId: room.id, userId: alice.id, durationSeconds: 600 });
    expect(expectAckError(await send(alice.n1, room.id), 'FORBIDDEN').details.reason).toBe('muted');
    expect(expectAckError(await send(alice.n0, room.id), 'FORBIDDEN').details.reason).toBe('muted');
    await ok(owner.n1, 'room:unmute', { roomId: room.id, userId: alice.id });
    await sendMessage(alice.n0, room.id, 'after on 0');
    await sendMessage(alice.n1, room.id, 'after on 1');
  });

  it('slow mode is one turn per member across the cluster, switched on and off from either node', async () => {
    const [owner, alice] = await Promise.all([user(), user()]);
    const room = await createRoom(owner.n0, { type: 'public', memberIds: [alice.id] });
    await sendMessage(alice.n1, room.id, 'warm the cache');
    await ok(owner.n0, 'room:slow_mode', { roomId: room.id, seconds: 60 });
    const one = await sendMessage(alice.n1, room.id, 'one', { clientMsgId: 'turn-1' });
    // The send holding the turn, retried on the other node (a lost ack): the stored message.
    expect(await sendMessage(alice.n0, room.id, 'one', { clientMsgId: 'turn-1' })).toEqual(one);
    const refusal = expectAckError(await send(alice.n0, room.id, 'two'), 'RATE_LIMITED');
    expect(refusal.details.limit).toBe('slow-mode');
    expect(refusal.details.retryAfterMs).toBeGreaterThan(0);
    expect(refusal.details.retryAfterMs).toBeLessThanOrEqual(60_000);
    await ok(owner.n1, 'room:slow_mode', { roomId: room.id, seconds: 0 });
    await sendMessage(alice.n0, room.id, 'two');
    await sendMessage(alice.n1, room.id, 'three');
  });

  it('a ban with expiry from one node holds on the other until it ends; the audit log reads the same everywhere', async () => {
    const [owner, alice] = await Promise.all([user(), user()]);
    const room = await createRoom(owner.n0, { type: 'public', memberIds: [alice.id] });
    const left = waitFor(alice.n0, 'room:member_left', (p: any) => p.roomId === room.id && p.userId === alice.id);
    const { until } = await ok(owner.n1, 'room:ban', { roomId: room.id, userId: alice.id, durationSeconds: 2, reason: 'cool off' });
    await left;
    expectAckError(await send(alice.n0, room.id), 'FORBIDDEN');
    const join = await request(alice.n0, 'room:join', { roomId: room.id });
    // Only an answer that came back before the end had to be a refusal (a loaded machine may be late).
    if (Date.now() < Date.parse(until)) expect(expectAckError(join, 'FORBIDDEN').details.reason).toBe('banned');
    await sleep(Math.max(0, Date.parse(until) - Date.now()) + 50);
    await ok(alice.n1, 'room:join', { roomId: room.id });
    await sendMessage(alice.n0, room.id, 'back');
    const a0 = await ok(owner.n0, 'room:audit', { roomId: room.id });
    const a1 = await ok(owner.n1, 'room:audit', { roomId: room.id });
    expect(a0).toEqual(a1);
    expect(a0.items.map((e: any) => [e.action, e.reason])).toEqual([['ban', 'cool off']]);
  });

  it('flags filed on both nodes at once gather on one queue item; resolving it on one node mutes the sender on the other', async () => {
    const [owner, bob, ...reporters] = await Promise.all([user(), user(), user(), user(), user(), user()]);
    const room = await createRoom(owner.n0, { type: 'public', memberIds: [bob.id, ...reporters.map((r) => r.id)] });
    const bad = await sendMessage(bob.n0, room.id, 'bad');
    await Promise.all(reporters.map((r, i) => ok(i % 2 ? r.n1 : r.n0, 'message:flag', { messageId: bad.id, reason: `report ${i}` })));
    const [q0, q1] = await Promise.all([ok(owner.n0, 'room:flags', { roomId: room.id }), ok(owner.n1, 'room:flags', { roomId: room.id })]);
    expect(q0).toEqual(q1);
    expect(q0.items).toHaveLength(1);
    expect(q0.items[0].reportCount).toBe(4);
    expect(q0.items[0].reports.map((r: any) => r.userId).sort()).toEqual(reporters.map((r) => r.id).sort());
    // Node 0 has bob's membership cached (he sent there).
    await ok(owner.n1, 'room:resolve_flag', { roomId: room.id, messageId: bad.id, action: 'mute', durationSeconds: 600 });
    expect(expectAckError(await send(bob.n0, room.id), 'FORBIDDEN').details.reason).toBe('muted');
    expect((await ok(owner.n0, 'room:flags', { roomId: room.id })).items).toEqual([]);
    expectAckError(await request(owner.n0, 'room:resolve_flag', { roomId: room.id, messageId: bad.id, action: 'dismiss' }), 'CONFLICT');
  });

  it('concurrent moderation actions on both nodes get one audit entry each', async () => {
    const [owner, ...members] = await Promise.all([user(), user(), user(), user(), user()]);
    const room = await createRoom(owner.n0, { type: 'public', memberIds: members.map((m) => m.id) });
    await Promise.all(members.map((m, i) => ok(i % 2 ? owner.n1 : owner.n0, 'room:mute', { roomId: room.id, userId: m.id, durationSeconds: 60 })));
    const items = (await ok(owner.n1, 'room:audit', { roomId: room.id })).items as any[];
    expect(items.map((e) => e.targetUserId).sort()).toEqual(members.map((m) => m.id).sort());
    expect(new Set(items.map((e) => e.id)).size).toBe(4);
  });
});
