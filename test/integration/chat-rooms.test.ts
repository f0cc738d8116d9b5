// Rooms: room:create, room:join, room:leave, room:invite, room:kick,
// room:set_role (extension) and room:members, with every permission level.
import { describe, expect, it } from 'vitest';
import { collect, eventsUntil, request, waitFor, type Client } from '../helpers/clients';
import {
  connectUser,
  createRoom,
  expectIso,
  expectRoom,
  history,
  isoDate,
  listAll,
  membersAll,
  newPerson,
  ok,
  refused,
  registerUser,
  sendMessage,
  unknownObjectId,
  type Member,
  type Message,
  type Person,
  type Room,
  roundTrip,
} from '../helpers/chat';
import { useChatApp } from '../helpers/chat-app';

describe('chat: rooms', () => {
  const t = useChatApp();

  const person = () => newPerson(t.url);
  /** Resolves once `socket` receives the message:new with this text in this room. */
  const gets = (socket: Client, roomId: string, text: string) => waitFor<Message>(socket, 'message:new', (m) => m.roomId === roomId && m.text === text);
  /** Sends a message from `from` and checks who gets it and who does not. */
  async function deliveredOnlyTo(from: Client, roomId: string, to: Client[], notTo: Client[]): Promise<void> {
    const text = `probe-${Math.random().toString(36).slice(2)}`;
    const strays = notTo.map((s) => collect<Message>(s, 'message:new'));
    const got = Promise.all(to.map((s) => gets(s, roomId, text)));
    await sendMessage(from, roomId, text);
    await got;
    // Each left-out socket's own round trip: a stray would have reached it before.
    await Promise.all(notTo.map(roundTrip));
    for (const list of strays) expect(list.filter((m) => m.roomId === roomId)).toEqual([]);
  }
  /** The room as the caller sees it now (room:join is a no-op for members and returns the Room). */
  const roomNow = (socket: Client, roomId: string) => ok<Room>(socket, 'room:join', { roomId });
  const memberMap = async (socket: Client, roomId: string) => {
    const items = await membersAll(socket, roomId);
    return Object.fromEntries(items.map((m) => [m.userId, m.role]));
  };

  describe('room:create', () => {
    it('creates a public room: the caller is owner, lastSeq 0, memberCount 1', async () => {
      const a = await person();
      const before = Date.now();
      const room = await ok<Room>(a.socket, 'room:create', { type: 'public', name: 'General' });
      expectRoom(room, { type: 'public', name: 'General', createdBy: a.id, lastSeq: 0, memberCount: 1 });
      expect(Date.parse(room.createdAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(room.createdAt)).toBeLessThanOrEqual(Date.now() + 1000);
      const members = await ok<{ items: Member[]; nextCursor: string | null }>(a.socket, 'room:members', { roomId: room.id });
      expect(members).toEqual({ items: [{ userId: a.id, role: 'owner', joinedAt: isoDate(), online: true, lastReadSeq: 0, lastDeliveredSeq: 0 }], nextCursor: null });
      expectIso(members.items[0].joinedAt);
    });

    it('creates a private room whose memberIds are members at once and get its events without reconnecting', async () => {
      const [a, b, c] = await Promise.all([person(), person(), person()]);
      const room = await ok<Room>(a.socket, 'room:create', { type: 'private', name: 'Secret', memberIds: [b.id, c.id] });
      expectRoom(room, { type: 'private', name: 'Secret', createdBy: a.id, lastSeq: 0, memberCount: 3 });
      expect(await memberMap(a.socket, room.id)).toEqual({ [a.id]: 'owner', [b.id]: 'member', [c.id]: 'member' });
      await deliveredOnlyTo(a.socket, room.id, [a.socket, b.socket, c.socket], []);
      // Members added at creation can send and read history at once.
      await sendMessage(b.socket, room.id, 'hi from b');
      expect((await history(c.socket, room.id)).items.map((m) => m.text)).toContain('hi from b');
      const bRooms = await listAll(b.socket);
      expect(bRooms.find((r) => r.id === room.id)?.role).toBe('member');
    });

    it('accepts names of 1 and 100 characters, and any Unicode', async () => {
      const a = await person();
      expectRoom(await ok(a.socket, 'room:create', { type: 'public', name: 'x' }), { name: 'x' });
      expectRoom(await ok(a.socket, 'room:create', { type: 'public', name: 'n'.repeat(100) }), { name: 'n'.repeat(100) });
      expectRoom(await ok(a.socket, 'room:create', { type: 'private', name: 'Café ☕ 会議' }), { name: 'Café ☕ 会議' });
    });

    it('two rooms with the same name are two rooms', async () => {
      const a = await person();
      const r1 = await createRoom(a.socket, { type: 'public', name: 'same' });
      const r2 = await createRoom(a.socket, { type: 'public', name: 'same' });
      expect(r1.id).not.toBe(r2.id);
    });

    const invalid: Array<[string, (b: string) => unknown]> = [
      ['an empty name', () => ({ type: 'public', name: '' })],
      ['a 101-character name', () => ({ type: 'public', name: 'n'.repeat(101) })],
      ['a missing name', () => ({ type: 'public' })],
      ['a missing type', () => ({ name: 'x' })],
      ['type "direct"', () => ({ type: 'direct', name: 'x' })],
      ['an unknown type', () => ({ type: 'secret', name: 'x' })],
      ['a numeric name', () => ({ type: 'public', name: 5 })],
      ['memberIds not an array', (b) => ({ type: 'private', name: 'x', memberIds: b })],
      ['a numeric member id', () => ({ type: 'private', name: 'x', memberIds: [5] })],
      ['an operator as member id', () => ({ type: 'private', name: 'x', memberIds: [{ $ne: null }] })],
      ['an extra field', () => ({ type: 'public', name: 'x', owner: 'someone-else' })],
      ['a lastSeq field', () => ({ type: 'public', name: 'x', lastSeq: 10 })],
    ];
    it.each(invalid)('refuses %s with VALIDATION_FAILED and creates nothing', async (_n, make) => {
      const [a, b] = await Promise.all([person(), person()]);
      await refused(a.socket, 'room:create', make(b.id), 'VALIDATION_FAILED');
      expect(await listAll(a.socket)).toEqual([]);
      expect(await listAll(b.socket)).toEqual([]);
    });

    it('memberIds naming an unknown user: NOT_FOUND, and no room is left behind', async () => {
      const [a, b] = await Promise.all([person(), person()]);
      await refused(a.socket, 'room:create', { type: 'private', name: 'x', memberIds: [b.id, unknownObjectId()] }, 'NOT_FOUND');
      expect(await listAll(a.socket)).toEqual([]);
      expect(await listAll(b.socket)).toEqual([]);
    });
  });

  describe('room:join', () => {
    it('lets anyone join a public room: Room back, member_joined to members on every socket, events at once', async () => {
      const [a, b, c] = await Promise.all([person(), person(), person()]);
      const a2 = await connectUser(t.url, a);
      const b2 = await connectUser(t.url, b);
      const room = await createRoom(a.socket, { type: 'public' });
      await sendMessage(a.socket, room.id, 'before b');
      const joined = Promise.all([a.socket, a2].map((s) => waitFor(s, 'room:member_joined', (p) => p.roomId === room.id)));
      const got = await ok<Room>(b.socket, 'room:join', { roomId: room.id });
      expectRoom(got, { id: room.id, type: 'public', name: room.name, createdBy: a.id, createdAt: room.createdAt, lastSeq: 1, memberCount: 2 });
      for (const p of await joined) expect(p).toEqual({ roomId: room.id, userId: b.id });
      // Both of b's sockets, connected before the join, receive the room's events; c does not.
      await deliveredOnlyTo(a.socket, room.id, [a.socket, a2, b.socket, b2], [c.socket]);
      expect(await memberMap(a.socket, room.id)).toEqual({ [a.id]: 'owner', [b.id]: 'member' });
    });

    it('a socket opened after joining receives the room’s events too', async () => {
      const [a, b] = await Promise.all([person(), person()]);
      const room = await createRoom(a.socket, { type: 'public' });
      await ok(b.socket, 'room:join', { roomId: room.id });
      const later = await connectUser(t.url, b);
      await deliveredOnlyTo(a.socket, room.id, [b.socket, later], []);
    });

    it('joining a room you are already in succeeds, changes nothing and announces nothing', async () => {
      const [a, b] = await Promise.all([person(), person()]);
      const room = await createRoom(a.socket, { type: 'public' });
      const bJoined = waitFor(a.socket, 'room:member_joined', (p) => p.roomId === room.id && p.userId === b.id);
      await ok(b.socket, 'room:join', { roomId: room.id });
      await bJoined;
      const seen = eventsUntil(a.socket, 'room:member_joined');
      const again = await ok<Room>(b.socket, 'room:join', { roomId: room.id });
      expectRoom(again, { id: room.id, memberCount: 2 });
      const ownerAgain = await ok<Room>(a.socket, 'room:join', { roomId: room.id });
      expectRoom(ownerAgain, { id: room.id, memberCount: 2 });
      expect(await memberMap(a.socket, room.id)).toEqual({ [a.id]: 'owner', [b.id]: 'member' });
      // A real join after them is the first announcement a gets.
      const c = await person();
      await ok(c.socket, 'room:join', { roomId: room.id });
      expect(await seen.before((p) => p.userId === c.id)).toEqual([]);
    });

    it('members of a private room (added, invited, owner) may call room:join again', async () => {
      const [a, b, c] = await Promise.all([person(), person(), person()]);
      const room = await createRoom(a.socket, { type: 'private', memberIds: [b.id] });
      await ok(a.socket, 'room:invite', { roomId: room.id, userId: c.id });
      await ok(c.socket, 'room:join', { roomId: room.id });
      for (const p of [a, b, c]) expectRoom(await ok(p.socket, 'room:join', { roomId: room.id }), { id: room.id, type: 'private', memberCount: 3 });
      expect(await memberMap(a.socket, room.id)).toEqual({ [a.id]: 'owner', [b.id]: 'member', [c.id]: 'member' });
    });

    it('concurrent joins by one user count once', async () => {
      const [a, b] = await Promise.all([person(), person()]);
      const room = await createRoom(a.socket, { type: 'public' });
      const acks = await Promise.all(Array.from({ length: 5 }, () => request(b.socket, 'room:join', { roomId: room.id })));
      for (const ack of acks) expect(ack.ok).toBe(true);
      expect((await roomNow(a.socket, room.id)).memberCount).toBe(2);
      expect(await membersAll(a.socket, room.id)).toHaveLength(2);
    });

    it('refuses an uninvited user in a private room with FORBIDDEN and adds nothing', async () => {
      const [a, c] = await Promise.all([person(), person()]);
      const room = await createRoom(a.socket, { type: 'private' });
      const seen = eventsUntil(a.socket, 'room:member_joined');
      await refused(c.socket, 'room:join', { roomId: room.id }, 'FORBIDDEN');
      expect((await roomNow(a.socket, room.id)).memberCount).toBe(1);
      await refused(c.socket, 'message:send', { roomId: room.id, clientMsgId: 'x', text: 'sneak' }, 'FORBIDDEN');
      // Once invited, c's join is the first announcement a gets.
      await ok(a.socket, 'room:invite', { roomId: room.id, userId: c.id });
      await ok(c.socket, 'room:join', { roomId: room.id });
      expect(await seen.before((p) => p.userId === c.id)).toEqual([]);
    });

    it('answers NOT_FOUND for an unknown room id of any shape', async () => {
      const a = await person();
      await refused(a.socket, 'room:join', { roomId: unknownObjectId() }, 'NOT_FOUND');
      await refused(a.socket, 'room:join', { roomId: 'no-such-room' }, 'NOT_FOUND');
    });

    it.each([
      ['an empty payload', {}],
      ['a numeric roomId', { roomId: 5 }],
      ['an empty roomId', { roomId: '' }],
      ['an extra field', { roomId: 'x', as: 'owner' }],
    ])('refuses %s with VALIDATION_FAILED', async (_n, payload) => {
      const a = await person();
      await refused(a.socket, 'room:join', payload, 'VALIDATION_FAILED');
    });
  });

  describe('room:leave', () => {
    it('removes the member: {} back, member_left to the others, no more events, not a member any more', async () => {
      const [a, b] = await Promise.all([person(), person()]);
      const b2 = await connectUser(t.url, b);
      const room = await createRoom(a.socket, { type: 'public' });
      await ok(b.socket, 'room:join', { roomId: room.id });
      const left = waitFor(a.socket, 'room:member_left', (p) => p.roomId === room.id);
      expect(await request(b.socket, 'room:leave', { roomId: room.id })).toEqual({ ok: true, data: {} });
      expect(await left).toEqual({ roomId: room.id, userId: b.id });
      await deliveredOnlyTo(a.socket, room.id, [a.socket], [b.socket, b2]);
      expect((await roomNow(a.socket, room.id)).memberCount).toBe(1);
      expect(await memberMap(a.socket, room.id)).toEqual({ [a.id]: 'owner' });
      expect((await listAll(b.socket)).map((r) => r.id)).not.toContain(room.id);
      await refused(b.socket, 'message:send', { roomId: room.id, clientMsgId: 'after-leave', text: 'x' }, 'FORBIDDEN');
      await refused(b.socket, 'message:history', { roomId: room.id }, 'FORBIDDEN');
      // Leaving is not a ban: a public room can be joined again.
      expectRoom(await ok(b.socket, 'room:join', { roomId: room.id }), { id: room.id, memberCount: 2 });
      await deliveredOnlyTo(a.socket, room.id, [b.socket, b2], []);
    });

    it('the owner leaving hands ownership to the oldest admin, even over older members', async () => {
      const [a, b, c, d] = await Promise.all([person(), person(), person(), person()]);
      const room = await createRoom(a.socket, { type: 'public' });
      for (const p of [b, c, d]) {
        await ok(p.socket, 'room:join', { roomId: room.id });
        await new Promise((r) => setTimeout(r, 20));
      }
      await ok(a.socket, 'room:set_role', { roomId: room.id, userId: d.id, role: 'admin' });
      await ok(a.socket, 'room:leave', { roomId: room.id });
      expect(await memberMap(b.socket, room.id)).toEqual({ [b.id]: 'member', [c.id]: 'member', [d.id]: 'owner' });
      // The new owner has the owner-only powers; the old one has none.
      expect(await request(d.socket, 'room:set_role', { roomId: room.id, userId: b.id, role: 'admin' })).toEqual({ ok: true, data: {} });
      await refused(a.socket, 'room:set_role', { roomId: room.id, userId: c.id, role: 'admin' }, 'FORBIDDEN');
    });

    it('the owner leaving with no admins hands ownership to the oldest member', async () => {
      const [a, b, c] = await Promise.all([person(), person(), person()]);
      const room = await createRoom(a.socket, { type: 'public' });
      await ok(b.socket, 'room:join', { roomId: room.id });
      await new Promise((r) => setTimeout(r, 20));
      await ok(c.socket, 'room:join', { roomId: room.id });
      await ok(a.socket, 'room:leave', { roomId: room.id });
      expect(await memberMap(c.socket, room.id)).toEqual({ [b.id]: 'owner', [c.id]: 'member' });
      expect((await listAll(b.socket)).find((r) => r.id === room.id)?.role).toBe('owner');
    });

    it('answers NOT_FOUND for an unknown room and VALIDATION_FAILED for a bad payload', async () => {
      const a = await person();
      await refused(a.socket, 'room:leave', { roomId: unknownObjectId() }, 'NOT_FOUND');
      await refused(a.socket, 'room:leave', { roomId: 1 }, 'VALIDATION_FAILED');
      await refused(a.socket, 'room:leave', {}, 'VALIDATION_FAILED');
    });
  });

  describe('room:invite', () => {
    async function privateRoom() {
      const [a, b, c] = await Promise.all([person(), person(), person()]);
      const room = await createRoom(a.socket, { type: 'private', memberIds: [b.id] });
      return { a, b, c, room };
    }

    it('the owner invites; the invited user joins and gets events at once; members see member_joined', async () => {
      const { a, b, c, room } = await privateRoom();
      // An invitation is pending, not membership.
      expect(await request(a.socket, 'room:invite', { roomId: room.id, userId: c.id })).toEqual({ ok: true, data: {} });
      expect((await roomNow(a.socket, room.id)).memberCount).toBe(2);
      await refused(c.socket, 'message:history', { roomId: room.id }, 'FORBIDDEN');
      const joined = Promise.all([a.socket, b.socket].map((s) => waitFor(s, 'room:member_joined', (p) => p.roomId === room.id)));
      expectRoom(await ok(c.socket, 'room:join', { roomId: room.id }), { id: room.id, type: 'private', memberCount: 3 });
      for (const p of await joined) expect(p).toEqual({ roomId: room.id, userId: c.id });
      await deliveredOnlyTo(b.socket, room.id, [a.socket, b.socket, c.socket], []);
    });

    it('a plain member may not invite (FORBIDDEN), and that invitation does not exist', async () => {
      const { b, c, room } = await privateRoom();
      await refused(b.socket, 'room:invite', { roomId: room.id, userId: c.id }, 'FORBIDDEN');
      await refused(c.socket, 'room:join', { roomId: room.id }, 'FORBIDDEN');
    });

    it('an admin may invite', async () => {
      const { a, b, c, room } = await privateRoom();
      await ok(a.socket, 'room:set_role', { roomId: room.id, userId: b.id, role: 'admin' });
      expect(await request(b.socket, 'room:invite', { roomId: room.id, userId: c.id })).toEqual({ ok: true, data: {} });
      expectRoom(await ok(c.socket, 'room:join', { roomId: room.id }), { id: room.id, memberCount: 3 });
    });

    it('a non-member may not invite (FORBIDDEN)', async () => {
      const { c, room } = await privateRoom();
      const d = await person();
      await refused(c.socket, 'room:invite', { roomId: room.id, userId: d.id }, 'FORBIDDEN');
      await refused(d.socket, 'room:join', { roomId: room.id }, 'FORBIDDEN');
    });

    it('answers NOT_FOUND for an unknown user or room', async () => {
      const { a, c, room } = await privateRoom();
      await refused(a.socket, 'room:invite', { roomId: room.id, userId: unknownObjectId() }, 'NOT_FOUND');
      await refused(a.socket, 'room:invite', { roomId: unknownObjectId(), userId: c.id }, 'NOT_FOUND');
    });

    it('is FORBIDDEN in a direct room, even for its members', async () => {
      const [a, b, c] = await Promise.all([person(), person(), person()]);
      const dm = await ok<Room>(a.socket, 'dm:open', { userId: b.id });
      await refused(a.socket, 'room:invite', { roomId: dm.id, userId: c.id }, 'FORBIDDEN');
      await refused(b.socket, 'room:invite', { roomId: dm.id, userId: c.id }, 'FORBIDDEN');
      await refused(c.socket, 'room:join', { roomId: dm.id }, 'FORBIDDEN');
      expect((await roomNow(a.socket, dm.id)).memberCount).toBe(2);
    });

    it.each([
      ['a missing userId', (r: string) => ({ roomId: r })],
      ['a missing roomId', () => ({ userId: 'x' })],
      ['a numeric userId', (r: string) => ({ roomId: r, userId: 7 })],
      ['an operator as userId', (r: string) => ({ roomId: r, userId: { $exists: true } })],
      ['an extra field', (r: string) => ({ roomId: r, userId: 'x', role: 'admin' })],
    ])('refuses %s with VALIDATION_FAILED', async (_n, make) => {
      const { a, room } = await privateRoom();
      await refused(a.socket, 'room:invite', make(room.id), 'VALIDATION_FAILED');
    });
  });

  describe('room:kick', () => {
    async function setup(type: 'public' | 'private' = 'public') {
      const [a, b, c] = await Promise.all([person(), person(), person()]);
      const b2 = await connectUser(t.url, b);
      const room = await createRoom(a.socket, { type, memberIds: type === 'private' ? [b.id, c.id] : undefined });
      if (type === 'public') {
        await ok(b.socket, 'room:join', { roomId: room.id });
        await ok(c.socket, 'room:join', { roomId: room.id });
      }
      return { a, b, b2, c, room };
    }

    it('the owner kicks: the kicked user (every socket) gets member_left for themselves, then nothing of the room', async () => {
      const { a, b, b2, c, room } = await setup();
      const leftB = Promise.all([b.socket, b2].map((s) => waitFor(s, 'room:member_left', (p) => p.roomId === room.id)));
      const leftOthers = Promise.all([a.socket, c.socket].map((s) => waitFor(s, 'room:member_left', (p) => p.roomId === room.id)));
      expect(await request(a.socket, 'room:kick', { roomId: room.id, userId: b.id })).toEqual({ ok: true, data: {} });
      for (const p of await leftB) expect(p).toEqual({ roomId: room.id, userId: b.id });
      for (const p of await leftOthers) expect(p).toEqual({ roomId: room.id, userId: b.id });
      await deliveredOnlyTo(c.socket, room.id, [a.socket, c.socket], [b.socket, b2]);
      // Other room events stop too.
      const joinsForB = eventsUntil(b.socket, 'room:member_joined');
      const elsewhere = await createRoom(b.socket, { type: 'public' });
      const d = await person();
      await ok(d.socket, 'room:join', { roomId: room.id });
      // d then joins a room b is still in: that announcement reaches b, the first one did not.
      await ok(d.socket, 'room:join', { roomId: elsewhere.id });
      expect(await joinsForB.before((p) => p.roomId === elsewhere.id && p.userId === d.id)).toEqual(
        // b's own join of the room it created may be announced to it; never the kicked room's.
        expect.not.arrayContaining([expect.objectContaining({ roomId: room.id })]),
      );
      expect(await memberMap(a.socket, room.id)).toEqual({ [a.id]: 'owner', [c.id]: 'member', [d.id]: 'member' });
      expect((await listAll(b.socket)).map((r) => r.id)).not.toContain(room.id);
      await refused(b.socket, 'message:send', { roomId: room.id, clientMsgId: 'kicked', text: 'x' }, 'FORBIDDEN');
      await refused(b.socket, 'message:history', { roomId: room.id }, 'FORBIDDEN');
    });

    it('a kicked user may no longer act in the room, not even from a socket opened later', async () => {
      const { a, b, c, room } = await setup();
      const own = await sendMessage(b.socket, room.id, 'mine, before the kick');
      const other = await sendMessage(c.socket, room.id, 'from c');
      await ok(a.socket, 'room:kick', { roomId: room.id, userId: b.id });
      const fresh = await connectUser(t.url, b);
      await deliveredOnlyTo(a.socket, room.id, [c.socket], [b.socket, fresh]);
      await refused(fresh, 'message:send', { roomId: room.id, clientMsgId: 'kicked-2', text: 'x' }, 'FORBIDDEN');
      await refused(fresh, 'message:react', { messageId: other.id, emoji: '👍', add: true }, 'FORBIDDEN');
      await refused(fresh, 'message:edit', { messageId: own.id, text: 'edited after kick' }, 'FORBIDDEN');
      await refused(fresh, 'message:delete', { messageId: own.id }, 'FORBIDDEN');
      await refused(fresh, 'message:read', { roomId: room.id, seq: 1 }, 'FORBIDDEN');
      await refused(fresh, 'typing:start', { roomId: room.id }, 'FORBIDDEN');
      await refused(fresh, 'room:invite', { roomId: room.id, userId: c.id }, 'FORBIDDEN');
      const items = (await history(a.socket, room.id)).items;
      expect(items.find((m) => m.id === own.id)).toEqual(own);
      expect(items.find((m) => m.id === other.id)).toEqual(other);
    });

    it('a kicked user is banned: room:join is FORBIDDEN even in a public room, until invited again', async () => {
      const { a, b, b2, room } = await setup();
      await ok(a.socket, 'room:kick', { roomId: room.id, userId: b.id });
      await refused(b.socket, 'room:join', { roomId: room.id }, 'FORBIDDEN');
      await refused(b2, 'room:join', { roomId: room.id }, 'FORBIDDEN');
      expect((await roomNow(a.socket, room.id)).memberCount).toBe(2);
      await ok(a.socket, 'room:invite', { roomId: room.id, userId: b.id });
      expectRoom(await ok(b.socket, 'room:join', { roomId: room.id }), { id: room.id, memberCount: 3 });
      await deliveredOnlyTo(a.socket, room.id, [b.socket, b2], []);
    });

    it('a user kicked from a private room cannot come back without a new invitation', async () => {
      const { a, b, room } = await setup('private');
      await ok(a.socket, 'room:kick', { roomId: room.id, userId: b.id });
      await refused(b.socket, 'room:join', { roomId: room.id }, 'FORBIDDEN');
      await ok(a.socket, 'room:invite', { roomId: room.id, userId: b.id });
      expectRoom(await ok(b.socket, 'room:join', { roomId: room.id }), { id: room.id });
    });

    it('an admin may kick a member; nobody may kick the owner', async () => {
      const { a, b, c, room } = await setup();
      await ok(a.socket, 'room:set_role', { roomId: room.id, userId: b.id, role: 'admin' });
      expect(await request(b.socket, 'room:kick', { roomId: room.id, userId: c.id })).toEqual({ ok: true, data: {} });
      expect(await memberMap(a.socket, room.id)).toEqual({ [a.id]: 'owner', [b.id]: 'admin' });
      await refused(b.socket, 'room:kick', { roomId: room.id, userId: a.id }, 'FORBIDDEN');
      expect(await memberMap(a.socket, room.id)).toEqual({ [a.id]: 'owner', [b.id]: 'admin' });
    });

    it('a plain member may not kick (FORBIDDEN), nor may a non-member', async () => {
      const { a, b, c, room } = await setup();
      await refused(b.socket, 'room:kick', { roomId: room.id, userId: c.id }, 'FORBIDDEN');
      await refused(b.socket, 'room:kick', { roomId: room.id, userId: a.id }, 'FORBIDDEN');
      const d = await person();
      await refused(d.socket, 'room:kick', { roomId: room.id, userId: c.id }, 'FORBIDDEN');
      expect(Object.keys(await memberMap(a.socket, room.id)).sort()).toEqual([a.id, b.id, c.id].sort());
    });

    it('kicking a non-member is NOT_FOUND; an unknown room is NOT_FOUND', async () => {
      const { a, room } = await setup();
      const d = await person();
      await refused(a.socket, 'room:kick', { roomId: room.id, userId: d.id }, 'NOT_FOUND');
      await refused(a.socket, 'room:kick', { roomId: room.id, userId: unknownObjectId() }, 'NOT_FOUND');
      await refused(a.socket, 'room:kick', { roomId: unknownObjectId(), userId: d.id }, 'NOT_FOUND');
      // The refused kick did not ban d.
      expectRoom(await ok(d.socket, 'room:join', { roomId: room.id }), { id: room.id });
    });

    it('is FORBIDDEN in a direct room', async () => {
      const [a, b] = await Promise.all([person(), person()]);
      const dm = await ok<Room>(a.socket, 'dm:open', { userId: b.id });
      await refused(a.socket, 'room:kick', { roomId: dm.id, userId: b.id }, 'FORBIDDEN');
      await refused(b.socket, 'room:kick', { roomId: dm.id, userId: a.id }, 'FORBIDDEN');
      expect((await roomNow(a.socket, dm.id)).memberCount).toBe(2);
    });

    it('refuses bad payloads with VALIDATION_FAILED', async () => {
      const { a, room } = await setup();
      await refused(a.socket, 'room:kick', { roomId: room.id }, 'VALIDATION_FAILED');
      await refused(a.socket, 'room:kick', { roomId: room.id, userId: ['x'] }, 'VALIDATION_FAILED');
      await refused(a.socket, 'room:kick', { roomId: room.id, userId: 'x', reason: 'spam' }, 'VALIDATION_FAILED');
    });
  });

  describe('room:set_role (extension)', () => {
    async function setup() {
      const [a, b, c] = await Promise.all([person(), person(), person()]);
      const room = await createRoom(a.socket, { type: 'public' });
      await ok(b.socket, 'room:join', { roomId: room.id });
      await ok(c.socket, 'room:join', { roomId: room.id });
      return { a, b, c, room };
    }

    it('the owner makes an admin ({}), and back to member; powers follow the role', async () => {
      const { a, b, c, room } = await setup();
      const d = await person();
      expect(await request(a.socket, 'room:set_role', { roomId: room.id, userId: b.id, role: 'admin' })).toEqual({ ok: true, data: {} });
      expect(await memberMap(c.socket, room.id)).toEqual({ [a.id]: 'owner', [b.id]: 'admin', [c.id]: 'member' });
      expect((await listAll(b.socket)).find((r) => r.id === room.id)?.role).toBe('admin');
      await ok(b.socket, 'room:invite', { roomId: room.id, userId: d.id });
      expect(await request(a.socket, 'room:set_role', { roomId: room.id, userId: b.id, role: 'member' })).toEqual({ ok: true, data: {} });
      expect(await memberMap(c.socket, room.id)).toEqual({ [a.id]: 'owner', [b.id]: 'member', [c.id]: 'member' });
      await refused(b.socket, 'room:kick', { roomId: room.id, userId: c.id }, 'FORBIDDEN');
    });

    it('only the owner: an admin or a member gets FORBIDDEN', async () => {
      const { a, b, c, room } = await setup();
      await ok(a.socket, 'room:set_role', { roomId: room.id, userId: b.id, role: 'admin' });
      await refused(b.socket, 'room:set_role', { roomId: room.id, userId: c.id, role: 'admin' }, 'FORBIDDEN');
      await refused(c.socket, 'room:set_role', { roomId: room.id, userId: c.id, role: 'admin' }, 'FORBIDDEN');
      await refused(b.socket, 'room:set_role', { roomId: room.id, userId: a.id, role: 'member' }, 'FORBIDDEN');
      expect(await memberMap(a.socket, room.id)).toEqual({ [a.id]: 'owner', [b.id]: 'admin', [c.id]: 'member' });
    });

    it('a non-member target is NOT_FOUND; the owner cannot demote themselves out of ownership', async () => {
      const { a, b, c, room } = await setup();
      const d = await person();
      await refused(a.socket, 'room:set_role', { roomId: room.id, userId: d.id, role: 'admin' }, 'NOT_FOUND');
      // docs/protocol.md: "the owner's own role cannot change (FORBIDDEN)".
      await refused(a.socket, 'room:set_role', { roomId: room.id, userId: a.id, role: 'member' }, 'FORBIDDEN');
      await refused(a.socket, 'room:set_role', { roomId: room.id, userId: a.id, role: 'admin' }, 'FORBIDDEN');
      expect(await memberMap(a.socket, room.id)).toEqual({ [a.id]: 'owner', [b.id]: 'member', [c.id]: 'member' });
    });

    it('refuses role "owner" or anything else with VALIDATION_FAILED; unknown room NOT_FOUND', async () => {
      const { a, b, room } = await setup();
      await refused(a.socket, 'room:set_role', { roomId: room.id, userId: b.id, role: 'owner' }, 'VALIDATION_FAILED');
      await refused(a.socket, 'room:set_role', { roomId: room.id, userId: b.id, role: 'root' }, 'VALIDATION_FAILED');
      await refused(a.socket, 'room:set_role', { roomId: room.id, userId: b.id }, 'VALIDATION_FAILED');
      await refused(a.socket, 'room:set_role', { roomId: room.id, userId: b.id, role: 'admin', extra: 1 }, 'VALIDATION_FAILED');
      await refused(a.socket, 'room:set_role', { roomId: unknownObjectId(), userId: b.id, role: 'admin' }, 'NOT_FOUND');
      expect((await memberMap(a.socket, room.id))[b.id]).toBe('member');
    });
  });

  describe('room:members', () => {
    it('lists { userId, role, joinedAt, online, lastReadSeq, lastDeliveredSeq }: online follows connected sockets', async () => {
      const [a, b] = await Promise.all([person(), person()]);
      const never = await registerUser(t.url); // registered, never connected
      const room = await createRoom(a.socket, { type: 'private', memberIds: [b.id, never.id] });
      const page = await ok<{ items: Member[]; nextCursor: string | null }>(a.socket, 'room:members', { roomId: room.id });
      expect(page.nextCursor).toBeNull();
      const byId = Object.fromEntries(page.items.map((m) => [m.userId, m]));
      expect(page.items).toHaveLength(3);
      expect(byId[a.id]).toEqual({ userId: a.id, role: 'owner', joinedAt: isoDate(), online: true, lastReadSeq: 0, lastDeliveredSeq: 0 });
      expect(byId[b.id]).toEqual({ userId: b.id, role: 'member', joinedAt: isoDate(), online: true, lastReadSeq: 0, lastDeliveredSeq: 0 });
      expect(byId[never.id]).toEqual({ userId: never.id, role: 'member', joinedAt: isoDate(), online: false, lastReadSeq: 0, lastDeliveredSeq: 0 });
      for (const m of page.items) expectIso(m.joinedAt);
    });

    it('pages with an opaque cursor: every member exactly once', async () => {
      const a = await person();
      const others = await Promise.all(Array.from({ length: 6 }, () => registerUser(t.url)));
      const room = await createRoom(a.socket, { type: 'private', memberIds: others.map((o) => o.id) });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { items: Member[]; nextCursor: string | null } = await ok(a.socket, 'room:members', { roomId: room.id, limit: 3, ...(cursor ? { cursor } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(3);
        if (page.nextCursor !== null) expect(typeof page.nextCursor).toBe('string');
        seen.push(...page.items.map((m) => m.userId));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== null && pages < 10);
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(seen.sort()).toEqual([a.id, ...others.map((o) => o.id)].sort());
    });

    it('a member who left is no longer listed', async () => {
      const [a, b] = await Promise.all([person(), person()]);
      const room = await createRoom(a.socket, { type: 'public' });
      await ok(b.socket, 'room:join', { roomId: room.id });
      await ok(b.socket, 'room:leave', { roomId: room.id });
      expect((await membersAll(a.socket, room.id)).map((m) => m.userId)).toEqual([a.id]);
    });

    it('refuses limit 0 or 101, a bad cursor and bad types with VALIDATION_FAILED; unknown room NOT_FOUND', async () => {
      const a: Person = await person();
      const room = await createRoom(a.socket, { type: 'public' });
      await refused(a.socket, 'room:members', { roomId: room.id, limit: 0 }, 'VALIDATION_FAILED');
      await refused(a.socket, 'room:members', { roomId: room.id, limit: 101 }, 'VALIDATION_FAILED');
      await refused(a.socket, 'room:members', { roomId: room.id, limit: '10' }, 'VALIDATION_FAILED');
      await refused(a.socket, 'room:members', { roomId: room.id, cursor: 'definitely-not-a-cursor' }, 'VALIDATION_FAILED');
      await refused(a.socket, 'room:members', { roomId: room.id, cursor: 42 }, 'VALIDATION_FAILED');
      await refused(a.socket, 'room:members', {}, 'VALIDATION_FAILED');
      await refused(a.socket, 'room:members', { roomId: unknownObjectId() }, 'NOT_FOUND');
      expect(await request(a.socket, 'room:members', { roomId: room.id, limit: 100 })).toEqual({ ok: true, data: { items: [expect.objectContaining({ userId: a.id })], nextCursor: null } });
    });
  });
});
