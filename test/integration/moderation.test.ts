// Room moderation on one node (docs/protocol.md "Moderation"): timed mutes, bans with expiry,
// slow mode, flags and the moderation queue, the audit log; permissions, expiry, restarts
// and hostile input. Expected codes and bounds come from the protocol, not from the server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshMongoUri, startTestApp, testEnv, type TestApp } from '../helpers/app';
import {
  api,
  CHAT_ENV,
  closeClients,
  cmid,
  connectUser,
  createRoom,
  expectAckError,
  expectHttpError,
  history,
  newPerson,
  ok,
  refused,
  sendMessage,
  type Message,
  type Person,
  type Room,
} from '../helpers/chat';
import { request, waitFor } from '../helpers/clients';
import { EVENTS_SECRET, inProcessJobsIdle, signatureValid, startReceiver, type Receiver } from '../helpers/workers';
import { createApp } from '../../server/src/app';
import { loadConfig } from '../../server/src/config';
import { createLogger } from '../../server/src/logger';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('room moderation (one node)', () => {
  let t: TestApp;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestApp({ ...CHAT_ENV, EVENTS_WEBHOOK_URL: receiver.url, EVENTS_WEBHOOK_SECRET: EVENTS_SECRET, WEBHOOK_BACKOFF_MS: '50' });
  });
  afterAll(async () => {
    closeClients();
    await t?.close();
    await receiver?.close();
  });

  /** A public room with an owner, an admin and two members. */
  async function cast(): Promise<{ room: Room; owner: Person; admin: Person; alice: Person; bob: Person }> {
    const [owner, admin, alice, bob] = await Promise.all([1, 2, 3, 4].map(() => newPerson(t.url)));
    const room = await createRoom(owner.socket, { type: 'public', memberIds: [admin.id, alice.id, bob.id] });
    await ok(owner.socket, 'room:set_role', { roomId: room.id, userId: admin.id, role: 'admin' });
    return { room, owner, admin, alice, bob };
  }
  const auditOf = async (p: Person, roomId: string) => (await ok(p.socket, 'room:audit', { roomId, limit: 100 })).items as any[];
  const send = (p: Person, roomId: string, text = 'hi', clientMsgId = cmid()) => request(p.socket, 'message:send', { roomId, clientMsgId, text });

  it('a muted member cannot send (socket or REST) until unmuted, but still reads; only owners/admins mute, down the hierarchy', async () => {
    const { room, owner, admin, alice, bob } = await cast();
    const muted = await ok(admin.socket, 'room:mute', { roomId: room.id, userId: alice.id, durationSeconds: 600, reason: 'spam' });
    expect(new Date(muted.until).getTime()).toBeGreaterThan(Date.now() + 590_000);

    const refusal = expectAckError(await send(alice, room.id), 'FORBIDDEN');
    expect(refusal.details).toMatchObject({ reason: 'muted', until: muted.until });
    expect(refusal.details.retryAfterMs).toBeGreaterThan(590_000);
    expect(refusal.details.retryAfterMs).toBeLessThanOrEqual(600_000);
    const rest = await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: alice.token, body: { clientMsgId: cmid(), text: 'rest' } });
    expect(expectHttpError(rest, 'FORBIDDEN').details).toMatchObject({ reason: 'muted' });
    // Reads and receives.
    const seen = waitFor<Message>(alice.socket, 'message:new', (m) => m.text === 'from bob');
    await sendMessage(bob.socket, room.id, 'from bob');
    await seen;
    expect((await history(alice.socket, room.id)).items.map((m) => m.text)).toEqual(['from bob']);

    // Who may: members no, an admin not an admin or the owner, nobody itself.
    await refused(bob.socket, 'room:mute', { roomId: room.id, userId: alice.id, durationSeconds: 60 }, 'FORBIDDEN');
    await refused(admin.socket, 'room:mute', { roomId: room.id, userId: owner.id, durationSeconds: 60 }, 'FORBIDDEN');
    await refused(owner.socket, 'room:mute', { roomId: room.id, userId: owner.id, durationSeconds: 60 }, 'FORBIDDEN');
    const stranger = await newPerson(t.url);
    await refused(owner.socket, 'room:mute', { roomId: room.id, userId: stranger.id, durationSeconds: 60 }, 'NOT_FOUND');
    await refused(stranger.socket, 'room:mute', { roomId: room.id, userId: bob.id, durationSeconds: 60 }, 'FORBIDDEN');
    await refused(owner.socket, 'room:mute', { roomId: 'no-such-room', userId: bob.id, durationSeconds: 60 }, 'NOT_FOUND');
    const admin2 = await newPerson(t.url);
    await ok(admin2.socket, 'room:join', { roomId: room.id });
    await ok(owner.socket, 'room:set_role', { roomId: room.id, userId: admin2.id, role: 'admin' });
    await refused(admin.socket, 'room:mute', { roomId: room.id, userId: admin2.id, durationSeconds: 60 }, 'FORBIDDEN');
    await ok(owner.socket, 'room:mute', { roomId: room.id, userId: admin2.id, durationSeconds: 60 });

    await refused(bob.socket, 'room:unmute', { roomId: room.id, userId: alice.id }, 'FORBIDDEN');
    await ok(owner.socket, 'room:unmute', { roomId: room.id, userId: alice.id });
    await sendMessage(alice.socket, room.id, 'free again');
    // Unmuting someone who is not muted changes nothing and records nothing.
    await ok(owner.socket, 'room:unmute', { roomId: room.id, userId: bob.id });

    const audit = await auditOf(owner, room.id);
    expect(audit.map((e) => [e.action, e.actorId, e.targetUserId])).toEqual([
      ['unmute', owner.id, alice.id],
      ['mute', owner.id, admin2.id],
      ['role_change', owner.id, admin2.id],
      ['mute', admin.id, alice.id],
      ['role_change', owner.id, admin.id],
    ]);
    expect(audit[3]).toMatchObject({ reason: 'spam', details: { until: muted.until } });
  });

  it('a mute ends by itself when its time is up', async () => {
    const { room, owner, alice } = await cast();
    const { until } = await ok(owner.socket, 'room:mute', { roomId: room.id, userId: alice.id, durationSeconds: 2 });
    const ack = await send(alice, room.id);
    // Only an answer that came back before the end had to be a refusal (a loaded machine may be late).
    if (Date.now() < Date.parse(until)) expect(expectAckError(ack, 'FORBIDDEN').details.retryAfterMs).toBeLessThanOrEqual(2000);
    await sleep(Math.max(0, Date.parse(until) - Date.now()) + 50);
    await sendMessage(alice.socket, room.id, 'after the mute');
  });

  it('bans: the member is removed at once, cannot join until the expiry, then can; unban lifts a ban for good', async () => {
    const { room, owner, admin, alice, bob } = await cast();
    const left = waitFor(alice.socket, 'room:member_left', (p: any) => p.roomId === room.id && p.userId === alice.id);
    const banned = await ok(admin.socket, 'room:ban', { roomId: room.id, userId: alice.id, durationSeconds: 2, reason: 'flooding' });
    await left;
    expect(banned.until).toEqual(expect.any(String));
    await refused(alice.socket, 'message:history', { roomId: room.id }, 'FORBIDDEN');
    const join = await request(alice.socket, 'room:join', { roomId: room.id });
    // Only an answer that came back before the end had to be a refusal (a loaded machine may be late).
    if (Date.now() < Date.parse(banned.until)) {
      const refusal = expectAckError(join, 'FORBIDDEN');
      expect(refusal.details).toMatchObject({ reason: 'banned', until: banned.until });
      expect(refusal.details.retryAfterMs).toBeGreaterThan(0);
      expect(refusal.details.retryAfterMs).toBeLessThanOrEqual(2000);
    }
    await sleep(Math.max(0, Date.parse(banned.until) - Date.now()) + 50);
    await ok(alice.socket, 'room:join', { roomId: room.id });

    // Without an expiry, until unbanned; a user who is not a member can be banned too.
    await ok(owner.socket, 'room:ban', { roomId: room.id, userId: bob.id });
    const stranger = await newPerson(t.url);
    expect(await ok(owner.socket, 'room:ban', { roomId: room.id, userId: stranger.id })).toEqual({ until: null });
    expect((await refused(bob.socket, 'room:join', { roomId: room.id }, 'FORBIDDEN')).details).toEqual({ reason: 'banned' });
    await refused(stranger.socket, 'room:join', { roomId: room.id }, 'FORBIDDEN');
    await refused(alice.socket, 'room:unban', { roomId: room.id, userId: bob.id }, 'FORBIDDEN');
    await ok(admin.socket, 'room:unban', { roomId: room.id, userId: bob.id });
    await ok(bob.socket, 'room:join', { roomId: room.id });

    // Nobody bans the owner or itself; an admin does not ban an admin; unknown users are NOT_FOUND.
    await refused(admin.socket, 'room:ban', { roomId: room.id, userId: owner.id }, 'FORBIDDEN');
    await refused(owner.socket, 'room:ban', { roomId: room.id, userId: owner.id }, 'FORBIDDEN');
    await refused(owner.socket, 'room:ban', { roomId: room.id, userId: 'no-such-user' }, 'NOT_FOUND');
    await refused(bob.socket, 'room:ban', { roomId: room.id, userId: alice.id }, 'FORBIDDEN');

    const actions = (await auditOf(admin, room.id)).map((e) => e.action);
    expect(actions.slice(0, 4)).toEqual(['unban', 'ban', 'ban', 'ban']);
    const rest = await api(t.url, 'GET', `/api/v1/rooms/${room.id}/audit?limit=2`, { token: owner.token });
    expect(rest.status).toBe(200);
    expect(rest.body.items.map((e: any) => e.action)).toEqual(['unban', 'ban']);
  });

  it('slow mode: one message per interval per member, owners/admins exempt, retries free; 0 turns it off', async () => {
    const { room, owner, admin, alice, bob } = await cast();
    expect(await ok(admin.socket, 'room:slow_mode', { roomId: room.id, seconds: 60 })).toEqual({ seconds: 60 });
    const first = await sendMessage(alice.socket, room.id, 'one', { clientMsgId: 'slow-1' });
    const refusal = expectAckError(await send(alice, room.id, 'two'), 'RATE_LIMITED');
    expect(refusal.details.limit).toBe('slow-mode');
    expect(refusal.details.retryAfterMs).toBeLessThanOrEqual(60_000);
    // The same send again (a lost ack) returns the stored message, not a refusal.
    expect(await sendMessage(alice.socket, room.id, 'one', { clientMsgId: 'slow-1' })).toEqual(first);
    const rest = await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: alice.token, body: { clientMsgId: cmid(), text: 'rest' } });
    expect(expectHttpError(rest, 'RATE_LIMITED').details.limit).toBe('slow-mode');
    // Per member: bob has his own turn; owners and admins are exempt.
    await sendMessage(bob.socket, room.id, 'bob one');
    for (const p of [owner, owner, admin, admin]) await sendMessage(p.socket, room.id, 'exempt');
    await refused(bob.socket, 'room:slow_mode', { roomId: room.id, seconds: 0 }, 'FORBIDDEN');
    await ok(owner.socket, 'room:slow_mode', { roomId: room.id, seconds: 0 });
    await sendMessage(alice.socket, room.id, 'two');
    await sendMessage(alice.socket, room.id, 'three');
    const audit = await auditOf(owner, room.id);
    expect(audit.filter((e) => e.action === 'slow_mode').map((e) => [e.actorId, e.details.seconds])).toEqual([[owner.id, 0], [admin.id, 60]]);
  });

  it('refuses hostile input with VALIDATION_FAILED and changes nothing', async () => {
    const { room, owner, alice } = await cast();
    const bad: Array<[string, unknown]> = [
      ['room:mute', { roomId: room.id, userId: alice.id, durationSeconds: 0 }],
      ['room:mute', { roomId: room.id, userId: alice.id, durationSeconds: -5 }],
      ['room:mute', { roomId: room.id, userId: alice.id, durationSeconds: 1.5 }],
      ['room:mute', { roomId: room.id, userId: alice.id, durationSeconds: '60' }],
      ['room:mute', { roomId: room.id, userId: alice.id, durationSeconds: 365 * 24 * 3600 + 1 }],
      ['room:mute', { roomId: room.id, userId: alice.id }],
      ['room:mute', { roomId: room.id, userId: alice.id, durationSeconds: 60, reason: '' }],
      ['room:mute', { roomId: room.id, userId: alice.id, durationSeconds: 60, reason: 'x'.repeat(501) }],
      ['room:mute', { roomId: room.id, userId: alice.id, durationSeconds: 60, until: '2099-01-01' }],
      ['room:ban', { roomId: room.id, userId: alice.id, durationSeconds: 0 }],
      ['room:ban', { roomId: room.id, userId: { $ne: null } }],
      ['room:slow_mode', { roomId: room.id, seconds: -1 }],
      ['room:slow_mode', { roomId: room.id, seconds: 6 * 3600 + 1 }],
      ['room:slow_mode', { roomId: room.id }],
      ['room:audit', { roomId: room.id, limit: 0 }],
      ['room:audit', { roomId: room.id, limit: 101 }],
      ['room:audit', { roomId: room.id, cursor: 'not-a-cursor' }],
      ['room:flags', { roomId: room.id, cursor: 'bm9wZQ' }],
      ['message:flag', { messageId: 'x', reason: '\ud800' }],
      ['room:resolve_flag', { roomId: room.id, messageId: 'x', action: 'explode' }],
      ['room:resolve_flag', { roomId: room.id, messageId: 'x', action: 'mute' }],
    ];
    for (const [event, payload] of bad) expectAckError(await request(owner.socket, event, payload), 'VALIDATION_FAILED');
    await sendMessage(alice.socket, room.id, 'still free');
    expect((await auditOf(owner, room.id)).map((e) => e.action)).toEqual(['role_change']);
    const rest = await api(t.url, 'POST', `/api/v1/rooms/${room.id}/mutes`, { token: owner.token, body: { userId: alice.id, durationSeconds: 'forever' } });
    expectHttpError(rest, 'VALIDATION_FAILED');
    expectHttpError(await api(t.url, 'GET', `/api/v1/rooms/${room.id}/audit?limit=1e2`, { token: owner.token }), 'VALIDATION_FAILED');
  });

  it('flags: members report, owners/admins page the queue and resolve; each report goes out as a signed moderation.flagged webhook', async () => {
    const { room, owner, admin, alice, bob } = await cast();
    const carol = await newPerson(t.url);
    await ok(carol.socket, 'room:join', { roomId: room.id });
    const bad1 = await sendMessage(bob.socket, room.id, 'bad one');
    const bad2 = await sendMessage(bob.socket, room.id, 'bad two');
    const bad3 = await sendMessage(bob.socket, room.id, 'bad three');

    expect(await ok(alice.socket, 'message:flag', { messageId: bad1.id, reason: 'insult' })).toEqual({});
    await ok(alice.socket, 'message:flag', { messageId: bad1.id, reason: 'insult again' }); // no change
    await ok(carol.socket, 'message:flag', { messageId: bad1.id, reason: 'rude' });
    const viaRest = await api(t.url, 'POST', `/api/v1/messages/${encodeURIComponent(bad2.id)}/flags`, { token: alice.token, body: { reason: 'spam' } });
    expect(viaRest.status).toBe(201);
    await ok(alice.socket, 'message:flag', { messageId: bad3.id, reason: 'spam' });
    await refused(bob.socket, 'message:flag', { messageId: bad1.id, reason: 'mine' }, 'FORBIDDEN');
    const stranger = await newPerson(t.url);
    await refused(stranger.socket, 'message:flag', { messageId: bad1.id, reason: 'x' }, 'FORBIDDEN');
    await refused(alice.socket, 'message:flag', { messageId: `${room.id}:999`, reason: 'x' }, 'NOT_FOUND');
    // Direct rooms have no moderators: nothing to flag there.
    const dm = await ok(alice.socket, 'dm:open', { userId: bob.id });
    const inDm = await sendMessage(bob.socket, dm.id, 'dm');
    await refused(alice.socket, 'message:flag', { messageId: inDm.id, reason: 'x' }, 'FORBIDDEN');
    await refused(alice.socket, 'room:mute', { roomId: dm.id, userId: bob.id, durationSeconds: 60 }, 'FORBIDDEN');
    await refused(alice.socket, 'room:slow_mode', { roomId: dm.id, seconds: 5 }, 'FORBIDDEN');

    // Members do not see the queue.
    await refused(alice.socket, 'room:flags', { roomId: room.id }, 'FORBIDDEN');
    expectHttpError(await api(t.url, 'GET', `/api/v1/rooms/${room.id}/flags`, { token: alice.token }), 'FORBIDDEN');
    const page1 = await ok(admin.socket, 'room:flags', { roomId: room.id, limit: 2 });
    expect(page1.items.map((f: any) => f.messageId)).toEqual([bad1.id, bad2.id]);
    expect(page1.items[0]).toMatchObject({ status: 'open', senderId: bob.id, reportCount: 2, message: { id: bad1.id, text: 'bad one' } });
    expect(page1.items[0].reports.map((r: any) => [r.userId, r.reason])).toEqual([[alice.id, 'insult'], [carol.id, 'rude']]);
    const page2 = await ok(admin.socket, 'room:flags', { roomId: room.id, limit: 2, cursor: page1.nextCursor });
    expect(page2).toMatchObject({ items: [{ messageId: bad3.id }], nextCursor: null });

    // Resolve: delete the message; dismiss; mute the sender.
    const updated = waitFor<Message>(alice.socket, 'message:updated', (m) => m.id === bad1.id);
    const resolved = await ok(admin.socket, 'room:resolve_flag', { roomId: room.id, messageId: bad1.id, action: 'delete', note: 'removed' });
    expect(resolved).toMatchObject({ status: 'resolved', resolution: { action: 'delete', by: admin.id, note: 'removed' } });
    expect((await updated).deletedAt).not.toBeNull();
    await refused(admin.socket, 'room:resolve_flag', { roomId: room.id, messageId: bad1.id, action: 'dismiss' }, 'CONFLICT');
    await refused(alice.socket, 'room:resolve_flag', { roomId: room.id, messageId: bad2.id, action: 'dismiss' }, 'FORBIDDEN');
    const dismissed = await api(t.url, 'POST', `/api/v1/rooms/${room.id}/flags/${encodeURIComponent(bad2.id)}/resolve`, { token: owner.token, body: { action: 'dismiss' } });
    expect(dismissed.status).toBe(200);
    await ok(owner.socket, 'room:resolve_flag', { roomId: room.id, messageId: bad3.id, action: 'mute', durationSeconds: 600 });
    expect(expectAckError(await send(bob, room.id), 'FORBIDDEN').details.reason).toBe('muted');
    expect((await ok(owner.socket, 'room:flags', { roomId: room.id })).items).toEqual([]);
    // A new report on a dismissed message opens it again.
    await ok(carol.socket, 'message:flag', { messageId: bad2.id, reason: 'still spam' });
    expect((await ok(owner.socket, 'room:flags', { roomId: room.id })).items.map((f: any) => [f.messageId, f.reportCount])).toEqual([[bad2.id, 1]]);

    const audit = await auditOf(owner, room.id);
    expect(audit.slice(0, 5).map((e) => [e.action, e.details.resolution ?? null])).toEqual([
      ['flag_resolve', 'mute'],
      ['mute', null],
      ['flag_resolve', 'dismiss'],
      ['flag_resolve', 'delete'],
      ['message_delete', null],
    ]);

    await inProcessJobsIdle(t.url);
    const flagged = receiver.requests.filter((r) => r.body?.type === 'moderation.flagged' && r.body.data.roomId === room.id);
    expect(flagged.map((r) => [r.body.data.messageId, r.body.data.reporterId, r.body.data.reason])).toEqual(
      expect.arrayContaining([
        [bad1.id, alice.id, 'insult'],
        [bad1.id, carol.id, 'rude'],
        [bad2.id, alice.id, 'spam'],
        [bad3.id, alice.id, 'spam'],
        [bad2.id, carol.id, 'still spam'],
      ]),
    );
    expect(flagged).toHaveLength(5);
    expect(flagged.every((r) => signatureValid(EVENTS_SECRET, r))).toBe(true);
    expect(flagged[0].body.data.message).toMatchObject({ id: bad1.id, text: 'bad one', senderId: bob.id });
  });

  it('the audit log pages newest first through every action, for owners/admins only', async () => {
    const { room, owner, admin, alice, bob } = await cast();
    for (const seconds of [1, 2, 3, 4, 0]) await ok(owner.socket, 'room:slow_mode', { roomId: room.id, seconds });
    await ok(owner.socket, 'room:kick', { roomId: room.id, userId: bob.id });
    const m = await sendMessage(alice.socket, room.id, 'to delete');
    await ok(admin.socket, 'message:delete', { messageId: m.id });
    const own = await sendMessage(alice.socket, room.id, 'mine');
    await ok(alice.socket, 'message:delete', { messageId: own.id }); // by its sender: not moderation
    const seen: any[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await ok(admin.socket, 'room:audit', { roomId: room.id, limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen.map((e) => e.action)).toEqual(['message_delete', 'kick', 'slow_mode', 'slow_mode', 'slow_mode', 'slow_mode', 'slow_mode', 'role_change']);
    expect(seen[0]).toMatchObject({ actorId: admin.id, targetUserId: alice.id, messageId: m.id, roomId: room.id });
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    for (const p of [alice]) await refused(p.socket, 'room:audit', { roomId: room.id }, 'FORBIDDEN');
    expectHttpError(await api(t.url, 'GET', `/api/v1/rooms/${room.id}/audit`, { token: bob.token }), 'FORBIDDEN');
    // A cursor of another room is refused.
    const other = await createRoom(owner.socket, { type: 'public' });
    await refused(owner.socket, 'room:audit', { roomId: other.id, cursor }, 'VALIDATION_FAILED');
  });
});

describe('room moderation across a restart', () => {
  it('mutes, bans with expiry and slow mode hold after the node restarts', async () => {
    const { uri } = freshMongoUri('modrestart');
    const env = { ...CHAT_ENV, MONGODB_URI: uri };
    const start = async () => {
      const config = loadConfig(testEnv(env));
      const app = await createApp(config, { log: createLogger('silent') });
      return { app, url: `http://127.0.0.1:${await app.listen()}` };
    };
    let node = await start();
    const [owner, alice, bob] = await Promise.all([1, 2, 3].map(() => newPerson(node.url)));
    const room = await createRoom(owner.socket, { type: 'public', memberIds: [alice.id, bob.id] });
    await ok(owner.socket, 'room:mute', { roomId: room.id, userId: alice.id, durationSeconds: 600 });
    await ok(owner.socket, 'room:ban', { roomId: room.id, userId: bob.id, durationSeconds: 600 });
    await ok(owner.socket, 'room:slow_mode', { roomId: room.id, seconds: 600 });
    closeClients();
    await node.app.close();

    node = await start();
    const [a, b, o] = await Promise.all([alice, bob, owner].map((p) => connectUser(node.url, p)));
    const mute = expectAckError(await request(a, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'x' }), 'FORBIDDEN');
    expect(mute.details.reason).toBe('muted');
    const ban = expectAckError(await request(b, 'room:join', { roomId: room.id }), 'FORBIDDEN');
    expect(ban.details.reason).toBe('banned');
    expect(ban.details.retryAfterMs).toBeGreaterThan(500_000);
    const stranger = await newPerson(node.url);
    await ok(stranger.socket, 'room:join', { roomId: room.id });
    await ok(stranger.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'one' });
    expect(expectAckError(await request(stranger.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'two' }), 'RATE_LIMITED').details.limit).toBe('slow-mode');
    expect((await ok(o, 'room:audit', { roomId: room.id })).items.map((e: any) => e.action)).toEqual(['slow_mode', 'ban', 'mute']);
    closeClients();
    await node.app.close();
  });
});
