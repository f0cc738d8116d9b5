// message:history: directions, limits, hasMore and the page edges (empty, 100, 101).
import { beforeAll, describe, expect, it } from 'vitest';
import { useChatApp } from '../helpers/chat-app';
import {
  createRoom,
  expectMessage,
  history,
  newPerson,
  ok,
  pageAfter,
  refused,
  seedMessages,
  unknownObjectId,
  type Message,
  type Person,
  type Room,
} from '../helpers/chat';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('chat: message:history', () => {
  const t = useChatApp();
  let owner: Person;
  let member: Person;
  let outsider: Person;
  let empty: Room;
  let hundred: Room;
  let hundredOne: Room;
  let seeded100: Message[];
  let seeded101: Message[];

  beforeAll(async () => {
    [owner, member, outsider] = await Promise.all([newPerson(t.url), newPerson(t.url), newPerson(t.url)]);
    empty = await createRoom(owner.socket, { type: 'public', name: 'empty' });
    hundred = await createRoom(owner.socket, { type: 'public', name: 'hundred' });
    hundredOne = await createRoom(owner.socket, { type: 'public', name: 'hundred-one' });
    for (const r of [empty, hundred, hundredOne]) await ok(member.socket, 'room:join', { roomId: r.id });
    [seeded100, seeded101] = await Promise.all([seedMessages(owner.socket, hundred.id, 100, 'h'), seedMessages(member.socket, hundredOne.id, 101, 'k')]);
  });

  const seqs = (p: { items: Message[] }) => p.items.map((m) => m.seq);

  it('seeding acked seqs 1..100 and 1..101', () => {
    expect(seeded100.map((m) => m.seq)).toEqual(range(1, 100));
    expect(seeded101.map((m) => m.seq)).toEqual(range(1, 101));
  });

  it('an empty room: every direction is { items: [], hasMore: false }', async () => {
    const none = { items: [], hasMore: false };
    expect(await history(member.socket, empty.id)).toEqual(none);
    expect(await history(member.socket, empty.id, { afterSeq: 0 })).toEqual(none);
    expect(await history(member.socket, empty.id, { beforeSeq: 1 })).toEqual(none);
    expect(await history(member.socket, empty.id, { beforeSeq: 1000 })).toEqual(none);
    expect(await history(member.socket, empty.id, { limit: 100 })).toEqual(none);
  });

  it('items are exact Messages, equal to what the sender was acked', async () => {
    const page = await history(member.socket, hundred.id, { afterSeq: 0, limit: 100 });
    expect(page.items).toEqual(seeded100);
    for (const m of page.items) expectMessage(m, { roomId: hundred.id, senderId: owner.id, text: `h${m.seq}`, clientMsgId: m.clientMsgId, id: m.id, seq: m.seq });
  });

  describe('exactly 100 messages', () => {
    it('default: the newest 50, ascending, hasMore true', async () => {
      const p = await history(member.socket, hundred.id);
      expect(seqs(p)).toEqual(range(51, 100));
      expect(p.hasMore).toBe(true);
    });
    it('limit 100: all of them, hasMore false', async () => {
      const p = await history(member.socket, hundred.id, { limit: 100 });
      expect(seqs(p)).toEqual(range(1, 100));
      expect(p.hasMore).toBe(false);
    });
    it('afterSeq 0: the oldest 50, hasMore true; afterSeq 50: the rest, hasMore false', async () => {
      const p1 = await history(member.socket, hundred.id, { afterSeq: 0 });
      expect(seqs(p1)).toEqual(range(1, 50));
      expect(p1.hasMore).toBe(true);
      const p2 = await history(member.socket, hundred.id, { afterSeq: 50 });
      expect(seqs(p2)).toEqual(range(51, 100));
      expect(p2.hasMore).toBe(false);
    });
    it('afterSeq 0 limit 100: all, hasMore false; afterSeq 100: nothing, hasMore false', async () => {
      const p = await history(member.socket, hundred.id, { afterSeq: 0, limit: 100 });
      expect(seqs(p)).toEqual(range(1, 100));
      expect(p.hasMore).toBe(false);
      expect(await history(member.socket, hundred.id, { afterSeq: 100 })).toEqual({ items: [], hasMore: false });
      expect(await history(member.socket, hundred.id, { afterSeq: 5000 })).toEqual({ items: [], hasMore: false });
    });
    it('beforeSeq: the newest below it; hasMore says whether older ones exist', async () => {
      const p1 = await history(member.socket, hundred.id, { beforeSeq: 51 });
      expect(seqs(p1)).toEqual(range(1, 50));
      expect(p1.hasMore).toBe(false);
      const p2 = await history(member.socket, hundred.id, { beforeSeq: 101, limit: 100 });
      expect(seqs(p2)).toEqual(range(1, 100));
      expect(p2.hasMore).toBe(false);
      const p3 = await history(member.socket, hundred.id, { beforeSeq: 101 });
      expect(seqs(p3)).toEqual(range(51, 100));
      expect(p3.hasMore).toBe(true);
      const p4 = await history(member.socket, hundred.id, { beforeSeq: 1 });
      expect(p4).toEqual({ items: [], hasMore: false });
      const p5 = await history(member.socket, hundred.id, { beforeSeq: 52, limit: 50 });
      expect(seqs(p5)).toEqual(range(2, 51));
      expect(p5.hasMore).toBe(true);
    });
    it('limit 1 at both ends', async () => {
      expect(await history(member.socket, hundred.id, { limit: 1 })).toEqual({ items: [seeded100[99]], hasMore: true });
      expect(await history(member.socket, hundred.id, { afterSeq: 0, limit: 1 })).toEqual({ items: [seeded100[0]], hasMore: true });
      expect(await history(member.socket, hundred.id, { afterSeq: 99, limit: 1 })).toEqual({ items: [seeded100[99]], hasMore: false });
      expect(await history(member.socket, hundred.id, { beforeSeq: 2, limit: 1 })).toEqual({ items: [seeded100[0]], hasMore: false });
    });
    it('paging afterSeq from 0 in pages of 7 ends with every message exactly once', async () => {
      expect((await pageAfter(member.socket, hundred.id, 0, 7)).map((m) => m.seq)).toEqual(range(1, 100));
    });
    it('paging beforeSeq backwards in pages of 30 ends with every message exactly once', async () => {
      const all: Message[] = [];
      let before: number | undefined;
      for (let guard = 0; guard < 20; guard++) {
        const p = await history(member.socket, hundred.id, { limit: 30, ...(before ? { beforeSeq: before } : {}) });
        all.unshift(...p.items);
        if (!p.hasMore) break;
        before = p.items[0].seq;
      }
      expect(all.map((m) => m.seq)).toEqual(range(1, 100));
    });
  });

  describe('exactly 101 messages', () => {
    it('limit 100: the newest 100 (2..101), hasMore true; beforeSeq 2: [1], hasMore false', async () => {
      const p = await history(owner.socket, hundredOne.id, { limit: 100 });
      expect(seqs(p)).toEqual(range(2, 101));
      expect(p.hasMore).toBe(true);
      expect(await history(owner.socket, hundredOne.id, { beforeSeq: 2, limit: 100 })).toEqual({ items: [seeded101[0]], hasMore: false });
    });
    it('afterSeq 0 limit 100: 1..100, hasMore true; afterSeq 100: [101], hasMore false', async () => {
      const p = await history(owner.socket, hundredOne.id, { afterSeq: 0, limit: 100 });
      expect(seqs(p)).toEqual(range(1, 100));
      expect(p.hasMore).toBe(true);
      expect(await history(owner.socket, hundredOne.id, { afterSeq: 100, limit: 100 })).toEqual({ items: [seeded101[100]], hasMore: false });
    });
    it('default page: 52..101, hasMore true', async () => {
      const p = await history(owner.socket, hundredOne.id);
      expect(seqs(p)).toEqual(range(52, 101));
      expect(p.hasMore).toBe(true);
    });
  });

  it('deleted messages keep their place in history', async () => {
    const room = await createRoom(owner.socket, { type: 'public' });
    const ms = await seedMessages(owner.socket, room.id, 3, 'd', 1);
    await ok(owner.socket, 'message:delete', { messageId: ms[1].id });
    const p = await history(owner.socket, room.id);
    expect(seqs(p)).toEqual([1, 2, 3]);
    expect(p.items[1]).toMatchObject({ id: ms[1].id, seq: 2, text: '', deletedAt: expect.any(String) });
  });

  describe('refusals', () => {
    it('a non-member gets FORBIDDEN (even for a public room); an unknown room NOT_FOUND', async () => {
      await refused(outsider.socket, 'message:history', { roomId: hundred.id }, 'FORBIDDEN');
      await refused(outsider.socket, 'message:history', { roomId: hundred.id, afterSeq: 0 }, 'FORBIDDEN');
      await refused(owner.socket, 'message:history', { roomId: unknownObjectId() }, 'NOT_FOUND');
      await refused(owner.socket, 'message:history', { roomId: 'no-such-room' }, 'NOT_FOUND');
    });

    it.each([
      ['both beforeSeq and afterSeq', { beforeSeq: 10, afterSeq: 2 }],
      ['limit 0', { limit: 0 }],
      ['limit 101', { limit: 101 }],
      ['limit -5', { limit: -5 }],
      ['a fractional limit', { limit: 10.5 }],
      ['a string limit', { limit: '10' }],
      ['a string afterSeq', { afterSeq: '5' }],
      ['a string beforeSeq', { beforeSeq: '5' }],
      ['a fractional afterSeq', { afterSeq: 1.5 }],
      ['a negative afterSeq', { afterSeq: -1 }],
      ['a null afterSeq', { afterSeq: null }],
      ['an operator as afterSeq', { afterSeq: { $gt: 0 } }],
      ['an extra field', { order: 'desc' }],
    ])('%s is VALIDATION_FAILED', async (_n, extra) => {
      await refused(member.socket, 'message:history', { roomId: hundred.id, ...extra }, 'VALIDATION_FAILED');
    });

    it('a missing or non-string roomId is VALIDATION_FAILED', async () => {
      await refused(member.socket, 'message:history', {}, 'VALIDATION_FAILED');
      await refused(member.socket, 'message:history', { roomId: 1 }, 'VALIDATION_FAILED');
      await refused(member.socket, 'message:history', { roomId: { $ne: null } }, 'VALIDATION_FAILED');
    });
  });
});
