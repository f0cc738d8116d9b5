// Operator controls (issue 15): an operator (OPERATOR_TOKEN routes, or `npm run admin`)
// suspends a user everywhere (every socket on every node gets session:expired and is closed;
// its tokens, new logins and handshakes are refused until lifted) and purges a user's messages
// through the workers (soft-deleted like message:delete, announced as message:updated on every
// node, history caches included). Two nodes and a workers instance share one database and Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/src/app';
import { loadConfig } from '../../server/src/config';
import { createLogger } from '../../server/src/logger';
import { runAdminCommand } from '../../workers/src/cli/admin.command';
import type { Workers } from '../../workers/src/workers';
import { freshMongoUri, startTestApp, testEnv, type TestApp } from '../helpers/app';
import { connectError, waitFor } from '../helpers/clients';
import {
  api,
  CHAT_ENV,
  closeClients,
  connectUser,
  createRoom,
  expectHttpError,
  history,
  ok,
  PASSWORD,
  registerUser,
  sendMessage,
  type Message,
} from '../helpers/chat';
import { dropPrefix, eventually, jobsEnv, startTestWorkers, uniquePrefix } from '../helpers/workers';

const OPERATOR_TOKEN = 'operator-token-0123456789abcdef';

/** Runs the CLI in this process; resolves its exit code and output. */
async function cli(env: Record<string, string | undefined>, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdminCommand(argv, { ...testEnv({ ...env, MONGODB_URI: undefined }), NODE_ENV: 'test' }, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('operator controls: two nodes and the workers', () => {
  const { uri } = freshMongoUri('op');
  const prefix = uniquePrefix();
  const env = jobsEnv(prefix, { ...CHAT_ENV, OPERATOR_TOKEN, MONGODB_URI: uri });
  const nodes: TestApp[] = [];
  let workers: Workers;

  async function startNode(i: number): Promise<TestApp> {
    const config = loadConfig(testEnv({ ...env, NODE_ID: `node${i}` }));
    const app = await createApp(config, { log: createLogger(config.logLevel) });
    const port = await app.listen();
    return { app, config, url: `http://127.0.0.1:${port}`, port, dbName: '', close: () => app.close() };
  }
  const admin = (method: string, path: string, token: string | null = OPERATOR_TOKEN, node = 0) => api(nodes[node].url, method, `/api/v1/admin${path}`, { token });

  beforeAll(async () => {
    nodes.push(await startNode(0), await startNode(1));
    workers = await startTestWorkers(nodes[0], env);
  });
  afterAll(async () => {
    closeClients();
    await workers?.close();
    await Promise.all(nodes.map((n) => n.close()));
    await dropPrefix(prefix);
  });

  it('refuses anyone without the operator token, and bad ids, changing nothing', async () => {
    const u = await registerUser(nodes[0].url);
    const path = `/users/${u.id}/suspension`;
    for (const token of [null, u.token, 'operator-token-0123456789abcdeX', OPERATOR_TOKEN.slice(0, -1), `${OPERATOR_TOKEN}0`]) {
      for (const method of ['GET', 'PUT', 'DELETE']) expectHttpError(await admin(method, path, token), 'UNAUTHORIZED');
      expectHttpError(await admin('POST', `/users/${u.id}/messages/purge`, token), 'UNAUTHORIZED');
    }
    expectHttpError(await admin('PUT', `/users/${'x'.repeat(129)}/suspension`), 'VALIDATION_FAILED');
    expectHttpError(await admin('POST', `/users/${'x'.repeat(129)}/messages/purge`), 'VALIDATION_FAILED');
    // Not an operator route: it falls through to the user API, where the operator token is no user's.
    expectHttpError(await admin('POST', `/users/${u.id}/suspension`), 'UNAUTHORIZED');
    expect((await admin('GET', path)).body).toEqual({ userId: u.id, suspended: false });
    expect((await api(nodes[1].url, 'GET', '/api/v1/me', { token: u.token })).status).toBe(200);
  });

  it('suspending closes every socket on every node and refuses tokens, handshakes and logins until lifted', async () => {
    const [u, other] = await Promise.all([registerUser(nodes[0].url), registerUser(nodes[0].url)]);
    const sockets = [await connectUser(nodes[0].url, u), await connectUser(nodes[1].url, u), await connectUser(nodes[1].url, u)];
    const otherSocket = await connectUser(nodes[1].url, other);
    const expired = sockets.map((s) => waitFor(s, 'session:expired'));
    const closed = sockets.map((s) => new Promise<void>((r) => s.once('disconnect', () => r())));

    expect((await admin('PUT', `/users/${u.id}/suspension`, OPERATOR_TOKEN, 1)).body).toEqual({ userId: u.id, suspended: true });
    await Promise.all([...expired, ...closed]);
    expect(otherSocket.connected).toBe(true);
    for (const node of nodes) {
      const me = expectHttpError(await api(node.url, 'GET', '/api/v1/me', { token: u.token }), 'UNAUTHORIZED');
      expect(me.message).toBe('account suspended');
      expect((await connectError(node.url, u.token)).data?.code).toBe('UNAUTHORIZED');
    }
    const login = await api(nodes[0].url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: PASSWORD } });
    expect(expectHttpError(login, 'FORBIDDEN').details).toEqual({ reason: 'SUSPENDED' });
    // A wrong password is told nothing more than usual.
    expectHttpError(await api(nodes[0].url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: 'wrong-password' } }), 'UNAUTHORIZED');
    expect((await admin('GET', `/users/${u.id}/suspension`, OPERATOR_TOKEN, 1)).body).toEqual({ userId: u.id, suspended: true });
    // Idempotent.
    expect((await admin('PUT', `/users/${u.id}/suspension`)).status).toBe(200);

    expect((await admin('DELETE', `/users/${u.id}/suspension`)).body).toEqual({ userId: u.id, suspended: false });
    await eventually(async () => (await api(nodes[1].url, 'GET', '/api/v1/me', { token: u.token })).status === 200, 5000, 'the lift on node 1');
    expect((await api(nodes[0].url, 'GET', '/api/v1/me', { token: u.token })).status).toBe(200);
    const again = await connectUser(nodes[1].url, u);
    expect(again.connected).toBe(true);
    expect((await api(nodes[0].url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: PASSWORD } })).status).toBe(200);
  });

  it('the CLI suspends and lifts on every node; a suspension survives a node restart', async () => {
    const u = await registerUser(nodes[0].url);
    const s1 = await connectUser(nodes[1].url, u);
    const closed = new Promise<void>((r) => s1.once('disconnect', () => r()));
    const usage = await cli(env, 'suspend');
    expect(usage.code).toBe(2);
    expect((await cli(env, 'explode', u.id)).code).toBe(2);
    expect((await cli(env, 'suspend', 'x'.repeat(129))).code).toBe(2);
    expect((await cli({ ...env, REDIS_URL: undefined }, 'suspend', u.id)).code).toBe(1);
    expect((await api(nodes[1].url, 'GET', '/api/v1/me', { token: u.token })).status).toBe(200);

    const done = await cli(env, 'suspend', u.id);
    expect(done).toMatchObject({ code: 0, out: [JSON.stringify({ userId: u.id, suspended: true })] });
    await closed;
    expect(JSON.parse((await cli(env, 'status', u.id)).out[0])).toEqual({ userId: u.id, suspended: true });

    // Node 1 restarts: it reads the suspension back from Redis.
    closeClients();
    await nodes[1].close();
    nodes[1] = await startNode(1);
    expectHttpError(await api(nodes[1].url, 'GET', '/api/v1/me', { token: u.token }), 'UNAUTHORIZED');
    expect((await connectError(nodes[1].url, u.token)).data?.code).toBe('UNAUTHORIZED');

    expect((await cli(env, 'lift', u.id)).code).toBe(0);
    await eventually(async () => (await api(nodes[1].url, 'GET', '/api/v1/me', { token: u.token })).status === 200, 5000, 'the lift on node 1');
    await eventually(async () => (await api(nodes[0].url, 'GET', '/api/v1/me', { token: u.token })).status === 200, 5000, 'the lift on node 0');
  });

  it("purges a user's messages through the workers, announced on both nodes like deletes", async () => {
    const [spammer, author, watcher] = await Promise.all([registerUser(nodes[0].url), registerUser(nodes[0].url), registerUser(nodes[0].url)]);
    const [sp0, au0, w1] = [await connectUser(nodes[0].url, spammer), await connectUser(nodes[0].url, author), await connectUser(nodes[1].url, watcher)];
    const rooms = [await createRoom(au0, { type: 'public' }), await createRoom(au0, { type: 'public' })];
    for (const r of rooms) {
      await ok(sp0, 'room:join', { roomId: r.id });
      await ok(w1, 'room:join', { roomId: r.id });
    }
    const spam: Message[] = [];
    for (const r of rooms) for (let i = 0; i < 3; i++) spam.push(await sendMessage(sp0, r.id, `spam ${i}`));
    const kept = await sendMessage(au0, rooms[0].id, 'kept');
    // The newest page is cached on both nodes before the purge: it must not serve the spam after.
    for (const r of rooms) await history(w1, r.id);

    const updated = new Map<string, Message>();
    w1.on('message:updated', (m: Message) => updated.set(m.id, m));
    const res = await admin('POST', `/users/${spammer.id}/messages/purge`, OPERATOR_TOKEN, 1);
    expect(res.status).toBe(202);
    expect(res.body.jobId).toMatch(/^prg_[0-9a-f]{32}$/);
    await eventually(() => spam.every((m) => updated.get(m.id)?.deletedAt), 20_000, 'message:updated for every purged message');
    for (const m of spam) expect(updated.get(m.id)).toMatchObject({ id: m.id, text: '', reactions: {}, senderId: spammer.id });
    expect(updated.has(kept.id)).toBe(false);
    for (const [i, node] of nodes.entries()) {
      const s = i === 0 ? au0 : w1;
      const items = (await history(s, rooms[0].id)).items;
      expect(items.map((m) => [m.text, m.deletedAt !== null]), `node ${i}`).toEqual([['', true], ['', true], ['', true], ['kept', false]]);
      expect(node.url).toBeTruthy();
    }
    // The CLI queues the same job; nothing is left to delete.
    const again = await cli(env, 'purge-messages', spammer.id);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out[0]).jobId).toMatch(/^prg_[0-9a-f]{32}$/);
  });
});

describe('operator controls: one node without Redis', () => {
  it('without OPERATOR_TOKEN the routes do not exist; with it, purges run in-process', async () => {
    const plain = await startTestApp(CHAT_ENV);
    try {
      const u = await registerUser(plain.url);
      // Not a route at all: a user's token gets the usual 404 (an unknown token the usual 401).
      expectHttpError(await api(plain.url, 'PUT', `/api/v1/admin/users/${u.id}/suspension`, { token: u.token }), 'NOT_FOUND');
      expectHttpError(await api(plain.url, 'PUT', `/api/v1/admin/users/${u.id}/suspension`, { token: OPERATOR_TOKEN }), 'UNAUTHORIZED');
    } finally {
      await plain.close();
    }
    const t = await startTestApp({ ...CHAT_ENV, OPERATOR_TOKEN });
    try {
      const [spammer, watcher] = await Promise.all([registerUser(t.url), registerUser(t.url)]);
      const [sp, w] = [await connectUser(t.url, spammer), await connectUser(t.url, watcher)];
      const room = await createRoom(w, { type: 'public' });
      await ok(sp, 'room:join', { roomId: room.id });
      const m = await sendMessage(sp, room.id, 'spam');
      const deleted = waitFor<Message>(w, 'message:updated', (x) => x.id === m.id && x.deletedAt !== null);
      expect((await api(t.url, 'POST', `/api/v1/admin/users/${spammer.id}/messages/purge`, { token: OPERATOR_TOKEN })).status).toBe(202);
      await deleted;
      expect((await history(w, room.id)).items.map((x) => x.text)).toEqual(['']);
      // Suspension on one node: its memory is the whole cluster.
      const closed = new Promise<void>((r) => sp.once('disconnect', () => r()));
      expect((await api(t.url, 'PUT', `/api/v1/admin/users/${spammer.id}/suspension`, { token: OPERATOR_TOKEN })).status).toBe(200);
      await closed;
      expectHttpError(await api(t.url, 'GET', '/api/v1/me', { token: spammer.token }), 'UNAUTHORIZED');
    } finally {
      closeClients();
      await t.close();
    }
  });
});
