// Abuse limits on connections: MAX_CONNECTIONS_PER_USER and MAX_CONNECTIONS_PER_IP refuse
// the handshake with connect_error RATE_LIMITED, on one node (memory) and across nodes
// (Redis leases), free their slot when a socket leaves, survive a dead node (leases run
// out) and a Redis outage (the node keeps counting its own sockets). Also the join limit.
import crypto from 'node:crypto';
import Redis from 'ioredis';
import { io as ioClient } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startSpareRedis, type SpareRedis } from '../../loadtests/chaos/redis-server';
import { signToken, startTestApp, type TestApp } from '../helpers/app';
import { CHAT_ENV, expectAckError, newPerson, ok, sleep, uniqueName } from '../helpers/chat';
import { connect, connectError, request, type Client, type ConnectOptions } from '../helpers/clients';

const opened = new Set<Client>();
async function open(url: string, token: string, opts: ConnectOptions = {}): Promise<Client> {
  const s = await connect(url, token, opts);
  opened.add(s);
  return s;
}
function closeAll() {
  for (const s of opened) s.close();
  opened.clear();
}

async function expectRateLimited(url: string, token: string, opts: ConnectOptions = {}) {
  const err = await connectError(url, token, opts);
  expect(err.message).toBe('RATE_LIMITED');
  expect(err.data).toEqual({ code: 'RATE_LIMITED', message: expect.any(String), details: expect.objectContaining({ retryAfterMs: expect.any(Number) }) });
  expect((err.data as any).details.retryAfterMs).toBeGreaterThan(0);
}

/** Retries a connect until it succeeds (a freed slot is released asynchronously). */
async function eventuallyConnects(url: string, token: string, opts: ConnectOptions = {}, ms = 3000): Promise<Client> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await open(url, token, opts);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(50);
    }
  }
}

const userId = () => crypto.randomBytes(12).toString('hex');
const randomIp = () => `10.${crypto.randomInt(256)}.${crypto.randomInt(256)}.${crypto.randomInt(1, 255)}`;
const viaProxy = (ip: string): ConnectOptions => ({ headers: { 'x-forwarded-for': ip } });

afterEach(() => closeAll());

describe('abuse: connection limits on one node (in memory)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MAX_CONNECTIONS_PER_USER: '3', MAX_CONNECTIONS_PER_IP: '1000', TRUST_PROXY_HOPS: '1' });
  });
  afterAll(() => t.close());

  it('the connection over MAX_CONNECTIONS_PER_USER is refused with RATE_LIMITED; other users are not affected', async () => {
    const u = userId();
    const sockets = [];
    for (let i = 0; i < 3; i++) sockets.push(await open(t.url, signToken(u)));
    await expectRateLimited(t.url, signToken(u));
    // Long-polling clients are counted and refused the same way.
    await expectRateLimited(t.url, signToken(u), { transports: ['polling'] });
    const other = await open(t.url, signToken(userId()));
    expect(other.connected).toBe(true);
    // Refusals hold no slot: closing one socket lets exactly one more in.
    sockets[0].close();
    await eventuallyConnects(t.url, signToken(u));
    await expectRateLimited(t.url, signToken(u));
  });

  it('a failed authentication takes no slot', async () => {
    const u = userId();
    for (let i = 0; i < 5; i++) expect((await connectError(t.url, 'garbage')).data?.code).toBe('UNAUTHORIZED');
    for (let i = 0; i < 3; i++) await open(t.url, signToken(u));
    await expectRateLimited(t.url, signToken(u));
  });

  it('a client that vanishes mid-handshake frees its slot', async () => {
    const u = userId();
    // Start handshakes and close them at once, before `connect`.
    for (let i = 0; i < 6; i++) {
      const s = ioClient(t.url, { auth: { token: signToken(u) }, transports: ['websocket'], reconnection: false, forceNew: true });
      setTimeout(() => s.close(), i % 2 === 0 ? 0 : 2);
    }
    await sleep(300);
    for (let i = 0; i < 3; i++) await eventuallyConnects(t.url, signToken(u));
    await expectRateLimited(t.url, signToken(u));
  });
});

describe('abuse: per-IP limit and the client address', () => {
  let t: TestApp;
  afterEach(async () => {
    closeAll();
    await t?.close();
  });

  it('MAX_CONNECTIONS_PER_IP counts every user from one address; other addresses are not affected', async () => {
    t = await startTestApp({ MAX_CONNECTIONS_PER_USER: '100', MAX_CONNECTIONS_PER_IP: '2', TRUST_PROXY_HOPS: '1' });
    const ip = randomIp();
    await open(t.url, signToken(userId()), viaProxy(ip));
    await open(t.url, signToken(userId()), viaProxy(ip));
    await expectRateLimited(t.url, signToken(userId()), viaProxy(ip));
    await open(t.url, signToken(userId()), viaProxy(randomIp()));
  });

  it('with one trusted proxy, only the address it appended counts: a forged left part changes nothing', async () => {
    t = await startTestApp({ MAX_CONNECTIONS_PER_USER: '100', MAX_CONNECTIONS_PER_IP: '2', TRUST_PROXY_HOPS: '1' });
    const ip = randomIp();
    await open(t.url, signToken(userId()), viaProxy(`${randomIp()}, ${ip}`));
    await open(t.url, signToken(userId()), viaProxy(`1.2.3.4, ${randomIp()}, ${ip}`));
    await expectRateLimited(t.url, signToken(userId()), viaProxy(`${randomIp()}, ${ip}`));
  });

  it('without trusted proxies (the default) X-Forwarded-For is ignored: the TCP peer counts', async () => {
    t = await startTestApp({ MAX_CONNECTIONS_PER_USER: '100', MAX_CONNECTIONS_PER_IP: '2' });
    await open(t.url, signToken(userId()), viaProxy(randomIp()));
    await open(t.url, signToken(userId()), viaProxy(randomIp()));
    await expectRateLimited(t.url, signToken(userId()), viaProxy(randomIp()));
  });
});

describe('abuse: connection limits across nodes (Redis)', () => {
  let a: TestApp;
  let b: TestApp;
  let redis: Redis;
  const env = () => ({ REDIS_URL: inject('redisUrl'), MAX_CONNECTIONS_PER_USER: '3', MAX_CONNECTIONS_PER_IP: '2', TRUST_PROXY_HOPS: '1', CONNECTION_LEASE_MS: '1500' });
  beforeAll(async () => {
    [a, b] = await Promise.all([startTestApp(env()), startTestApp(env())]);
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    closeAll();
    redis.disconnect();
    await Promise.all([a.close(), b.close()]);
  });

  it('the per-user limit holds across the cluster, and a slot freed on one node is usable on another', async () => {
    const u = userId();
    await open(a.url, signToken(u), viaProxy(randomIp()));
    await open(a.url, signToken(u), viaProxy(randomIp()));
    const onB = await open(b.url, signToken(u), viaProxy(randomIp()));
    await expectRateLimited(a.url, signToken(u), viaProxy(randomIp()));
    await expectRateLimited(b.url, signToken(u), viaProxy(randomIp()));
    onB.close();
    await eventuallyConnects(a.url, signToken(u), viaProxy(randomIp()));
    await expectRateLimited(b.url, signToken(u), viaProxy(randomIp()));
  });

  it('the per-IP limit holds across the cluster', async () => {
    const ip = randomIp();
    await open(a.url, signToken(userId()), viaProxy(ip));
    await open(b.url, signToken(userId()), viaProxy(ip));
    await expectRateLimited(a.url, signToken(userId()), viaProxy(ip));
    await expectRateLimited(b.url, signToken(userId()), viaProxy(ip));
  });

  it('leases stay alive while their sockets are connected (refreshed past CONNECTION_LEASE_MS)', async () => {
    const u = userId();
    for (let i = 0; i < 3; i++) await open(i % 2 ? a.url : b.url, signToken(u), viaProxy(randomIp()));
    await sleep(2500);
    await expectRateLimited(a.url, signToken(u), viaProxy(randomIp()));
  });

  it('the slots of a node that died free themselves when its leases run out', async () => {
    const u = userId();
    // A node that died holding three of u's sockets: leases nobody refreshes any more.
    const key = `chat:conn:{c}:u:${u}`;
    // Long enough that a loaded machine refuses the handshake before they run out.
    const expires = Date.now() + 5000;
    await redis.zadd(key, expires, 'dead-node:s1', expires, 'dead-node:s2', expires, 'dead-node:s3');
    await expectRateLimited(a.url, signToken(u), viaProxy(randomIp()));
    expect(Date.now()).toBeLessThan(expires);
    await sleep(expires - Date.now() + 100);
    await open(a.url, signToken(u), viaProxy(randomIp()));
    expect(await redis.zcard(key)).toBe(1);
  });
});

describe('abuse: connection limits while Redis is down', () => {
  let spare: SpareRedis;
  let t: TestApp;
  beforeAll(async () => {
    spare = await startSpareRedis();
    t = await startTestApp({ REDIS_URL: spare.url, MAX_CONNECTIONS_PER_USER: '2', MAX_CONNECTIONS_PER_IP: '1000', CONNECTION_LEASE_MS: '1500' });
  });
  afterAll(async () => {
    closeAll();
    if (!spare.running()) await spare.start();
    await sleep(500);
    await t.close();
    await spare.stop();
  });

  it('connections are still accepted and the node enforces the limit on its own sockets; when Redis returns empty, the node re-registers them', async () => {
    await spare.stop();
    await sleep(200);
    const u = userId();
    await open(t.url, signToken(u));
    await open(t.url, signToken(u));
    await expectRateLimited(t.url, signToken(u));
    await open(t.url, signToken(userId()));

    await spare.start();
    const probe = new Redis(spare.url);
    try {
      // The lease refresher (every CONNECTION_LEASE_MS / 3) puts this node's sockets back.
      const key = `chat:conn:{c}:u:${u}`;
      const deadline = Date.now() + 5000;
      while ((await probe.zcard(key)) < 2 && Date.now() < deadline) await sleep(100);
      expect(await probe.zcard(key)).toBe(2);
      await expectRateLimited(t.url, signToken(u));
    } finally {
      probe.disconnect();
    }
  });
});

describe('abuse: join rate limit (RATE_LIMIT_JOINS)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ...CHAT_ENV, RATE_LIMIT_JOINS: '3', RATE_LIMIT_JOIN_WINDOW_MS: '60000' });
  });
  afterAll(() => t.close());

  it('joins over the limit are RATE_LIMITED with retryAfterMs and join nothing; rejoining a room you are in is free', async () => {
    const owner = await newPerson(t.url);
    const joiner = await newPerson(t.url);
    const rooms = [];
    for (let i = 0; i < 5; i++) rooms.push(await ok(owner.socket, 'room:create', { type: 'public', name: uniqueName('r') }));
    for (let i = 0; i < 3; i++) await ok(joiner.socket, 'room:join', { roomId: rooms[i].id });
    const refused = expectAckError(await request(joiner.socket, 'room:join', { roomId: rooms[3].id }), 'RATE_LIMITED');
    expect(refused.details.retryAfterMs).toBeLessThanOrEqual(60_000);
    // Nothing joined: not a member, not in the list.
    expectAckError(await request(joiner.socket, 'message:history', { roomId: rooms[3].id }), 'FORBIDDEN');
    const list = await ok(joiner.socket, 'room:list', {});
    expect(list.items.map((r: { id: string }) => r.id).sort()).toEqual(rooms.slice(0, 3).map((r) => r.id).sort());
    // Already a member: succeeds without spending a point.
    expect((await request(joiner.socket, 'room:join', { roomId: rooms[0].id })).ok).toBe(true);
    // Per user: another user still joins.
    const other = await newPerson(t.url);
    await ok(other.socket, 'room:join', { roomId: rooms[4].id });
    owner.socket.close();
    joiner.socket.close();
    other.socket.close();
  });
});
