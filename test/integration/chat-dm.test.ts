// dm:open: one direct room per pair, live at once for both, closed to everyone else.
import { describe, expect, it } from 'vitest';
import { collect, request, waitFor } from '../helpers/clients';
import {
  connectUser,
  expectRoom,
  history,
  listAll,
  membersAll,
  newPerson,
  ok,
  refused,
  registerUser,
  sendMessage,
  unknownObjectId,
  type Message,
  type Room,
  roundTrip,
} from '../helpers/chat';
import { useChatApp } from '../helpers/chat-app';

describe('chat: direct messages', () => {
  const t = useChatApp();

  const person = () => newPerson(t.url);

  it('opens a direct Room with both users as members', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    const dm = await ok<Room>(a.socket, 'dm:open', { userId: b.id });
    expectRoom(dm, { type: 'direct', createdBy: a.id, lastSeq: 0, memberCount: 2 });
    expect((await membersAll(a.socket, dm.id)).map((m) => m.userId).sort()).toEqual([a.id, b.id].sort());
    for (const m of await membersAll(b.socket, dm.id)) expect(['owner', 'admin', 'member']).toContain(m.role);
    const aList = await listAll(a.socket);
    const bList = await listAll(b.socket);
    expect(aList.map((r) => [r.id, r.type])).toEqual([[dm.id, 'direct']]);
    expect(bList.map((r) => [r.id, r.type])).toEqual([[dm.id, 'direct']]);
  });

  it('is the same room every time, from either side', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    const first = await ok<Room>(a.socket, 'dm:open', { userId: b.id });
    const again = await ok<Room>(a.socket, 'dm:open', { userId: b.id });
    const reverse = await ok<Room>(b.socket, 'dm:open', { userId: a.id });
    expect(again.id).toBe(first.id);
    expect(reverse.id).toBe(first.id);
    expectRoom(reverse, { id: first.id, type: 'direct', createdBy: a.id, createdAt: first.createdAt, memberCount: 2 });
    expect((await listAll(a.socket)).filter((r) => r.type === 'direct')).toHaveLength(1);
  });

  it('concurrent opens from both sides still make one room', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    const acks = await Promise.all(
      Array.from({ length: 10 }, (_, i) => request<Room>(i % 2 ? a.socket : b.socket, 'dm:open', { userId: i % 2 ? b.id : a.id })),
    );
    for (const ack of acks) expect(ack.ok).toBe(true);
    expect(new Set(acks.map((x) => x.data!.id)).size).toBe(1);
    expect((await listAll(a.socket)).filter((r) => r.type === 'direct')).toHaveLength(1);
    expect((await listAll(b.socket)).filter((r) => r.type === 'direct')).toHaveLength(1);
  });

  it('different pairs get different rooms', async () => {
    const [a, b, c] = await Promise.all([person(), person(), person()]);
    const ab = await ok<Room>(a.socket, 'dm:open', { userId: b.id });
    const ac = await ok<Room>(a.socket, 'dm:open', { userId: c.id });
    const bc = await ok<Room>(b.socket, 'dm:open', { userId: c.id });
    expect(new Set([ab.id, ac.id, bc.id]).size).toBe(3);
  });

  it('the peer, connected before the room existed, receives its messages at once on every socket', async () => {
    const [a, b, c] = await Promise.all([person(), person(), person()]);
    const b2 = await connectUser(t.url, b);
    const dm = await ok<Room>(a.socket, 'dm:open', { userId: b.id });
    const cGot = collect<Message>(c.socket, 'message:new');
    const got = Promise.all([b.socket, b2, a.socket].map((s) => waitFor<Message>(s, 'message:new', (m) => m.roomId === dm.id)));
    const sent = await sendMessage(a.socket, dm.id, 'psst');
    for (const m of await got) expect(m).toEqual(sent);
    const reply = await sendMessage(b.socket, dm.id, 'hi back');
    expect(reply.seq).toBe(2);
    expect((await history(a.socket, dm.id)).items.map((m) => m.text)).toEqual(['psst', 'hi back']);
    await roundTrip(c.socket);
    expect(cGot.filter((m) => m.roomId === dm.id)).toEqual([]);
  });

  it('a DM to a registered user who is offline works; they see it when they connect', async () => {
    const a = await person();
    const offline = await registerUser(t.url);
    const dm = await ok<Room>(a.socket, 'dm:open', { userId: offline.id });
    await sendMessage(a.socket, dm.id, 'when you are back');
    const s = await connectUser(t.url, offline);
    const list = await listAll(s);
    expect(list.map((r) => r.id)).toEqual([dm.id]);
    expect(list[0]).toMatchObject({ type: 'direct', lastSeq: 1, unreadCount: 1, lastReadSeq: 0 });
    expect((await history(s, dm.id)).items.map((m) => m.text)).toEqual(['when you are back']);
  });

  it('is closed to third parties: join, history, send, react are FORBIDDEN', async () => {
    const [a, b, c] = await Promise.all([person(), person(), person()]);
    const dm = await ok<Room>(a.socket, 'dm:open', { userId: b.id });
    const m = await sendMessage(a.socket, dm.id, 'private');
    await refused(c.socket, 'room:join', { roomId: dm.id }, 'FORBIDDEN');
    await refused(c.socket, 'message:history', { roomId: dm.id }, 'FORBIDDEN');
    await refused(c.socket, 'message:send', { roomId: dm.id, clientMsgId: 'x', text: 'intrude' }, 'FORBIDDEN');
    await refused(c.socket, 'message:react', { messageId: m.id, emoji: '👍', add: true }, 'FORBIDDEN');
    await refused(c.socket, 'message:read', { roomId: dm.id, seq: 1 }, 'FORBIDDEN');
    expect((await history(a.socket, dm.id)).items).toEqual([m]);
    expect(await listAll(c.socket)).toEqual([]);
  });

  it('answers NOT_FOUND for an unknown user and VALIDATION_FAILED for bad payloads', async () => {
    const a = await person();
    await refused(a.socket, 'dm:open', { userId: unknownObjectId() }, 'NOT_FOUND');
    await refused(a.socket, 'dm:open', { userId: 'nobody-at-all' }, 'NOT_FOUND');
    await refused(a.socket, 'dm:open', {}, 'VALIDATION_FAILED');
    await refused(a.socket, 'dm:open', { userId: 42 }, 'VALIDATION_FAILED');
    await refused(a.socket, 'dm:open', { userId: { $ne: null } }, 'VALIDATION_FAILED');
    await refused(a.socket, 'dm:open', { userId: 'x', name: 'renamed' }, 'VALIDATION_FAILED');
    expect(await listAll(a.socket)).toEqual([]);
  });
});
