// Threads and mentions (extension, issue 14; docs/protocol.md "Threads" and "Mentions").
// Thread replies (`threadOf`) are room messages that the parent summarises
// (threadReplyCount, threadLastReplyAt, threadParticipants), paged by thread:history and left
// out of the room timeline on request (`excludeThreadReplies`) unless `alsoInRoom`. `@username`
// mentions of members are resolved at send time (`mentions`) and counted per member
// (`unreadMentions` in room:list and message:read). One node and two nodes with Redis,
// socket and REST, refusals that change nothing, idempotent retries.
import { describe, expect, it } from 'vitest';
import { useChatApp } from '../helpers/chat-app';
import { type TestApp } from '../helpers/app';
import { request, waitFor } from '../helpers/clients';
import { useNodes } from '../helpers/nodes';
import { notificationRecipients } from '../../server/src/jobs/notifications/recipients';
import { api, cmid, connectUser, createRoom, expectAckError, expectHttpError, history, newPerson, ok, registerUser, seedMessages, sendMessage, type Message, type Person, type RoomSummary } from '../helpers/chat';

interface ThreadMessage extends Message {
  mentions?: string[];
  threadOf?: string;
  alsoInRoom?: true;
  threadReplyCount?: number;
  threadLastReplyAt?: string;
  threadParticipants?: string[];
}
type Summary = RoomSummary & { unreadMentions: number };

const reply = (p: Person, roomId: string, threadOf: string, text: string, extra: Record<string, unknown> = {}) =>
  ok<ThreadMessage>(p.socket, 'message:send', { roomId, clientMsgId: cmid(), text, threadOf, ...extra });
const summaryOf = async (p: Person, roomId: string): Promise<Summary> =>
  (await ok<{ items: Summary[] }>(p.socket, 'room:list', { limit: 100 })).items.find((r) => r.id === roomId)!;
const roomDoc = (t: TestApp, roomId: string) => t.app.chat.repos.rooms.findById(roomId);

describe('threads and mentions: one node', () => {
  const t = useChatApp();

  it('mentions: members named as @username are resolved at send time, carried on the message, and absent otherwise', async () => {
    const [a, b, c, outsider] = await Promise.all([newPerson(t.url), newPerson(t.url), newPerson(t.url), newPerson(t.url)]);
    const room = await createRoom(a.socket, { type: 'public', memberIds: [b.id, c.id] });
    const seen = waitFor<ThreadMessage>(b.socket, 'message:new', (m) => m.roomId === room.id);
    // Any case, trailing punctuation, duplicates; an e-mail address and a non-member mention nobody.
    const m = await sendMessage(a.socket, room.id, `hi @${b.username.toUpperCase()}, @${c.username}. and @${b.username} mail x@${c.username} @${outsider.username}`);
    expect((m as ThreadMessage).mentions).toEqual([b.id, c.id].sort());
    expect((await seen).mentions).toEqual([b.id, c.id].sort());
    const plain = await sendMessage(a.socket, room.id, 'no mentions here @nobody_with_this_name @__proto__ @constructor @$where @a.b.c.d');
    expect(plain).not.toHaveProperty('mentions');
    const page = await history(a.socket, room.id);
    expect((page.items as ThreadMessage[]).map((x) => x.mentions)).toEqual([[b.id, c.id].sort(), undefined]);
    // REST sends resolve them the same way.
    const res = await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: a.token, body: { clientMsgId: cmid(), text: `@${c.username}` } });
    expect(res.status).toBe(201);
    expect(res.body.mentions).toEqual([c.id]);
  });

  it('unreadMentions: counted per member next to unreadCount, reduced by message:read, reset by sending, not doubled by retries', async () => {
    const [a, b] = await Promise.all([newPerson(t.url), newPerson(t.url)]);
    const room = await createRoom(a.socket, { type: 'private', memberIds: [b.id] });
    const first = await sendMessage(a.socket, room.id, `@${b.username} one`);
    await sendMessage(a.socket, room.id, 'not a mention');
    const key = cmid();
    const third = await sendMessage(a.socket, room.id, `@${b.username} three`, { clientMsgId: key });
    // A retry returns the stored message and counts nothing twice.
    expect(await sendMessage(a.socket, room.id, `@${b.username} three`, { clientMsgId: key })).toEqual(third);
    // Self-mentions are carried but never counted.
    await sendMessage(b.socket, room.id, `note to @${b.username}`).then(() => undefined);
    // b's own send marked everything up to it read: nothing unread, no mentions.
    let s = await summaryOf(b, room.id);
    expect([s.unreadCount, s.unreadMentions]).toEqual([0, 0]);

    const four = await sendMessage(a.socket, room.id, `@${b.username} four`);
    await sendMessage(a.socket, room.id, `five @${b.username}`);
    s = await summaryOf(b, room.id);
    expect([s.unreadCount, s.unreadMentions]).toEqual([2, 2]);
    const rest = (await api(t.url, 'GET', '/api/v1/rooms', { token: b.token })).body.items.find((r: Summary) => r.id === room.id);
    expect([rest.unreadCount, rest.unreadMentions]).toEqual([2, 2]);
    // a mentioned nobody: its count stays 0.
    expect((await summaryOf(a, room.id)).unreadMentions).toBe(0);

    expect(await ok(b.socket, 'message:read', { roomId: room.id, seq: four.seq })).toEqual({ lastReadSeq: four.seq, unreadCount: 1, unreadMentions: 1 });
    // A read below the position changes nothing and answers the same counts.
    expect(await ok(b.socket, 'message:read', { roomId: room.id, seq: first.seq })).toEqual({ lastReadSeq: four.seq, unreadCount: 1, unreadMentions: 1 });
    expect(await ok(b.socket, 'message:read', { roomId: room.id, seq: 1_000_000 })).toEqual({ lastReadSeq: four.seq + 1, unreadCount: 0, unreadMentions: 0 });
    expect((await summaryOf(b, room.id)).unreadMentions).toBe(0);
    // The read mentions left the membership (it does not grow with read mentions).
    expect((await t.app.chat.repos.memberships.get(room.id, b.id))?.mentionSeqs ?? []).toEqual([]);
  });

  it('unreadMentions is bounded: at most 500 kept per member and room, all cleared by a read', async () => {
    const [a, b] = await Promise.all([newPerson(t.url), newPerson(t.url)]);
    const room = await createRoom(a.socket, { type: 'public', memberIds: [b.id] });
    const seeded = await seedMessages(a.socket, room.id, 500, 'm', 20);
    // As if each of them had mentioned b (500 sends with mentions record exactly this).
    await t.app.deps.db.collection('memberships').updateOne({ _id: `${room.id}:${b.id}` as never }, { $set: { mentionSeqs: seeded.map((m) => m.seq) } });
    expect((await summaryOf(b, room.id)).unreadMentions).toBe(500);
    const over = await sendMessage(a.socket, room.id, `@${b.username} one too many`);
    expect((await t.app.chat.repos.memberships.get(room.id, b.id))?.mentionSeqs).toHaveLength(500);
    expect((await t.app.chat.repos.memberships.get(room.id, b.id))?.mentionSeqs).not.toContain(over.seq);
    expect(await ok(b.socket, 'message:read', { roomId: room.id, seq: 10_000_000 })).toEqual({ lastReadSeq: over.seq, unreadCount: 0, unreadMentions: 0 });
  });

  it('threads: a reply is a room message; the parent summarises the thread; thread:history pages it (socket and REST)', async () => {
    const [a, b, c] = await Promise.all([newPerson(t.url), newPerson(t.url), newPerson(t.url)]);
    const room = await createRoom(a.socket, { type: 'public', memberIds: [b.id, c.id] });
    const parent = await sendMessage(a.socket, room.id, 'parent');
    const updates: ThreadMessage[] = [];
    c.socket.on('message:updated', (m: ThreadMessage) => m.id === parent.id && updates.push(m));
    const news = waitFor<ThreadMessage>(c.socket, 'message:new', (m) => m.roomId === room.id && m.text === 'r1');
    const r1 = await reply(b, room.id, parent.id, 'r1');
    expect(r1).toEqual(expect.objectContaining({ threadOf: parent.id, seq: parent.seq + 1, roomId: room.id }));
    expect(r1).not.toHaveProperty('alsoInRoom');
    expect((await news).threadOf).toBe(parent.id);
    const r2 = await reply(c, room.id, parent.id, `r2 for @${b.username}`, { alsoInRoom: true });
    expect(r2.alsoInRoom).toBe(true);
    const restReply = await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: a.token, body: { clientMsgId: cmid(), text: 'r3', threadOf: parent.id } });
    expect(restReply.status).toBe(201);
    const r3 = restReply.body as ThreadMessage;
    expect(r3.threadOf).toBe(parent.id);

    // The parent as every reader sees it: count, last reply, participants (author, repliers; b is also mentioned).
    const expected = { threadReplyCount: 3, threadLastReplyAt: r3.createdAt, threadParticipants: expect.arrayContaining([a.id, b.id, c.id]) };
    const parentNow = (await history(c.socket, room.id)).items.find((m) => m.id === parent.id) as ThreadMessage;
    expect(parentNow).toEqual(expect.objectContaining(expected));
    expect(parentNow.threadParticipants).toHaveLength(3);
    // Each reply's update of the parent reached c, in order (r3 was acked after its update went out).
    for (let i = 0; i < 200 && updates.length < 3; i++) await new Promise((r) => setTimeout(r, 25));
    expect(updates.map((u) => u.threadReplyCount)).toEqual([1, 2, 3]);

    // Room history without the flag is exactly as before: every message in seq order.
    expect((await history(c.socket, room.id)).items.map((m) => m.id)).toEqual([parent.id, r1.id, r2.id, r3.id]);
    // The timeline without thread replies keeps the parent and the reply also shown in the room.
    const timeline = await ok(c.socket, 'message:history', { roomId: room.id, excludeThreadReplies: true });
    expect(timeline.items.map((m: Message) => m.id)).toEqual([parent.id, r2.id]);
    expect(timeline.hasMore).toBe(false);
    const restTimeline = await api(t.url, 'GET', `/api/v1/rooms/${room.id}/messages?excludeThreadReplies=true`, { token: c.token });
    expect(restTimeline.body.items.map((m: Message) => m.id)).toEqual([parent.id, r2.id]);

    // thread:history: the replies, with room history's keyset rules.
    const all = await ok(c.socket, 'thread:history', { messageId: parent.id });
    expect(all).toEqual({ items: [r1, r2, r3].map((r) => expect.objectContaining({ id: r.id, threadOf: parent.id })), hasMore: false });
    expect(await ok(c.socket, 'thread:history', { messageId: parent.id, limit: 2 })).toEqual({ items: [expect.objectContaining({ id: r2.id }), expect.objectContaining({ id: r3.id })], hasMore: true });
    expect(await ok(c.socket, 'thread:history', { messageId: parent.id, beforeSeq: r2.seq })).toEqual({ items: [expect.objectContaining({ id: r1.id })], hasMore: false });
    expect(await ok(c.socket, 'thread:history', { messageId: parent.id, afterSeq: r1.seq, limit: 1 })).toEqual({ items: [expect.objectContaining({ id: r2.id })], hasMore: true });
    const rest = await api(t.url, 'GET', `/api/v1/messages/${encodeURIComponent(parent.id)}/thread?afterSeq=${r2.seq}`, { token: b.token });
    expect(rest.status).toBe(200);
    expect(rest.body).toEqual({ items: [expect.objectContaining({ id: r3.id })], hasMore: false });
    // A message without replies has an empty thread.
    expect(await ok(c.socket, 'thread:history', { messageId: r1.id })).toEqual({ items: [], hasMore: false });
  });

  it('thread replies: a deleted parent, a reply to a reply, another room, an unknown parent are refused with clear codes; nothing is stored', async () => {
    const [a, b] = await Promise.all([newPerson(t.url), newPerson(t.url)]);
    const room = await createRoom(a.socket, { type: 'public', memberIds: [b.id] });
    const other = await createRoom(a.socket, { type: 'public' });
    const parent = await sendMessage(a.socket, room.id, 'parent');
    const r1 = await reply(b, room.id, parent.id, 'r1');
    const gone = await sendMessage(a.socket, room.id, 'to delete');
    await ok(a.socket, 'message:delete', { messageId: gone.id });
    const elsewhere = await sendMessage(a.socket, other.id, 'in another room');
    await t.app.chat.counters.settle();
    const before = await roomDoc(t, room.id);
    const send = (threadOf: unknown, extra: Record<string, unknown> = {}) => request(b.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'x', threadOf, ...extra });
    expect(expectAckError(await send(gone.id), 'CONFLICT').details).toEqual({ reason: 'THREAD_PARENT_DELETED' });
    expect(expectAckError(await send(r1.id), 'CONFLICT').details).toEqual({ reason: 'THREAD_PARENT_IS_REPLY' });
    expect(expectAckError(await send(elsewhere.id), 'NOT_FOUND').details).toEqual({ reason: 'THREAD_PARENT_NOT_FOUND' });
    expect(expectAckError(await send(`${room.id}:999999`), 'NOT_FOUND').details).toEqual({ reason: 'THREAD_PARENT_NOT_FOUND' });
    expectAckError(await request(b.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'x', alsoInRoom: true }), 'VALIDATION_FAILED');
    for (const bad of [42, '', { $ne: null }, null, 'x'.repeat(200)]) expectAckError(await send(bad), 'VALIDATION_FAILED');
    expectAckError(await send(parent.id, { alsoInRoom: 'yes' }), 'VALIDATION_FAILED');
    const restRefused = await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: b.token, body: { clientMsgId: cmid(), text: 'x', threadOf: r1.id } });
    expect(expectHttpError(restRefused, 'CONFLICT').details).toEqual({ reason: 'THREAD_PARENT_IS_REPLY' });
    await t.app.chat.counters.settle();
    expect(await roomDoc(t, room.id)).toEqual(before);
    expect((await ok(a.socket, 'thread:history', { messageId: parent.id })).items.map((m: Message) => m.id)).toEqual([r1.id]);
  });

  it('thread:history: members only; unknown parent NOT_FOUND; hostile payloads VALIDATION_FAILED', async () => {
    const [a, stranger] = await Promise.all([newPerson(t.url), newPerson(t.url)]);
    const room = await createRoom(a.socket, { type: 'private' });
    const parent = await sendMessage(a.socket, room.id, 'secret parent');
    await reply(a, room.id, parent.id, 'secret reply');
    expectAckError(await request(stranger.socket, 'thread:history', { messageId: parent.id }), 'FORBIDDEN');
    expectHttpError(await api(t.url, 'GET', `/api/v1/messages/${encodeURIComponent(parent.id)}/thread`, { token: stranger.token }), 'FORBIDDEN');
    expectHttpError(await api(t.url, 'GET', `/api/v1/messages/${encodeURIComponent(parent.id)}/thread`, {}), 'UNAUTHORIZED');
    expectAckError(await request(a.socket, 'thread:history', { messageId: `${room.id}:424242` }), 'NOT_FOUND');
    for (const bad of [{}, { messageId: 7 }, { messageId: parent.id, beforeSeq: 1, afterSeq: 0 }, { messageId: parent.id, limit: 101 }, { messageId: parent.id, limit: '5' }, { messageId: parent.id, extra: 1 }]) {
      expectAckError(await request(a.socket, 'thread:history', bad), 'VALIDATION_FAILED');
    }
    expectHttpError(await api(t.url, 'GET', `/api/v1/messages/${encodeURIComponent(parent.id)}/thread?limit=1e2`, { token: a.token }), 'VALIDATION_FAILED');
    expectHttpError(await api(t.url, 'GET', `/api/v1/rooms/${room.id}/messages?excludeThreadReplies=1`, { token: a.token }), 'VALIDATION_FAILED');
  });

  it('a retried thread reply returns the stored message and counts once, also after its parent was deleted', async () => {
    const a = await newPerson(t.url);
    const room = await createRoom(a.socket, { type: 'public' });
    const parent = await sendMessage(a.socket, room.id, 'parent');
    const payload = { roomId: room.id, clientMsgId: cmid(), text: 'once', threadOf: parent.id };
    const first = await ok(a.socket, 'message:send', payload);
    expect(await ok(a.socket, 'message:send', payload)).toEqual(first);
    expect((await t.app.chat.repos.messages.findById(parent.id))?.thread?.replyCount).toBe(1);
    expect((await ok(a.socket, 'thread:history', { messageId: parent.id })).items).toHaveLength(1);
    // Its parent deleted since: the retry still returns the stored reply; a new reply is refused.
    await ok(a.socket, 'message:delete', { messageId: parent.id });
    expect(await ok(a.socket, 'message:send', payload)).toEqual(first);
    expectAckError(await request(a.socket, 'message:send', { ...payload, clientMsgId: cmid() }), 'CONFLICT');
    expect((await ok(a.socket, 'thread:history', { messageId: parent.id })).items).toHaveLength(1);
  });

  it('the timeline without thread replies pages through a long thread with bounded reads per page (resumeSeq)', async () => {
    const a = await newPerson(t.url);
    const room = await createRoom(a.socket, { type: 'public' });
    const top = await sendMessage(a.socket, room.id, 'top');
    for (let i = 0; i < 30; i++) await reply(a, room.id, top.id, `r${i}`);
    const last = await sendMessage(a.socket, room.id, 'last');
    // limit 2: the 30 replies between the two take more than the per-page bound of database pages.
    const ids: string[] = [];
    let page = await ok(a.socket, 'message:history', { roomId: room.id, excludeThreadReplies: true, limit: 2 });
    let rounds = 1;
    ids.unshift(...page.items.map((m: Message) => m.id));
    while (page.hasMore && rounds < 50) {
      page = await ok(a.socket, 'message:history', { roomId: room.id, excludeThreadReplies: true, limit: 2, beforeSeq: page.resumeSeq });
      ids.unshift(...page.items.map((m: Message) => m.id));
      rounds++;
    }
    expect(ids).toEqual([top.id, last.id]);
    expect(rounds).toBeGreaterThan(1);
    // Forward too, from the start.
    const fwd: string[] = [];
    let after = 0;
    for (let more = true, n = 0; more && n < 50; n++) {
      const p = await ok(a.socket, 'message:history', { roomId: room.id, excludeThreadReplies: true, limit: 2, afterSeq: after });
      fwd.push(...p.items.map((m: Message) => m.id));
      more = p.hasMore;
      after = p.resumeSeq;
    }
    expect(fwd).toEqual([top.id, last.id]);
  });

  it('notifications of a thread reply go to its participants (author, repliers, mentioned), not the whole room', async () => {
    const [a, b, c, d, e] = await Promise.all([newPerson(t.url), newPerson(t.url), newPerson(t.url), registerUser(t.url), registerUser(t.url)]);
    const room = await createRoom(a.socket, { type: 'public', memberIds: [b.id, c.id, d.id, e.id] });
    const parent = await sendMessage(a.socket, room.id, 'parent');
    await reply(b, room.id, parent.id, `hello @${d.username}`);
    const r2 = await reply(c, room.id, parent.id, 'another');
    const nobodyOnline = { onlineOf: async () => new Set<string>() };
    const got = await notificationRecipients({ repos: t.app.chat.repos, presence: nobodyOnline }, r2 as never);
    // e is a member but not in the thread; the sender c is never notified.
    expect(got.map((r) => r.userId).sort()).toEqual([a.id, b.id, d.id].sort());
    const shown = await reply(c, room.id, parent.id, `@${e.username} look`, { alsoInRoom: true });
    const all = await notificationRecipients({ repos: t.app.chat.repos, presence: nobodyOnline }, shown as never);
    expect(all).toEqual(expect.arrayContaining([{ userId: e.id, reason: 'mention' }, { userId: a.id, reason: 'offline' }]));
    expect(all).toHaveLength(4);
  });
});

describe('threads and mentions: two nodes with Redis', () => {
  const nodes = useNodes(2);

  it('a reply and a mention sent on one node are seen on the other: thread page, parent summary, unreadMentions', async () => {
    const [a, b] = await Promise.all([registerUser(nodes[0].url), registerUser(nodes[1].url)]);
    const a0: Person = { ...a, socket: await connectUser(nodes[0].url, a) };
    const b1: Person = { ...b, socket: await connectUser(nodes[1].url, b) };
    const room = await createRoom(a0.socket, { type: 'public', memberIds: [b.id] });
    const parent = await sendMessage(a0.socket, room.id, 'parent on node 0');
    // Node 0 caches the newest page; the reply on node 1 must update the parent there too.
    await history(a0.socket, room.id);
    const updated = waitFor<ThreadMessage>(a0.socket, 'message:updated', (m) => m.id === parent.id && m.threadReplyCount === 1);
    const r = await reply(b1, room.id, parent.id, `answer for @${a.username}`);
    expect(r.mentions).toEqual([a.id]);
    expect((await updated).threadParticipants?.sort()).toEqual([a.id, b.id].sort());
    expect((await history(a0.socket, room.id)).items.find((m) => m.id === parent.id)).toEqual(expect.objectContaining({ threadReplyCount: 1 }));
    expect((await ok(a0.socket, 'thread:history', { messageId: parent.id })).items.map((m: Message) => m.id)).toEqual([r.id]);
    // The mention written on node 1 is counted on node 0 and read away there.
    expect((await summaryOf(a0, room.id)).unreadMentions).toBe(1);
    expect(await ok(a0.socket, 'message:read', { roomId: room.id, seq: r.seq })).toEqual({ lastReadSeq: r.seq, unreadCount: 0, unreadMentions: 0 });
    // REST on either node: the thread page, and a reply sent there reaches the socket on the other node.
    const viaRest = await api(nodes[0].url, 'GET', `/api/v1/messages/${encodeURIComponent(parent.id)}/thread`, { token: b.token });
    expect(viaRest.body.items.map((m: Message) => m.id)).toEqual([r.id]);
    const restNew = waitFor<ThreadMessage>(b1.socket, 'message:new', (m) => m.text === 'rest reply on node 0');
    const posted = await api(nodes[0].url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: a.token, body: { clientMsgId: cmid(), text: 'rest reply on node 0', threadOf: parent.id } });
    expect(posted.status).toBe(201);
    expect((await restNew).threadOf).toBe(parent.id);
    // Concurrent replies on both nodes: each counted once.
    await Promise.all([...Array(5)].map((_, i) => reply(i % 2 ? a0 : b1, room.id, parent.id, `c${i}`)));
    expect((await ok(b1.socket, 'thread:history', { messageId: parent.id })).items).toHaveLength(7);
    expect((await nodes[1].app.chat.repos.messages.findById(parent.id))?.thread?.replyCount).toBe(7);
  });
});
