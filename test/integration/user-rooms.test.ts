// The per-user room lists (user_rooms): kept right by create, join, leave, kick and DMs;
// what connect and room:list do with a stale or a missing entry; the one-off migration
// from memberships; invalidation of the per-node cache across two nodes.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp, type App } from '../../server/src/app';
import { loadConfig } from '../../server/src/config';
import { USER_ROOMS_MIGRATION } from '../../server/src/data/repositories/user-rooms.repository';
import { createLogger } from '../../server/src/logger';
import { freshMongoUri, startTestApp, testEnv, type TestApp } from '../helpers/app';
import type { Client } from '../helpers/clients';
import {
  CHAT_ENV,
  closeClients,
  connectUser,
  createRoom,
  listAll,
  newPerson,
  ok,
  registerUser,
  sendMessage,
  sleep,
  type Message,
  type Person,
} from '../helpers/chat';

/** Resolves the next message:new of `roomId` on `socket`, or null after `ms`. */
function nextMessage(socket: Client, roomId: string, ms = 1500): Promise<Message | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.off('message:new', on);
      resolve(null);
    }, ms);
    const on = (m: Message) => {
      if (m.roomId !== roomId) return;
      clearTimeout(timer);
      socket.off('message:new', on);
      resolve(m);
    };
    socket.on('message:new', on);
  });
}

describe('user rooms: one node', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(CHAT_ENV);
  });
  afterAll(async () => {
    closeClients();
    await t.close();
  });

  const stored = async (userId: string) => [...((await t.app.chat.repos.userRooms.get(userId)) ?? [])].sort();
  const person = () => newPerson(t.url);

  it('create, join, leave, kick and a DM keep every member list exact', async () => {
    const [a, b, c] = await Promise.all([person(), person(), person()]);
    const r1 = await createRoom(a.socket, { type: 'private', name: 'r1', memberIds: [b.id] });
    expect(await stored(a.id)).toEqual([r1.id]);
    expect(await stored(b.id)).toEqual([r1.id]);
    const r2 = await createRoom(b.socket, { type: 'public', name: 'r2' });
    await ok(c.socket, 'room:join', { roomId: r2.id });
    expect(await stored(c.id)).toEqual([r2.id]);
    expect(await stored(b.id)).toEqual([r1.id, r2.id].sort());
    await ok(b.socket, 'room:leave', { roomId: r1.id });
    expect(await stored(b.id)).toEqual([r2.id]);
    await ok(b.socket, 'room:kick', { roomId: r2.id, userId: c.id });
    expect(await stored(c.id)).toEqual([]);
    const dm = await ok<{ id: string }>(a.socket, 'dm:open', { userId: c.id });
    expect(await stored(a.id)).toEqual([r1.id, dm.id].sort());
    expect(await stored(c.id)).toEqual([dm.id]);
    // memberCount follows every change without recounting.
    const list = await listAll(b.socket);
    expect(list.find((r) => r.id === r2.id)?.memberCount).toBe(1);
  });

  it('a new socket is subscribed to exactly the listed rooms (none left after a leave)', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    const kept = await createRoom(a.socket, { type: 'public' });
    const left = await createRoom(a.socket, { type: 'public' });
    await ok(b.socket, 'room:join', { roomId: kept.id });
    await ok(b.socket, 'room:join', { roomId: left.id });
    await ok(b.socket, 'room:leave', { roomId: left.id });
    const fresh = await connectUser(t.url, b.token);
    const [inKept, inLeft] = [nextMessage(fresh, kept.id), nextMessage(fresh, left.id, 800)];
    await sendMessage(a.socket, kept.id, 'to kept');
    await sendMessage(a.socket, left.id, 'to left');
    expect((await inKept)?.text).toBe('to kept');
    expect(await inLeft).toBeNull();
  });

  it('a stale entry (listed, not a member) is not shown by room:list, which repairs it; leave repairs it too', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    const room = await createRoom(a.socket, { type: 'public' });
    const other = await createRoom(a.socket, { type: 'public' });
    const { repos, userRooms } = t.app.chat;
    await repos.userRooms.add(b.id, room.id);
    await repos.userRooms.add(b.id, other.id);
    userRooms.cache.forget(b.id);
    expect(await listAll(b.socket)).toEqual([]);
    // The repairs run after the answer, one per stale entry: wait for both.
    for (let i = 0; i < 250 && (await stored(b.id)).length > 0; i++) await sleep(20);
    expect(await stored(b.id)).toEqual([]);
    await repos.userRooms.add(b.id, room.id);
    userRooms.cache.forget(b.id);
    expect(await ok(b.socket, 'room:leave', { roomId: room.id })).toEqual({});
    expect(await stored(b.id)).toEqual([]);
  });

  it('a missing entry (a member, not listed) is repaired by joining again', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    const room = await createRoom(a.socket, { type: 'public' });
    await ok(b.socket, 'room:join', { roomId: room.id });
    await t.app.chat.repos.userRooms.remove(b.id, room.id);
    t.app.chat.userRooms.cache.forget(b.id);
    expect(await listAll(b.socket)).toEqual([]);
    await ok(b.socket, 'room:join', { roomId: room.id });
    expect((await listAll(b.socket)).map((r) => r.id)).toEqual([room.id]);
  });

  it('an add that lands after the membership was deleted (a join racing a kick) unlists itself', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    const room = await createRoom(a.socket, { type: 'public' });
    const { repos, userRooms } = t.app.chat;
    // The joiner inserted the membership, then a kick deleted it, then the joiner's list write lands.
    await repos.memberships.add(room.id, b.id, 'member', new Date());
    await repos.memberships.remove(room.id, b.id);
    await userRooms.added(room.id, b.id);
    expect(await stored(b.id)).toEqual([]);
  });

  it('builds the lists of memberships stored before them, once', async () => {
    const [a, b] = await Promise.all([registerUser(t.url), registerUser(t.url)]);
    const { repos } = t.app.chat;
    const rooms = ['legacyroom1', 'legacyroom2'];
    for (const r of rooms) {
      await repos.rooms.create({ _id: r, type: 'public', name: r, createdBy: a.id, createdAt: new Date(), lastSeq: 0, memberCount: 2, lastActivityAt: new Date(), retentionDays: null });
      await repos.memberships.add(r, a.id, 'member', new Date());
      await repos.memberships.add(r, b.id, 'member', new Date());
    }
    // b already has a list (a node serving during the migration wrote it): merged, not replaced.
    await repos.userRooms.set(b.id, ['legacyroom1']);
    await t.app.deps.db.collection('migrations').deleteOne({ _id: USER_ROOMS_MIGRATION as never });
    expect(await repos.userRooms.migrate()).toBeGreaterThanOrEqual(2);
    expect(await stored(a.id)).toEqual(rooms);
    expect(await stored(b.id)).toEqual(rooms);
    expect(await repos.userRooms.migrate()).toBeNull();
    t.app.chat.userRooms.cache.forget(a.id);
    const socket = await connectUser(t.url, a.token);
    expect((await listAll(socket)).map((r) => r.id).sort()).toEqual(rooms);
  });
});

describe('user rooms: two nodes', () => {
  const apps: App[] = [];
  const urls: string[] = [];
  beforeAll(async () => {
    const { uri } = freshMongoUri('ur');
    for (let i = 0; i < 2; i++) {
      const config = loadConfig(testEnv({ ...CHAT_ENV, MONGODB_URI: uri, REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: `ur${uri.slice(-12)}:`, NODE_ID: `ur-${i}` }));
      const app = await createApp(config, { log: createLogger('silent') });
      urls.push(`http://127.0.0.1:${await app.listen()}`);
      apps.push(app);
    }
  });
  afterAll(async () => {
    closeClients();
    await Promise.all(apps.map((a) => a.close()));
  });

  it('a join or kick on one node reaches the other node cached list', async () => {
    const owner: Person = await newPerson(urls[0]);
    const b: Person = await newPerson(urls[1]);
    const room = await createRoom(owner.socket, { type: 'public' });
    // Node 1 caches b's (empty) list.
    expect(await listAll(b.socket)).toEqual([]);
    expect(apps[1].chat.userRooms.cache.get(b.id)).toEqual([]);
    const onNode0 = await connectUser(urls[0], b.token);
    await ok(onNode0, 'room:join', { roomId: room.id });
    for (let i = 0; i < 50 && apps[1].chat.userRooms.cache.get(b.id) !== null; i++) await sleep(20);
    expect(apps[1].chat.userRooms.cache.get(b.id)).toBeNull();
    expect((await listAll(b.socket)).map((r) => r.id)).toEqual([room.id]);
    const fresh = await connectUser(urls[1], b.token);
    const got = nextMessage(fresh, room.id);
    await sendMessage(owner.socket, room.id, 'hello node 1');
    expect((await got)?.text).toBe('hello node 1');

    await ok(owner.socket, 'room:kick', { roomId: room.id, userId: b.id });
    for (let i = 0; i < 50 && apps[1].chat.userRooms.cache.get(b.id) !== null; i++) await sleep(20);
    expect(apps[1].chat.userRooms.cache.get(b.id)).toBeNull();
    const later = await connectUser(urls[1], b.token);
    const none = nextMessage(later, room.id, 800);
    await sendMessage(owner.socket, room.id, 'after the kick');
    expect(await none).toBeNull();
    expect(await listAll(later)).toEqual([]);
  });
});
