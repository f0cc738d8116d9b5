// room:list: RoomSummary items, most recent activity first, cursor paging and limits.
import { describe, expect, it } from 'vitest';
import { request } from '../helpers/clients';
import {
  createRoom,
  expectMessage,
  expectSummary,
  listAll,
  newPerson,
  ok,
  refused,
  sendMessage,
  sleep,
  type RoomSummary,
} from '../helpers/chat';
import { useChatApp } from '../helpers/chat-app';

type ListPage = { items: RoomSummary[]; nextCursor: string | null };

describe('chat: room:list', () => {
  const t = useChatApp();

  const person = () => newPerson(t.url);

  it('a new user has no rooms', async () => {
    const a = await person();
    expect(await ok(a.socket, 'room:list', {})).toEqual({ items: [], nextCursor: null });
  });

  it('returns exact RoomSummary items: role, lastReadSeq, unreadCount, lastMessage', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    const empty = await createRoom(a.socket, { type: 'public', name: 'empty' });
    await sleep(5);
    const busy = await createRoom(a.socket, { type: 'private', name: 'busy', memberIds: [b.id] });
    await sendMessage(a.socket, busy.id, 'one');
    const last = await sendMessage(a.socket, busy.id, 'two');

    const aPage = await ok<ListPage>(a.socket, 'room:list', {});
    expect(aPage.nextCursor).toBeNull();
    expect(aPage.items.map((r) => r.id)).toEqual([busy.id, empty.id]);
    expectSummary(aPage.items[1], {
      ...empty,
      role: 'owner',
      lastReadSeq: 0,
      unreadCount: 0,
      unreadMentions: 0,
      lastMessage: null,
    });
    // Own messages never count as unread: sending marks the room read up to it.
    expectSummary(aPage.items[0], {
      ...busy,
      lastSeq: 2,
      role: 'owner',
      lastReadSeq: 2,
      unreadCount: 0,
      unreadMentions: 0,
      lastMessage: last,
    });
    expectMessage(aPage.items[0].lastMessage, last);

    const bPage = await ok<ListPage>(b.socket, 'room:list', {});
    expect(bPage.items).toHaveLength(1);
    expectSummary(bPage.items[0], { ...busy, lastSeq: 2, role: 'member', lastReadSeq: 0, unreadCount: 2, unreadMentions: 0, lastMessage: last });
  });

  it('lastMessage is the current state of the newest message (after edit, reaction and delete)', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    const room = await createRoom(a.socket, { type: 'public' });
    await ok(b.socket, 'room:join', { roomId: room.id });
    await sendMessage(a.socket, room.id, 'older');
    const last = await sendMessage(a.socket, room.id, 'newest');
    const lastOf = async () => (await listAll(b.socket)).find((r) => r.id === room.id)!.lastMessage;
    const newestInHistory = async () => (await ok(b.socket, 'message:history', { roomId: room.id, limit: 1 })).items[0];
    expect(await lastOf()).toEqual(last);
    const edited = await ok(a.socket, 'message:edit', { messageId: last.id, text: 'newest (edited)' });
    expect(await lastOf()).toEqual(edited);
    const reacted = await ok(b.socket, 'message:react', { messageId: last.id, emoji: '👀', add: true });
    expect(await lastOf()).toEqual(reacted);
    await ok(a.socket, 'message:delete', { messageId: last.id });
    const deleted = await lastOf();
    expect(deleted).toEqual(await newestInHistory());
    expect(deleted).toMatchObject({ id: last.id, seq: 2, text: '', deletedAt: expect.any(String) });
  });

  it('lists only rooms the caller is a member of', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    const pub = await createRoom(a.socket, { type: 'public' });
    await createRoom(a.socket, { type: 'private' });
    expect(await listAll(b.socket)).toEqual([]);
    await ok(b.socket, 'room:join', { roomId: pub.id });
    expect((await listAll(b.socket)).map((r) => r.id)).toEqual([pub.id]);
  });

  it('orders by most recent activity: a new message moves its room to the top', async () => {
    const a = await person();
    const r1 = await createRoom(a.socket, { type: 'public', name: 'r1' });
    await sleep(10);
    const r2 = await createRoom(a.socket, { type: 'public', name: 'r2' });
    await sleep(10);
    const r3 = await createRoom(a.socket, { type: 'public', name: 'r3' });
    expect((await listAll(a.socket)).map((r) => r.id)).toEqual([r3.id, r2.id, r1.id]);
    await sleep(10);
    await sendMessage(a.socket, r1.id, 'bump r1');
    expect((await listAll(a.socket)).map((r) => r.id)).toEqual([r1.id, r3.id, r2.id]);
    await sleep(10);
    await sendMessage(a.socket, r2.id, 'bump r2');
    expect((await listAll(a.socket)).map((r) => r.id)).toEqual([r2.id, r1.id, r3.id]);
  });

  it('another member’s message also moves the room up for me', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    const shared = await createRoom(b.socket, { type: 'public', name: 'shared' });
    await ok(a.socket, 'room:join', { roomId: shared.id });
    await sleep(10);
    const mine = await createRoom(a.socket, { type: 'public', name: 'mine' });
    expect((await listAll(a.socket)).map((r) => r.id)).toEqual([mine.id, shared.id]);
    await sleep(10);
    await sendMessage(b.socket, shared.id, 'from b');
    const items = await listAll(a.socket);
    expect(items.map((r) => r.id)).toEqual([shared.id, mine.id]);
    expect(items[0]).toMatchObject({ lastSeq: 1, lastReadSeq: 0, unreadCount: 1 });
  });

  it('pages with an opaque cursor: each room exactly once, in order, nextCursor null at the end', async () => {
    const a = await person();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.unshift((await createRoom(a.socket, { type: 'public', name: `p${i}` })).id);
      await sleep(3);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: ListPage = await ok(a.socket, 'room:list', { limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(3);
      for (const item of page.items) expectSummary(item);
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
      if (cursor !== null) expect(typeof cursor).toBe('string');
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
  });

  it('limit defaults to 50 and may be 100 at most', async () => {
    const a = await person();
    const created: string[] = [];
    for (let i = 0; i < 51; i += 17) {
      const batch = await Promise.all(Array.from({ length: Math.min(17, 51 - i) }, (_, j) => createRoom(a.socket, { type: 'public', name: `bulk${i + j}` })));
      created.push(...batch.map((r) => r.id));
    }
    const first = await ok<ListPage>(a.socket, 'room:list', {});
    expect(first.items).toHaveLength(50);
    expect(typeof first.nextCursor).toBe('string');
    const second = await ok<ListPage>(a.socket, 'room:list', { cursor: first.nextCursor });
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect([...first.items, ...second.items].map((r) => r.id).sort()).toEqual(created.sort());
    const all = await ok<ListPage>(a.socket, 'room:list', { limit: 100 });
    expect(all.items).toHaveLength(51);
    expect(all.nextCursor).toBeNull();
    const one = await ok<ListPage>(a.socket, 'room:list', { limit: 1 });
    expect(one.items).toHaveLength(1);
    expect(typeof one.nextCursor).toBe('string');
  });

  it.each([
    ['limit 0', { limit: 0 }],
    ['limit 101', { limit: 101 }],
    ['limit -1', { limit: -1 }],
    ['limit 2.5', { limit: 2.5 }],
    ['a string limit', { limit: '10' }],
    ['a garbage cursor', { cursor: 'garbage' }],
    ['a base64 garbage cursor', { cursor: Buffer.from('{"x":1}').toString('base64url') }],
    ['an empty cursor', { cursor: '' }],
    ['a numeric cursor', { cursor: 7 }],
    ['an operator as cursor', { cursor: { $gt: '' } }],
    ['an extra field', { userId: 'someone-else' }],
    ['a non-object payload', 'list'],
  ])('refuses %s with VALIDATION_FAILED', async (_n, payload) => {
    const a = await person();
    await createRoom(a.socket, { type: 'public' });
    await refused(a.socket, 'room:list', payload, 'VALIDATION_FAILED');
  });

  it('a cursor from another user does not leak their rooms', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    for (let i = 0; i < 3; i++) await createRoom(a.socket, { type: 'private', name: `a-secret-${i}` });
    const page = await ok<ListPage>(a.socket, 'room:list', { limit: 1 });
    const ack = await request<ListPage>(b.socket, 'room:list', { cursor: page.nextCursor });
    if (ack.ok) expect(ack.data!.items).toEqual([]);
    else expect(ack.error!.code).toBe('VALIDATION_FAILED');
  });
});
