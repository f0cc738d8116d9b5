// Login throttling across two nodes (issue 19): the counters live in Redis, so an attacker
// who spreads guesses over the nodes behind the load balancer meets the same waits and
// blocks as one who hits a single node, for brute force and for password spraying.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectThrottled, freshAddress, loginFrom, registerFrom } from '../helpers/accounts';
import { expectHttpError, PASSWORD, sleep, uniqueName } from '../helpers/chat';
import { startTestApp, type TestApp } from '../helpers/app';
import { startRedisServer, TestCluster, type RedisServer } from '../helpers/cluster';

/** A user registered from an address of its own (REGISTER_PER_ADDRESS is tight here). */
async function registerUser(url: string): Promise<{ id: string; username: string }> {
  const res = await registerFrom(url, freshAddress(), { username: uniqueName(), password: PASSWORD });
  expect(res.status).toBe(201);
  return res.body.user;
}

describe('accounts: login throttling across two nodes', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      nodes: 2,
      env: {
        TRUST_PROXY_HOPS: '1',
        LOGIN_FREE_FAILURES: '2',
        LOGIN_ACCOUNT_MAX_FAILURES: '4',
        LOGIN_ADDRESS_MAX_FAILURES: '6',
        LOGIN_DELAY_BASE_MS: '1000',
        LOGIN_DELAY_MAX_MS: '1000',
        LOGIN_BLOCK_MS: '2000',
        REGISTER_PER_ADDRESS: '3',
        REGISTER_ADDRESS_WINDOW_MS: '60000',
      },
    });
  }, 90_000);
  afterAll(async () => {
    await cluster?.close();
  });

  it('brute force alternating nodes: waits and the block hold on both', async () => {
    const [a, b] = cluster.urls;
    const victim = await registerUser(a);
    const attacker = freshAddress();
    expectHttpError(await loginFrom(a, attacker, victim.username, 'x-wrong-1'), 'UNAUTHORIZED');
    expectHttpError(await loginFrom(b, attacker, victim.username, 'x-wrong-2'), 'UNAUTHORIZED');
    expectHttpError(await loginFrom(a, attacker, victim.username, 'x-wrong-3'), 'UNAUTHORIZED');
    // The third failure, on node a, makes node b wait too.
    const wait = expectThrottled(await loginFrom(b, attacker, victim.username, 'x-wrong-4'), 'account', 1000);
    await sleep(wait + 50);
    // The fourth, on node b, blocks the account on node a as well, right password included.
    expectHttpError(await loginFrom(b, attacker, victim.username, 'x-wrong-4'), 'UNAUTHORIZED');
    const block = expectThrottled(await loginFrom(a, freshAddress(), victim.username, PASSWORD), 'account', 2000);
    expectThrottled(await loginFrom(b, freshAddress(), victim.username, PASSWORD), 'account', 2000);
    await sleep(block + 50);
    expect((await loginFrom(b, freshAddress(), victim.username, PASSWORD)).status).toBe(200);
    // The success on node b forgot the failures for node a too: two free failures again.
    // (From another address: the attacker's has 6 failures now, its own limit.)
    const other = freshAddress();
    for (let i = 0; i < 2; i++) expectHttpError(await loginFrom(a, other, victim.username, `y-wrong-${i}`), 'UNAUTHORIZED');
    expect((await loginFrom(a, other, victim.username, PASSWORD)).status).toBe(200);
  }, 30_000);

  it('password spraying alternating nodes: the address limit counts both', async () => {
    const users = await Promise.all(Array.from({ length: 8 }, (_, i) => registerUser(cluster.urls[i % 2])));
    const sprayer = freshAddress();
    for (let i = 0; i < 6; i++) expectHttpError(await loginFrom(cluster.urls[i % 2], sprayer, users[i].username, 'Winter-Is-Here-7'), 'UNAUTHORIZED');
    expectThrottled(await loginFrom(cluster.urls[0], sprayer, users[6].username, 'Winter-Is-Here-7'), 'address', 2000);
    const ms = expectThrottled(await loginFrom(cluster.urls[1], sprayer, users[7].username, PASSWORD), 'address', 2000);
    await sleep(ms + 50);
    expect((await loginFrom(cluster.urls[1], sprayer, users[7].username, PASSWORD)).status).toBe(200);
  }, 30_000);

  it('registrations per address are counted across the nodes', async () => {
    const address = freshAddress();
    const register = (url: string, i: number) => registerFrom(url, address, { username: `xn_${address.replace(/\./g, '_')}_${i}`, password: PASSWORD });
    expect((await register(cluster.urls[0], 1)).status).toBe(201);
    expect((await register(cluster.urls[1], 2)).status).toBe(201);
    expect((await register(cluster.urls[0], 3)).status).toBe(201);
    expectThrottled(await register(cluster.urls[1], 4), 'address', 60_000);
  });
});

describe('accounts: login throttling while Redis is down', () => {
  let redis: RedisServer;
  let t: TestApp;
  beforeAll(async () => {
    redis = await startRedisServer();
    t = await startTestApp({
      REDIS_URL: redis.url,
      TRUST_PROXY_HOPS: '1',
      LOGIN_FREE_FAILURES: '3',
      LOGIN_ACCOUNT_MAX_FAILURES: '3',
      LOGIN_BLOCK_MS: '60000',
    });
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('each node keeps counting in memory: logins still work, and guessing is still blocked', async () => {
    const victim = await registerUser(t.url);
    await redis.stop();
    expect((await loginFrom(t.url, freshAddress(), victim.username, PASSWORD)).status).toBe(200);
    for (let i = 0; i < 3; i++) expectHttpError(await loginFrom(t.url, freshAddress(), victim.username, `down-${i}-wrong`), 'UNAUTHORIZED');
    expectThrottled(await loginFrom(t.url, freshAddress(), victim.username, PASSWORD), 'account', 60_000);
  });
});
