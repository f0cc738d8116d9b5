// Messages: message:send (incl. idempotency and replyTo), message:edit,
// message:delete and message:react, with their broadcasts and permissions.
import { describe, expect, it } from 'vitest';
import { collect, eventsUntil, request, waitFor, type Client } from '../helpers/clients';
import {
  cmid,
  connectUser,
  createRoom,
  expectMessage,
  history,
  isoDate,
  newPerson,
  ok,
  refused,
  sendMessage,
  unknownObjectId,
  type Message,
  type Person,
  type Room,
  roundTrip,
} from '../helpers/chat';
import { useChatApp } from '../helpers/chat-app';

describe('chat: messages', () => {
  const t = useChatApp();

  const person = () => newPerson(t.url);
  const next = (s: Client, event: string, roomId: string) => waitFor<Message>(s, event, (m) => m.roomId === roomId);

  /** a (owner), b (member, two sockets), c (member), outsider (not a member) in a public room. */
  async function setup(): Promise<{ a: Person; b: Person; b2: Client; c: Person; outsider: Person; room: Room }> {
    const [a, b, c, outsider] = await Promise.all([person(), person(), person(), person()]);
    const b2 = await connectUser(t.url, b);
    const room = await createRoom(a.socket, { type: 'public' });
    await ok(b.socket, 'room:join', { roomId: room.id });
    await ok(c.socket, 'room:join', { roomId: room.id });
    return { a, b, b2, c, outsider, room };
  }

  describe('message:send', () => {
    it('acks the stored Message and delivers the same Message to every socket of every member', async () => {
      const { a, b, b2, c, outsider, room } = await setup();
      const a2 = await connectUser(t.url, a);
      const strays = collect<Message>(outsider.socket, 'message:new');
      const deliveries = Promise.all([a.socket, a2, b.socket, b2, c.socket].map((s) => next(s, 'message:new', room.id)));
      const clientMsgId = cmid();
      const before = Date.now();
      const m = await ok<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId, text: 'Hello, world' });
      expectMessage(m, { roomId: room.id, seq: 1, senderId: a.id, clientMsgId, text: 'Hello, world' });
      expect(Date.parse(m.createdAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(m.createdAt)).toBeLessThanOrEqual(Date.now() + 1000);
      for (const got of await deliveries) expect(got).toEqual(m);
      expect((await history(c.socket, room.id)).items).toEqual([m]);
      expect((await ok<Room>(a.socket, 'room:join', { roomId: room.id })).lastSeq).toBe(1);
      await roundTrip(outsider.socket);
      expect(strays.filter((x) => x.roomId === room.id)).toEqual([]);
    });

    it('numbers messages 1, 2, 3… per room, whoever sends', async () => {
      const { a, b, c, room } = await setup();
      const other = await createRoom(a.socket, { type: 'public' });
      const m1 = await sendMessage(a.socket, room.id, 'one');
      const m2 = await sendMessage(b.socket, room.id, 'two');
      const o1 = await sendMessage(a.socket, other.id, 'other one');
      const m3 = await sendMessage(c.socket, room.id, 'three');
      expect([m1.seq, m2.seq, m3.seq]).toEqual([1, 2, 3]);
      expect(o1.seq).toBe(1);
      expect(new Set([m1.id, m2.id, m3.id, o1.id]).size).toBe(4);
      expect((await history(a.socket, room.id)).items.map((m) => [m.seq, m.senderId, m.text])).toEqual([
        [1, a.id, 'one'],
        [2, b.id, 'two'],
        [3, c.id, 'three'],
      ]);
    });

    it('keeps text exactly (whitespace, Unicode, markup, operator-looking strings)', async () => {
      const { a, room } = await setup();
      const texts = ['  padded  ', 'line1\nline2', '😀👍🏽 naïve 日本語', '<script>alert(1)</script>', '{"$gt": ""}', '$where', 'a.b.c', '__proto__'];
      for (const text of texts) expect((await sendMessage(a.socket, room.id, text)).text).toBe(text);
      expect((await history(a.socket, room.id)).items.map((m) => m.text)).toEqual(texts);
    });

    it('accepts text of 1 and 4000 characters and clientMsgId of 1 and 64', async () => {
      const { a, room } = await setup();
      expect((await ok<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId: 'k', text: 'x' })).text).toBe('x');
      const long = 'y'.repeat(4000);
      const id64 = 'i'.repeat(64);
      const m = await ok<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId: id64, text: long });
      expectMessage(m, { roomId: room.id, seq: 2, senderId: a.id, clientMsgId: id64, text: long });
    });

    const invalid: Array<[string, (roomId: string) => unknown]> = [
      ['empty text', (r) => ({ roomId: r, clientMsgId: cmid(), text: '' })],
      ['4001-character text', (r) => ({ roomId: r, clientMsgId: cmid(), text: 'z'.repeat(4001) })],
      ['numeric text', (r) => ({ roomId: r, clientMsgId: cmid(), text: 123 })],
      ['null text', (r) => ({ roomId: r, clientMsgId: cmid(), text: null })],
      ['missing text', (r) => ({ roomId: r, clientMsgId: cmid() })],
      ['empty clientMsgId', (r) => ({ roomId: r, clientMsgId: '', text: 'x' })],
      ['65-character clientMsgId', (r) => ({ roomId: r, clientMsgId: 'c'.repeat(65), text: 'x' })],
      ['numeric clientMsgId', (r) => ({ roomId: r, clientMsgId: 5, text: 'x' })],
      ['missing clientMsgId', (r) => ({ roomId: r, text: 'x' })],
      ['missing roomId', () => ({ clientMsgId: cmid(), text: 'x' })],
      ['numeric replyTo', (r) => ({ roomId: r, clientMsgId: cmid(), text: 'x', replyTo: 1 })],
      ['an extra field', (r) => ({ roomId: r, clientMsgId: cmid(), text: 'x', senderId: 'someone-else' })],
      ['a seq field', (r) => ({ roomId: r, clientMsgId: cmid(), text: 'x', seq: 99 })],
    ];
    it.each(invalid)('refuses %s with VALIDATION_FAILED and stores nothing', async (_n, make) => {
      const { a, b, room } = await setup();
      const seen = eventsUntil<Message>(b.socket, 'message:new');
      await refused(a.socket, 'message:send', make(room.id), 'VALIDATION_FAILED');
      expect(await history(a.socket, room.id)).toEqual({ items: [], hasMore: false });
      // A valid send after it: b gets it, and nothing before it; it takes seq 1.
      const marker = await sendMessage(a.socket, room.id, 'marker');
      expect(await seen.before((m) => m.id === marker.id)).toEqual([]);
      expect(marker.seq).toBe(1);
    });

    it('a non-member gets FORBIDDEN; an unknown room NOT_FOUND; nothing is stored', async () => {
      const { a, outsider, room } = await setup();
      await refused(outsider.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'x' }, 'FORBIDDEN');
      await refused(a.socket, 'message:send', { roomId: unknownObjectId(), clientMsgId: cmid(), text: 'x' }, 'NOT_FOUND');
      await refused(a.socket, 'message:send', { roomId: 'not-a-room', clientMsgId: cmid(), text: 'x' }, 'NOT_FOUND');
      expect(await history(a.socket, room.id)).toEqual({ items: [], hasMore: false });
      expect((await sendMessage(a.socket, room.id, 'first')).seq).toBe(1);
    });
  });

  describe('message:send idempotency', () => {
    it('the same sender and clientMsgId return the stored message and broadcast nothing new', async () => {
      const { a, b, room } = await setup();
      const clientMsgId = cmid();
      const firstSeen = next(b.socket, 'message:new', room.id);
      const first = await ok<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId, text: 'once' });
      expect(await firstSeen).toEqual(first);
      const seen = eventsUntil<Message>(b.socket, 'message:new');
      const retry = await ok<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId, text: 'once' });
      // A retry with different text still returns what was stored.
      const altered = await ok<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId, text: 'twice?' });
      expect(retry).toEqual(first);
      expect(altered).toEqual(first);
      expect((await history(a.socket, room.id)).items).toEqual([first]);
      // The next message is the only one b gets after the first.
      const after = await sendMessage(a.socket, room.id, 'next');
      expect(after.seq).toBe(2);
      expect(await seen.before((m) => m.id === after.id)).toEqual([]);
    });

    it('a retry after the message was edited or deleted returns the stored message; no new seq', async () => {
      const { a, b, room } = await setup();
      const clientMsgId = cmid();
      const firstSeen = next(b.socket, 'message:new', room.id);
      const first = await ok<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId, text: 'v1' });
      await firstSeen;
      const edited = await ok<Message>(a.socket, 'message:edit', { messageId: first.id, text: 'v2' });
      const afterEdit = await ok<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId, text: 'v1' });
      expect(afterEdit).toEqual(edited);
      await ok(a.socket, 'message:delete', { messageId: first.id });
      const seen = eventsUntil<Message>(b.socket, 'message:new');
      const afterDelete = await ok<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId, text: 'v1' });
      expect(afterDelete).toMatchObject({ id: first.id, seq: 1, text: '', deletedAt: expect.any(String) });
      expect((await history(a.socket, room.id)).items).toEqual([afterDelete]);
      const marker = await sendMessage(a.socket, room.id, 'marker');
      expect(await seen.before((m) => m.id === marker.id)).toEqual([]);
    });

    it('a retry from another socket of the same user is the same message', async () => {
      const { a, room } = await setup();
      const a2 = await connectUser(t.url, a);
      const clientMsgId = cmid();
      const first = await ok<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId, text: 'hi' });
      expect(await ok<Message>(a2, 'message:send', { roomId: room.id, clientMsgId, text: 'hi' })).toEqual(first);
    });

    it('two senders may use the same clientMsgId: two messages', async () => {
      const { a, b, room } = await setup();
      const clientMsgId = cmid();
      const ma = await ok<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId, text: 'from a' });
      const mb = await ok<Message>(b.socket, 'message:send', { roomId: room.id, clientMsgId, text: 'from b' });
      expect(mb.id).not.toBe(ma.id);
      expect([ma.seq, mb.seq]).toEqual([1, 2]);
      expect(mb.senderId).toBe(b.id);
    });

    it('the same clientMsgId in a different room is CONFLICT and stores nothing there', async () => {
      const { a, b, room } = await setup();
      const other = await createRoom(a.socket, { type: 'public' });
      await ok(b.socket, 'room:join', { roomId: other.id });
      const clientMsgId = cmid();
      const delivered = waitFor<Message>(b.socket, 'message:new', (m) => m.clientMsgId === clientMsgId);
      const first = await ok<Message>(a.socket, 'message:send', { roomId: room.id, clientMsgId, text: 'here' });
      // The first send's own broadcast may reach b after a's ack: only later events count.
      await delivered;
      const seen = eventsUntil<Message>(b.socket, 'message:new');
      await refused(a.socket, 'message:send', { roomId: other.id, clientMsgId, text: 'there' }, 'CONFLICT');
      expect(await history(a.socket, other.id)).toEqual({ items: [], hasMore: false });
      expect((await history(a.socket, room.id)).items).toEqual([first]);
      const marker = await sendMessage(a.socket, other.id, 'marker');
      expect(marker.seq).toBe(1);
      expect(await seen.before((m) => m.id === marker.id)).toEqual([]);
    });
  });

  describe('replyTo', () => {
    it('a reply names a message of the same room', async () => {
      const { a, b, room } = await setup();
      const parent = await sendMessage(a.socket, room.id, 'question');
      const seen = next(a.socket, 'message:new', room.id);
      const reply = await sendMessage(b.socket, room.id, 'answer', { replyTo: parent.id });
      expectMessage(reply, { roomId: room.id, seq: 2, senderId: b.id, text: 'answer', replyTo: parent.id, clientMsgId: reply.clientMsgId });
      expect(await seen).toEqual(reply);
      expect((await history(a.socket, room.id)).items[1].replyTo).toBe(parent.id);
    });

    it('a replyTo that is not a message of this room is NOT_FOUND and stores nothing', async () => {
      const { a, room } = await setup();
      const other = await createRoom(a.socket, { type: 'public' });
      const elsewhere = await sendMessage(a.socket, other.id, 'elsewhere');
      await refused(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'x', replyTo: elsewhere.id }, 'NOT_FOUND');
      await refused(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'x', replyTo: unknownObjectId() }, 'NOT_FOUND');
      await refused(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'x', replyTo: 'nope' }, 'NOT_FOUND');
      expect(await history(a.socket, room.id)).toEqual({ items: [], hasMore: false });
    });
  });

  describe('message:edit', () => {
    it('the sender edits: Message with the new text and editedAt, same id and seq; message:updated to members', async () => {
      const { a, b, b2, c, room } = await setup();
      const m = await sendMessage(b.socket, room.id, 'typo');
      const updates = Promise.all([a.socket, b.socket, b2, c.socket].map((s) => next(s, 'message:updated', room.id)));
      const edited = await ok<Message>(b.socket, 'message:edit', { messageId: m.id, text: 'fixed' });
      expectMessage(edited, { ...m, text: 'fixed', editedAt: isoDate() });
      expect(Date.parse(edited.editedAt!)).toBeGreaterThanOrEqual(Date.parse(m.createdAt));
      for (const u of await updates) expect(u).toEqual(edited);
      expect((await history(a.socket, room.id)).items).toEqual([edited]);
      // Editing does not take a seq.
      expect((await sendMessage(a.socket, room.id, 'after')).seq).toBe(2);
    });

    it('only the sender: the owner, an admin, a member and a non-member get FORBIDDEN', async () => {
      const { a, b, c, outsider, room } = await setup();
      const m = await sendMessage(b.socket, room.id, 'mine');
      await refused(a.socket, 'message:edit', { messageId: m.id, text: 'owner edit' }, 'FORBIDDEN');
      await ok(a.socket, 'room:set_role', { roomId: room.id, userId: c.id, role: 'admin' });
      await refused(c.socket, 'message:edit', { messageId: m.id, text: 'admin edit' }, 'FORBIDDEN');
      await ok(a.socket, 'room:set_role', { roomId: room.id, userId: c.id, role: 'member' });
      await refused(c.socket, 'message:edit', { messageId: m.id, text: 'member edit' }, 'FORBIDDEN');
      await refused(outsider.socket, 'message:edit', { messageId: m.id, text: 'outsider edit' }, 'FORBIDDEN');
      expect((await history(a.socket, room.id)).items).toEqual([m]);
    });

    it('unknown message NOT_FOUND; deleted message CONFLICT; bad payloads VALIDATION_FAILED', async () => {
      const { a, room } = await setup();
      const m = await sendMessage(a.socket, room.id, 'soon gone');
      await refused(a.socket, 'message:edit', { messageId: unknownObjectId(), text: 'x' }, 'NOT_FOUND');
      await refused(a.socket, 'message:edit', { messageId: m.id, text: '' }, 'VALIDATION_FAILED');
      await refused(a.socket, 'message:edit', { messageId: m.id, text: 'e'.repeat(4001) }, 'VALIDATION_FAILED');
      await refused(a.socket, 'message:edit', { messageId: m.id, text: 7 }, 'VALIDATION_FAILED');
      await refused(a.socket, 'message:edit', { messageId: m.id }, 'VALIDATION_FAILED');
      await refused(a.socket, 'message:edit', { messageId: m.id, text: 'x', roomId: room.id }, 'VALIDATION_FAILED');
      expect((await history(a.socket, room.id)).items).toEqual([m]);
      await ok(a.socket, 'message:delete', { messageId: m.id });
      await refused(a.socket, 'message:edit', { messageId: m.id, text: 'resurrect' }, 'CONFLICT');
      const [stored] = (await history(a.socket, room.id)).items;
      expect(stored.text).toBe('');
      expect(stored.editedAt).toBeNull();
    });

    it('a sender who left the room can no longer edit (FORBIDDEN)', async () => {
      const { a, b, room } = await setup();
      const m = await sendMessage(b.socket, room.id, 'before leaving');
      await ok(b.socket, 'room:leave', { roomId: room.id });
      await refused(b.socket, 'message:edit', { messageId: m.id, text: 'after leaving' }, 'FORBIDDEN');
      expect((await history(a.socket, room.id)).items[0].text).toBe('before leaving');
    });
  });

  describe('message:delete', () => {
    it('the sender deletes: {} back; message:updated with text "", deletedAt set, same id and seq', async () => {
      const { a, b, c, room } = await setup();
      const m = await sendMessage(b.socket, room.id, 'regret');
      const updates = Promise.all([a.socket, b.socket, c.socket].map((s) => next(s, 'message:updated', room.id)));
      expect(await request(b.socket, 'message:delete', { messageId: m.id })).toEqual({ ok: true, data: {} });
      const [u] = await updates;
      expectMessage(u, { ...m, text: '', deletedAt: isoDate(), editedAt: u.editedAt });
      expect(u.editedAt === null || typeof u.editedAt === 'string').toBe(true);
      for (const other of await updates) expect(other).toEqual(u);
      expect((await history(c.socket, room.id)).items).toEqual([u]);
      // The deleted seq is not reused.
      expect((await sendMessage(a.socket, room.id, 'next')).seq).toBe(2);
    });

    it('the owner and an admin may delete others’ messages; a plain member or non-member may not', async () => {
      const { a, b, c, outsider, room } = await setup();
      const m1 = await sendMessage(c.socket, room.id, 'c one');
      const m2 = await sendMessage(c.socket, room.id, 'c two');
      await refused(b.socket, 'message:delete', { messageId: m1.id }, 'FORBIDDEN');
      await refused(outsider.socket, 'message:delete', { messageId: m1.id }, 'FORBIDDEN');
      expect((await history(a.socket, room.id)).items).toEqual([m1, m2]);
      expect(await request(a.socket, 'message:delete', { messageId: m1.id })).toEqual({ ok: true, data: {} });
      await ok(a.socket, 'room:set_role', { roomId: room.id, userId: b.id, role: 'admin' });
      expect(await request(b.socket, 'message:delete', { messageId: m2.id })).toEqual({ ok: true, data: {} });
      const items = (await history(a.socket, room.id)).items;
      expect(items.map((m) => [m.id, m.seq, m.text, typeof m.deletedAt])).toEqual([
        [m1.id, 1, '', 'string'],
        [m2.id, 2, '', 'string'],
      ]);
    });

    it('unknown message NOT_FOUND; bad payloads VALIDATION_FAILED', async () => {
      const { a, room } = await setup();
      const m = await sendMessage(a.socket, room.id, 'stays');
      await refused(a.socket, 'message:delete', { messageId: unknownObjectId() }, 'NOT_FOUND');
      await refused(a.socket, 'message:delete', { messageId: 'nope' }, 'NOT_FOUND');
      await refused(a.socket, 'message:delete', {}, 'VALIDATION_FAILED');
      await refused(a.socket, 'message:delete', { messageId: 3 }, 'VALIDATION_FAILED');
      await refused(a.socket, 'message:delete', { messageId: m.id, hard: true }, 'VALIDATION_FAILED');
      expect((await history(a.socket, room.id)).items).toEqual([m]);
    });
  });

  describe('message:react', () => {
    it('adds and removes reactions; Message back and message:updated to members', async () => {
      const { a, b, c, room } = await setup();
      const m = await sendMessage(a.socket, room.id, 'react to me');
      const u1 = next(a.socket, 'message:updated', room.id);
      const r1 = await ok<Message>(b.socket, 'message:react', { messageId: m.id, emoji: '👍', add: true });
      expectMessage(r1, { ...m, reactions: { '👍': [b.id] } });
      expect(await u1).toEqual(r1);
      const r2 = await ok<Message>(c.socket, 'message:react', { messageId: m.id, emoji: '👍', add: true });
      expect(r2.reactions['👍'].slice().sort()).toEqual([b.id, c.id].sort());
      const r3 = await ok<Message>(c.socket, 'message:react', { messageId: m.id, emoji: '🎉', add: true });
      expect(Object.keys(r3.reactions).sort()).toEqual(['🎉', '👍'].sort());
      expect(r3.reactions['🎉']).toEqual([c.id]);
      const r4 = await ok<Message>(b.socket, 'message:react', { messageId: m.id, emoji: '👍', add: false });
      expect(r4.reactions['👍']).toEqual([c.id]);
      const r5 = await ok<Message>(c.socket, 'message:react', { messageId: m.id, emoji: '👍', add: false });
      expect(r5.reactions['👍'] ?? []).toEqual([]);
      expect(r5.reactions['🎉']).toEqual([c.id]);
      expectMessage(r5, { ...m, reactions: r5.reactions });
      const [stored] = (await history(a.socket, room.id)).items;
      expect(stored).toEqual(r5);
      // Reacting neither edits the text nor takes a seq.
      expect(stored.editedAt).toBeNull();
      expect((await sendMessage(a.socket, room.id, 'next')).seq).toBe(2);
    });

    it('adding twice counts once; removing a reaction you never made changes nothing', async () => {
      const { a, b, room } = await setup();
      const m = await sendMessage(a.socket, room.id, 'hi');
      await ok(b.socket, 'message:react', { messageId: m.id, emoji: '❤️', add: true });
      const twice = await ok<Message>(b.socket, 'message:react', { messageId: m.id, emoji: '❤️', add: true });
      expect(twice.reactions).toEqual({ '❤️': [b.id] });
      const none = await ok<Message>(a.socket, 'message:react', { messageId: m.id, emoji: '🙃', add: false });
      expect(none.reactions).toEqual({ '❤️': [b.id] });
    });

    it('concurrent reactions from many users are all kept', async () => {
      const { a, room } = await setup();
      const m = await sendMessage(a.socket, room.id, 'popular');
      const people = await Promise.all(Array.from({ length: 8 }, () => person()));
      for (const p of people) await ok(p.socket, 'room:join', { roomId: room.id });
      await Promise.all(people.map((p) => ok(p.socket, 'message:react', { messageId: m.id, emoji: '🔥', add: true })));
      const [stored] = (await history(a.socket, room.id)).items;
      expect(stored.reactions['🔥'].slice().sort()).toEqual(people.map((p) => p.id).sort());
    });

    it('non-member FORBIDDEN; unknown message NOT_FOUND; deleted message CONFLICT', async () => {
      const { a, b, outsider, room } = await setup();
      const m = await sendMessage(a.socket, room.id, 'x');
      await refused(outsider.socket, 'message:react', { messageId: m.id, emoji: '👍', add: true }, 'FORBIDDEN');
      await refused(b.socket, 'message:react', { messageId: unknownObjectId(), emoji: '👍', add: true }, 'NOT_FOUND');
      await ok(a.socket, 'message:delete', { messageId: m.id });
      await refused(b.socket, 'message:react', { messageId: m.id, emoji: '👍', add: true }, 'CONFLICT');
      const [stored] = (await history(a.socket, room.id)).items;
      expect(stored.reactions['👍'] ?? []).toEqual([]);
    });

    it.each([
      ['a missing emoji', (id: string) => ({ messageId: id, add: true })],
      ['an empty emoji', (id: string) => ({ messageId: id, emoji: '', add: true })],
      ['a numeric emoji', (id: string) => ({ messageId: id, emoji: 1, add: true })],
      ['add as a string', (id: string) => ({ messageId: id, emoji: '👍', add: 'true' })],
      ['add as a number', (id: string) => ({ messageId: id, emoji: '👍', add: 1 })],
      ['a missing add', (id: string) => ({ messageId: id, emoji: '👍' })],
      ['an extra field', (id: string) => ({ messageId: id, emoji: '👍', add: true, userId: 'x' })],
    ])('refuses %s with VALIDATION_FAILED and changes nothing', async (_n, make) => {
      const { a, b, room } = await setup();
      const m = await sendMessage(a.socket, room.id, 'x');
      await refused(b.socket, 'message:react', make(m.id), 'VALIDATION_FAILED');
      expect((await history(a.socket, room.id)).items).toEqual([m]);
    });
  });
});
