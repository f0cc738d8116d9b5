// Issue 11, defect 1: across two nodes the REST presence path once answered `offline` with
// `lastSeenAt: null` for a user who had been online. The contract: once a user went offline,
// lastSeenAt is an ISO-8601 timestamp. The window was between a node flipping the user's
// announced status to offline (Redis) and its database write of lastSeenAt; here that write
// is held open on both nodes, so every read lands inside the window.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { api, CHAT_ENV, closeClients, connectUser, createRoom, isoDate, ok, registerUser } from '../helpers/chat';
import { collect } from '../helpers/clients';
import { until } from '../helpers/cluster';
import { gate, startNodes } from '../helpers/nodes';

type Presence = { userId: string; status: 'online' | 'offline'; lastSeenAt: string | null };

/** Holds every node's lastSeenAt write for `userId` until the gate opens. */
function holdLastSeenWrites(nodes: TestApp[], userId: string): ReturnType<typeof gate> {
  const g = gate();
  for (const n of nodes) {
    const users = n.app.chat.repos.users;
    const write = users.setLastSeen;
    users.setLastSeen = ((id: string, at: Date) => (id === userId ? g.wait().then(() => write(id, at)) : write(id, at))) as typeof write;
  }
  return g;
}

const rest = async (node: TestApp, userId: string, token: string) => (await api<Presence>(node.url, 'GET', `/api/v1/users/${userId}/presence`, { token })).body;

describe('presence: lastSeenAt while one node settles a user offline (no Redis)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ...CHAT_ENV, PRESENCE_GRACE_MS: '200' });
  });
  afterAll(async () => {
    closeClients();
    await t?.close();
  });

  it('reads offline with the lastSeenAt being written, never null', async () => {
    const [u, watcher] = await Promise.all([registerUser(t.url), registerUser(t.url)]);
    const held = holdLastSeenWrites([t], u.id);
    const s = await connectUser(t.url, u);
    s.close();
    await held.entered;
    const during = await rest(t, u.id, watcher.token);
    expect(during).toEqual({ userId: u.id, status: 'offline', lastSeenAt: isoDate() });
    held.open();
    await until(async () => (await t.app.chat.repos.users.findById(u.id))?.lastSeenAt, 15_000, 'lastSeenAt stored');
    expect(await rest(t, u.id, watcher.token)).toEqual(during);
  });
});

describe('presence: lastSeenAt while a node settles a user offline (two nodes)', () => {
  let nodes: TestApp[];
  beforeAll(async () => {
    nodes = await startNodes(2, { PRESENCE_GRACE_MS: '200', PRESENCE_HEARTBEAT_MS: '200', PRESENCE_NODE_TTL_MS: '5000' });
  });
  afterEach(() => closeClients());
  afterAll(async () => {
    for (const n of nodes ?? []) await n.close();
  });

  it('a user who was online never reads offline with lastSeenAt null on any node, during or after the write', async () => {
    const [a, b] = nodes;
    const [u, watcher] = await Promise.all([registerUser(a.url), registerUser(a.url)]);
    const w = await connectUser(b.url, watcher);
    await createRoom(w, { type: 'public', memberIds: [u.id] });
    const updates = collect<Presence>(w, 'presence:updated');
    const mine = () => updates.filter((p) => p.userId === u.id);
    const held = holdLastSeenWrites(nodes, u.id);

    const s = await connectUser(a.url, u);
    await until(() => mine().some((p) => p.status === 'online'), 15_000, 'online update');
    s.close();
    // Some node's grace period ended and it is writing lastSeenAt.
    await held.entered;

    const viaSocket = async () => (await ok<{ items: Presence[] }>(w, 'presence:get', { userIds: [u.id] })).items[0];
    const during = [await rest(b, u.id, watcher.token), await rest(a, u.id, watcher.token), await viaSocket()];
    for (const p of during) expect(p).toEqual({ userId: u.id, status: 'offline', lastSeenAt: isoDate() });

    held.open();
    const announced = await until(() => mine().find((p) => p.status === 'offline'), 15_000, 'offline update');
    expect(announced.lastSeenAt).toEqual(isoDate());
    // One value everywhere: what was read during the write, what was announced, what is stored.
    for (const p of [...during, await rest(b, u.id, watcher.token), await rest(a, u.id, watcher.token), await viaSocket()]) expect(p).toEqual({ userId: u.id, status: 'offline', lastSeenAt: announced.lastSeenAt });
    expect(mine().filter((p) => p.status === 'offline')).toHaveLength(1);
  });
});
