// message:read and read state: lastReadSeq, unreadCount, read:updated, and how
// room:list reflects them.
import { describe, expect, it } from 'vitest';
import { collect, eventsUntil, request, waitFor, type Client } from '../helpers/clients';
import {
  connectUser,
  createRoom,
  listAll,
  newPerson,
  ok,
  refused,
  seedMessages,
  sendMessage,
  unknownObjectId,
  type Person,
  type Room,
} from '../helpers/chat';
import { useChatApp } from '../helpers/chat-app';

describe('chat: read state', () => {
  const t = useChatApp();

  const person = () => newPerson(t.url);
  const summary = async (s: Client, roomId: string) => (await listAll(s)).find((r) => r.id === roomId)!;
  const readUpdated = (s: Client, roomId: string) => waitFor(s, 'read:updated', (p) => p.roomId === roomId);

  /** a (sender, owner) and b (reader, two sockets) in a room where a sent 5 messages. */
  async function setup(): Promise<{ a: Person; b: Person; b2: Client; c: Person; room: Room }> {
    const [a, b, c] = await Promise.all([person(), person(), person()]);
    const b2 = await connectUser(t.url, b);
    const room = await createRoom(a.socket, { type: 'public' });
    await ok(b.socket, 'room:join', { roomId: room.id });
    await ok(c.socket, 'room:join', { roomId: room.id });
    await seedMessages(a.socket, room.id, 5, 'r', 1);
    return { a, b, b2, c, room };
  }

  it('before reading: the reader has everything unread, the sender nothing', async () => {
    const { a, b, room } = await setup();
    expect(await summary(b.socket, room.id)).toMatchObject({ lastSeq: 5, lastReadSeq: 0, unreadCount: 5 });
    expect(await summary(a.socket, room.id)).toMatchObject({ lastSeq: 5, lastReadSeq: 5, unreadCount: 0 });
  });

  it('reading moves lastReadSeq, answers { lastReadSeq, unreadCount }, and tells the room with read:updated', async () => {
    const { a, b, b2, c, room } = await setup();
    const outsider = await person();
    const strays = collect(outsider.socket, 'read:updated');
    const seen = Promise.all([a.socket, b2, c.socket].map((s) => readUpdated(s, room.id)));
    expect(await request(b.socket, 'message:read', { roomId: room.id, seq: 3 })).toEqual({ ok: true, data: { lastReadSeq: 3, unreadCount: 2, unreadMentions: 0 } });
    for (const p of await seen) expect(p).toEqual({ roomId: room.id, userId: b.id, lastReadSeq: 3 });
    expect(await summary(b.socket, room.id)).toMatchObject({ lastReadSeq: 3, unreadCount: 2 });
    expect(await summary(b2, room.id)).toMatchObject({ lastReadSeq: 3, unreadCount: 2 });
    // Read state is per user: a and c are unaffected.
    expect(await summary(c.socket, room.id)).toMatchObject({ lastReadSeq: 0, unreadCount: 5 });
    expect(await summary(a.socket, room.id)).toMatchObject({ lastReadSeq: 5, unreadCount: 0 });
    expect(strays).toEqual([]);
  });

  it('moving backwards changes nothing: the current state comes back and nothing is broadcast', async () => {
    const { a, b, room } = await setup();
    const toFour = waitFor(a.socket, 'read:updated', (p) => p.roomId === room.id && p.userId === b.id && p.lastReadSeq === 4);
    await ok(b.socket, 'message:read', { roomId: room.id, seq: 4 });
    await toFour;
    const seen = eventsUntil(a.socket, 'read:updated');
    expect(await request(b.socket, 'message:read', { roomId: room.id, seq: 2 })).toEqual({ ok: true, data: { lastReadSeq: 4, unreadCount: 1, unreadMentions: 0 } });
    expect(await request(b.socket, 'message:read', { roomId: room.id, seq: 4 })).toEqual({ ok: true, data: { lastReadSeq: 4, unreadCount: 1, unreadMentions: 0 } });
    expect(await request(b.socket, 'message:read', { roomId: room.id, seq: 0 })).toEqual({ ok: true, data: { lastReadSeq: 4, unreadCount: 1, unreadMentions: 0 } });
    expect(await summary(b.socket, room.id)).toMatchObject({ lastReadSeq: 4, unreadCount: 1 });
    // Moving forward is announced: that announcement is the first a gets after the backward moves.
    await ok(b.socket, 'message:read', { roomId: room.id, seq: 5 });
    expect(await seen.before((p) => p.userId === b.id && p.lastReadSeq === 5)).toEqual([]);
  });

  it('a seq above the room’s lastSeq is clamped to lastSeq', async () => {
    const { a, b, room } = await setup();
    const seen = readUpdated(a.socket, room.id);
    expect(await request(b.socket, 'message:read', { roomId: room.id, seq: 999 })).toEqual({ ok: true, data: { lastReadSeq: 5, unreadCount: 0, unreadMentions: 0 } });
    expect(await seen).toEqual({ roomId: room.id, userId: b.id, lastReadSeq: 5 });
    // New messages are unread again, counted from the clamped point.
    await sendMessage(a.socket, room.id, 'six');
    await sendMessage(a.socket, room.id, 'seven');
    expect(await summary(b.socket, room.id)).toMatchObject({ lastSeq: 7, lastReadSeq: 5, unreadCount: 2 });
    expect(await request(b.socket, 'message:read', { roomId: room.id, seq: 6 })).toEqual({ ok: true, data: { lastReadSeq: 6, unreadCount: 1, unreadMentions: 0 } });
  });

  it('reading in an empty room stays at 0', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    const room = await createRoom(a.socket, { type: 'public' });
    await ok(b.socket, 'room:join', { roomId: room.id });
    expect(await request(b.socket, 'message:read', { roomId: room.id, seq: 10 })).toEqual({ ok: true, data: { lastReadSeq: 0, unreadCount: 0, unreadMentions: 0 } });
  });

  it('sending marks the room read up to the sent message for the sender', async () => {
    const { b, room } = await setup();
    expect(await summary(b.socket, room.id)).toMatchObject({ lastReadSeq: 0, unreadCount: 5 });
    const m = await sendMessage(b.socket, room.id, 'my reply');
    expect(m.seq).toBe(6);
    expect(await summary(b.socket, room.id)).toMatchObject({ lastSeq: 6, lastReadSeq: 6, unreadCount: 0 });
    expect(await request(b.socket, 'message:read', { roomId: room.id, seq: 1 })).toEqual({ ok: true, data: { lastReadSeq: 6, unreadCount: 0, unreadMentions: 0 } });
  });

  it('a member who joins late starts with lastReadSeq at the room\'s lastSeq: only later messages are unread', async () => {
    const { a, room } = await setup();
    const late = await person();
    await ok(late.socket, 'room:join', { roomId: room.id });
    expect(await summary(late.socket, room.id)).toMatchObject({ lastSeq: 5, lastReadSeq: 5, unreadCount: 0 });
    await sendMessage(a.socket, room.id, 'after the join');
    expect(await summary(late.socket, room.id)).toMatchObject({ lastSeq: 6, lastReadSeq: 5, unreadCount: 1 });
  });

  it('concurrent reads settle on the highest seq', async () => {
    const { b, room } = await setup();
    await Promise.all([1, 5, 2, 4, 3].map((seq) => ok(b.socket, 'message:read', { roomId: room.id, seq })));
    expect(await summary(b.socket, room.id)).toMatchObject({ lastReadSeq: 5, unreadCount: 0 });
  });

  it('a non-member gets FORBIDDEN; an unknown room NOT_FOUND', async () => {
    const { room } = await setup();
    const outsider = await person();
    await refused(outsider.socket, 'message:read', { roomId: room.id, seq: 1 }, 'FORBIDDEN');
    await refused(outsider.socket, 'message:read', { roomId: unknownObjectId(), seq: 1 }, 'NOT_FOUND');
  });

  it.each([
    ['a missing seq', {}],
    ['a negative seq', { seq: -1 }],
    ['a fractional seq', { seq: 1.5 }],
    ['a string seq', { seq: '3' }],
    ['a null seq', { seq: null }],
    ['an operator as seq', { seq: { $gt: 0 } }],
    ['an extra field', { seq: 1, userId: 'someone-else' }],
  ])('%s is VALIDATION_FAILED and changes nothing', async (_n, extra) => {
    const { b, room } = await setup();
    await refused(b.socket, 'message:read', { roomId: room.id, ...extra }, 'VALIDATION_FAILED');
    expect(await summary(b.socket, room.id)).toMatchObject({ lastReadSeq: 0, unreadCount: 5 });
  });
});
