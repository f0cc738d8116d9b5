// User blocks (issue 15), one node: user:block / user:unblock / user:list_blocks and their
// REST twins; a blocked user cannot open or write into the blocker's direct room (FORBIDDEN,
// details.reason BLOCKED, nothing stored); the blocker gets none of the blocked user's
// message:new, message:updated, typing or presence:updated in shared rooms, while everyone
// else still does. "Nothing arrived" is always checked against a later marker event.
import { describe, expect, it } from 'vitest';
import { collect, eventsUntil, request, waitFor } from '../helpers/clients';
import {
  api,
  cmid,
  connectUser,
  createRoom,
  expectHttpError,
  history,
  ok,
  refused,
  sendMessage,
  unknownObjectId,
  type Message,
  type Person,
  type Room,
} from '../helpers/chat';
import { useChatApp } from '../helpers/chat-app';

describe('user blocks: one node', () => {
  const t = useChatApp();

  /** A public room with every person in it. */
  async function sharedRoom(owner: Person, ...others: Person[]): Promise<Room> {
    const room = await createRoom(owner.socket, { type: 'public' });
    for (const p of others) await ok(p.socket, 'room:join', { roomId: room.id });
    return room;
  }

  it('blocks, lists and unblocks, idempotently, over sockets and REST', async () => {
    const [a, b, c] = await Promise.all([t.person(), t.person(), t.person()]);
    expect(await ok(a.socket, 'user:list_blocks', {})).toEqual({ userIds: [] });
    expect(await ok(a.socket, 'user:block', { userId: b.id })).toEqual({});
    expect(await ok(a.socket, 'user:block', { userId: b.id })).toEqual({});
    const put = await api(t.url, 'PUT', `/api/v1/users/me/blocks/${c.id}`, { token: a.token });
    expect(put.status).toBe(200);
    expect(await ok(a.socket, 'user:list_blocks', {})).toEqual({ userIds: [b.id, c.id] });
    expect((await api(t.url, 'GET', '/api/v1/users/me/blocks', { token: a.token })).body).toEqual({ userIds: [b.id, c.id] });
    // Blocks are one-way: b blocks nobody.
    expect(await ok(b.socket, 'user:list_blocks', {})).toEqual({ userIds: [] });

    expect(await ok(a.socket, 'user:unblock', { userId: b.id })).toEqual({});
    expect(await ok(a.socket, 'user:unblock', { userId: b.id })).toEqual({});
    expect((await api(t.url, 'DELETE', `/api/v1/users/me/blocks/${c.id}`, { token: a.token })).status).toBe(200);
    expect(await ok(a.socket, 'user:list_blocks', {})).toEqual({ userIds: [] });
  });

  it('refuses bad input and changes nothing', async () => {
    const [a, b] = await Promise.all([t.person(), t.person()]);
    await refused(a.socket, 'user:block', { userId: a.id }, 'VALIDATION_FAILED');
    await refused(a.socket, 'user:block', { userId: unknownObjectId() }, 'NOT_FOUND');
    for (const bad of [{}, { userId: 7 }, { userId: '' }, { userId: 'x'.repeat(129) }, { userId: b.id, extra: 1 }, { userId: [b.id] }, 'nope', null]) {
      await refused(a.socket, 'user:block', bad, 'VALIDATION_FAILED');
      await refused(a.socket, 'user:unblock', bad, 'VALIDATION_FAILED');
    }
    await refused(a.socket, 'user:list_blocks', { cursor: 'x' }, 'VALIDATION_FAILED');
    expectHttpError(await api(t.url, 'PUT', `/api/v1/users/me/blocks/${'x'.repeat(129)}`, { token: a.token }), 'VALIDATION_FAILED');
    expectHttpError(await api(t.url, 'PUT', `/api/v1/users/me/blocks/${a.id}`, { token: a.token }), 'VALIDATION_FAILED');
    expectHttpError(await api(t.url, 'PUT', `/api/v1/users/me/blocks/${b.id}`), 'UNAUTHORIZED');
    expectHttpError(await api(t.url, 'GET', '/api/v1/users/me/blocks'), 'UNAUTHORIZED');
    expect(await ok(a.socket, 'user:list_blocks', {})).toEqual({ userIds: [] });
    expect(await ok(b.socket, 'dm:open', { userId: a.id })).toMatchObject({ type: 'direct' });
  });

  it('a blocked user cannot open a DM with the blocker nor write into it; nothing is stored', async () => {
    const [a, b] = await Promise.all([t.person(), t.person()]);
    const dm = await ok<Room>(a.socket, 'dm:open', { userId: b.id });
    await sendMessage(b.socket, dm.id, 'before the block');
    await ok(a.socket, 'user:block', { userId: b.id });

    const openErr = await refused(b.socket, 'dm:open', { userId: a.id }, 'FORBIDDEN');
    expect(openErr.details).toEqual({ reason: 'BLOCKED' });
    const sendErr = await refused(b.socket, 'message:send', { roomId: dm.id, clientMsgId: cmid(), text: 'after the block' }, 'FORBIDDEN');
    expect(sendErr.details).toEqual({ reason: 'BLOCKED' });
    const rest = await api(t.url, 'POST', `/api/v1/rooms/${dm.id}/messages`, { token: b.token, body: { clientMsgId: cmid(), text: 'over REST' } });
    expect(expectHttpError(rest, 'FORBIDDEN').details).toEqual({ reason: 'BLOCKED' });
    expect((await history(a.socket, dm.id)).items.map((m) => m.text)).toEqual(['before the block']);

    // The blocker may still open and write (one-way), and unblocking lets the other back in.
    expect((await ok<Room>(a.socket, 'dm:open', { userId: b.id })).id).toBe(dm.id);
    await sendMessage(a.socket, dm.id, 'from the blocker');
    await ok(a.socket, 'user:unblock', { userId: b.id });
    expect((await ok<Room>(b.socket, 'dm:open', { userId: a.id })).id).toBe(dm.id);
    await sendMessage(b.socket, dm.id, 'after the unblock');
    expect((await history(a.socket, dm.id)).items.map((m) => m.text)).toEqual(['before the block', 'from the blocker', 'after the unblock']);
  });

  it('the blocker gets none of the blocked user\'s messages, edits or typing in a shared room; others do', async () => {
    const [a, b, c] = await Promise.all([t.person(), t.person(), t.person()]);
    const room = await sharedRoom(c, a, b);
    await ok(a.socket, 'user:block', { userId: b.id });
    const aNew = eventsUntil<Message>(a.socket, 'message:new');
    const aUpdated = eventsUntil<Message>(a.socket, 'message:updated');
    const aTyping = eventsUntil<{ userId: string; typing: boolean }>(a.socket, 'typing');
    const cGot = waitFor<Message>(c.socket, 'message:new', (m) => m.text === 'from b');
    const cTyping = waitFor(c.socket, 'typing', (p: { userId: string }) => p.userId === b.id);

    const fromB = await sendMessage(b.socket, room.id, 'from b');
    await ok(b.socket, 'message:edit', { messageId: fromB.id, text: 'from b, edited' });
    b.socket.emit('typing:start', { roomId: room.id });
    await Promise.all([cGot, cTyping]);
    // Markers: c's message, edit and typing reach a after anything b's could have.
    const fromC = await sendMessage(c.socket, room.id, 'from c');
    await ok(c.socket, 'message:edit', { messageId: fromC.id, text: 'from c, edited' });
    c.socket.emit('typing:start', { roomId: room.id });
    expect(await aNew.before((m) => m.id === fromC.id)).toEqual([]);
    expect(await aUpdated.before((m) => m.id === fromC.id)).toEqual([]);
    expect(await aTyping.before((p) => p.userId === c.id)).toEqual([]);
    // History is not filtered (the seq contract): clients hide what they block.
    expect((await history(a.socket, room.id)).items.map((m) => m.senderId)).toEqual([b.id, c.id]);

    // Unblocked: delivered again.
    await ok(a.socket, 'user:unblock', { userId: b.id });
    const again = waitFor<Message>(a.socket, 'message:new', (m) => m.text === 'b again');
    await sendMessage(b.socket, room.id, 'b again');
    expect((await again).senderId).toBe(b.id);
  });

  it("the blocker does not get the blocked user's presence; others do", async () => {
    const [a, b, c, d] = await Promise.all([t.person(), t.person(), t.person(), t.person()]);
    await sharedRoom(c, a, b, d);
    await ok(a.socket, 'user:block', { userId: b.id });
    const aPresence = eventsUntil<{ userId: string; status: string }>(a.socket, 'presence:updated');
    // b and d go offline (as c and a see), then come back: a must see only d's changes.
    const cOfflineB = waitFor(c.socket, 'presence:updated', (p: { userId: string; status: string }) => p.userId === b.id && p.status === 'offline');
    const aOfflineD = waitFor(a.socket, 'presence:updated', (p: { userId: string; status: string }) => p.userId === d.id && p.status === 'offline');
    b.socket.close();
    await cOfflineB;
    d.socket.close();
    await aOfflineD;
    const cOnlineB = waitFor(c.socket, 'presence:updated', (p: { userId: string; status: string }) => p.userId === b.id && p.status === 'online');
    await connectUser(t.url, b);
    await cOnlineB;
    await connectUser(t.url, d);
    const seen = await aPresence.before((p) => p.userId === d.id && p.status === 'online');
    expect(seen.filter((p) => p.userId === b.id)).toEqual([]);
    expect(seen.filter((p) => p.userId === d.id).map((p) => p.status)).toEqual(['offline']);
  });

  it('filters only the blocker: the blocked user still receives the blocker', async () => {
    const [a, b, c] = await Promise.all([t.person(), t.person(), t.person()]);
    const room = await sharedRoom(c, a, b);
    await ok(a.socket, 'user:block', { userId: b.id });
    const bGot = waitFor<Message>(b.socket, 'message:new', (m) => m.text === 'from a');
    await sendMessage(a.socket, room.id, 'from a');
    expect((await bGot).senderId).toBe(a.id);
    const extra = collect(a.socket, 'message:new');
    await request(a.socket, 'user:list_blocks', {});
    expect(extra).toEqual([]);
  });
});
