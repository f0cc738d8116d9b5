// Login throttling on one node (issue 19): brute force against one account meets free
// failures, growing waits, then a block that even the right password cannot pass; a
// success forgets the account's failures; an address spraying one password over many
// accounts is stopped by the address limit; unknown and known usernames get the same
// answers in the same time; limits lift after their window; blocks are announced as the
// signed outbound event auth.suspicious. Client addresses come from X-Forwarded-For
// (TRUST_PROXY_HOPS=1), so each test attacks from addresses of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { expectThrottled, freshAddress, loginFrom } from '../helpers/accounts';
import { api, expectHttpError, PASSWORD, registerUser, sleep, uniqueName } from '../helpers/chat';
import { EVENTS_SECRET, eventually, signatureValid, startReceiver, type Receiver } from '../helpers/workers';

const LIMITS = {
  TRUST_PROXY_HOPS: '1',
  LOGIN_FREE_FAILURES: '2',
  LOGIN_ACCOUNT_MAX_FAILURES: '5',
  LOGIN_ADDRESS_MAX_FAILURES: '8',
  LOGIN_DELAY_BASE_MS: '1000',
  LOGIN_DELAY_MAX_MS: '2000',
  LOGIN_BLOCK_MS: '2000',
  LOGIN_FAILURE_WINDOW_MS: '60000',
};

describe('accounts: login throttling on one node', () => {
  let t: TestApp;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestApp({ ...LIMITS, EVENTS_WEBHOOK_URL: receiver.url, EVENTS_WEBHOOK_SECRET: EVENTS_SECRET, WEBHOOK_BACKOFF_MS: '50' });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const login = (address: string, username: string, password: string) => loginFrom(t.url, address, username, password);
  const suspicious = () => receiver.requests.filter((r) => r.body?.type === 'auth.suspicious');

  it('brute force: free failures, growing waits, a block the right password cannot pass, then it lifts; success forgets', async () => {
    const victim = await registerUser(t.url);
    const attacker = freshAddress();
    // Two free failures, answered at once.
    for (let i = 0; i < 2; i++) expectHttpError(await login(attacker, victim.username, `guess-${i}-wrong`), 'UNAUTHORIZED');
    // The third fails and makes the next attempt wait about a second.
    expectHttpError(await login(attacker, victim.username, 'guess-2-wrong'), 'UNAUTHORIZED');
    const first = expectThrottled(await login(attacker, victim.username, 'guess-3-wrong'), 'account', 1000);
    // The wait is per account: another address, even with the right password, waits too (and is not checked).
    expectThrottled(await login(freshAddress(), victim.username, PASSWORD), 'account', 1000);
    await sleep(first + 50);
    expectHttpError(await login(attacker, victim.username, 'guess-3-wrong'), 'UNAUTHORIZED');
    // The next wait is longer.
    const second = expectThrottled(await login(attacker, victim.username, 'guess-4-wrong'), 'account', 2000);
    expect(second).toBeGreaterThan(1000);
    await sleep(second + 50);
    // The fifth failure blocks the account for LOGIN_BLOCK_MS.
    expectHttpError(await login(attacker, victim.username, 'guess-4-wrong'), 'UNAUTHORIZED');
    const block = expectThrottled(await login(attacker, victim.username, PASSWORD), 'account', 2000);
    expectThrottled(await login(freshAddress(), victim.username, PASSWORD), 'account', 2000);
    // The block is announced once, signed, through the outbound event webhook.
    const event = await eventually(() => suspicious().find((r) => r.body.data.username === victim.username.toLowerCase()), 5000, 'auth.suspicious');
    expect(signatureValid(EVENTS_SECRET, event)).toBe(true);
    expect(event.body).toEqual({
      id: expect.stringMatching(/^evt_/),
      type: 'auth.suspicious',
      createdAt: expect.any(String),
      data: { reason: 'account_blocked', username: victim.username.toLowerCase(), userId: victim.id, address: attacker, failures: 5, blockedForMs: 2000 },
    });
    // Existing sessions are not affected: a block refuses new logins only.
    expect((await api(t.url, 'GET', '/api/v1/me', { token: victim.token })).status).toBe(200);

    // The block lifts after its time; the right password works and forgets the failures.
    await sleep(block + 50);
    const ok = await login(freshAddress(), victim.username, PASSWORD);
    expect(ok.status).toBe(200);
    expect(ok.body.user.id).toBe(victim.id);
    for (let i = 0; i < 2; i++) expectHttpError(await login(attacker, victim.username, `again-${i}-wrong`), 'UNAUTHORIZED');
    expect((await login(attacker, victim.username, PASSWORD)).status).toBe(200);
    expect(suspicious().filter((r) => r.body.data.username === victim.username.toLowerCase())).toHaveLength(1);
  }, 30_000);

  it('password spraying: one password over many accounts from one address is stopped by the address limit', async () => {
    const users = await Promise.all(Array.from({ length: 10 }, () => registerUser(t.url)));
    const sprayer = freshAddress();
    for (const u of users.slice(0, 8)) expectHttpError(await login(sprayer, u.username, 'Autumn-Leaves-42'), 'UNAUTHORIZED');
    // The address made 8 failures: it is blocked, whatever account it tries next, right password or not.
    const ms = expectThrottled(await login(sprayer, users[8].username, 'Autumn-Leaves-42'), 'address', 2000);
    expectThrottled(await login(sprayer, users[9].username, PASSWORD), 'address', 2000);
    expectThrottled(await login(sprayer, uniqueName('ghost'), 'Autumn-Leaves-42'), 'address', 2000);
    // The accounts were not hurt: one failure each, so they log in at once from elsewhere.
    for (const u of users.slice(0, 3)) expect((await login(freshAddress(), u.username, PASSWORD)).status).toBe(200);
    const event = await eventually(() => suspicious().find((r) => r.body.data.reason === 'address_blocked' && r.body.data.address === sprayer), 5000, 'auth.suspicious');
    expect(event.body.data).toEqual({ reason: 'address_blocked', username: users[7].username.toLowerCase(), userId: users[7].id, address: sprayer, failures: 8, blockedForMs: 2000 });
    // The address block lifts after its time.
    await sleep(ms + 50);
    expect((await login(sprayer, users[9].username, PASSWORD)).status).toBe(200);
  }, 30_000);

  it('parallel guesses are counted before the check: no more than the limit are ever checked', async () => {
    const victim = await registerUser(t.url);
    const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) => login(freshAddress(), victim.username, i === 19 ? PASSWORD : `parallel-${i}-wrong`)));
    const statuses = guesses.map((r) => r.status);
    // At most LOGIN_ACCOUNT_MAX_FAILURES attempts reach the password check; the rest wait or are blocked.
    expect(statuses.filter((s) => s === 401 || s === 200).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(15);
    for (const r of guesses.filter((g) => g.status === 429)) expectThrottled(r, 'account', 2000);
  });

  it('unknown and known usernames: the same answers, and the same time within noise', async () => {
    const known = await Promise.all(Array.from({ length: 12 }, () => registerUser(t.url)));
    const timeOf = async (username: string) => {
      const started = performance.now();
      const res = await login(freshAddress(), username, 'not-the-password');
      return { ms: performance.now() - started, res };
    };
    const knownTimes: number[] = [];
    const unknownTimes: number[] = [];
    // Interleaved, so load on the machine hits both alike.
    for (const u of known) {
      const k = await timeOf(u.username);
      const g = await timeOf(uniqueName('ghost'));
      expect(k.res.status).toBe(401);
      expect(g.res.body).toEqual(k.res.body);
      expect([...g.res.headers.keys()].filter((h) => h !== 'date' && h !== 'x-request-id' && h !== 'etag').sort()).toEqual(
        [...k.res.headers.keys()].filter((h) => h !== 'date' && h !== 'x-request-id' && h !== 'etag').sort(),
      );
      knownTimes.push(k.ms);
      unknownTimes.push(g.ms);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const [mk, mu] = [median(knownTimes), median(unknownTimes)];
    // Both hash a password (scrypt, tens of ms); skipping it for unknown names would show as a gap of most of that.
    expect(Math.abs(mk - mu), `median known ${mk.toFixed(1)} ms, unknown ${mu.toFixed(1)} ms`).toBeLessThanOrEqual(0.35 * Math.max(mk, mu) + 15);

    // Throttled, too, they look alike: an unknown name is blocked exactly like a known one.
    const ghost = uniqueName('ghost');
    const victim = (await registerUser(t.url)).username;
    const addressA = freshAddress();
    const addressB = freshAddress();
    for (let i = 0; i < 3; i++) {
      expect((await login(addressA, victim, `w-${i}-wrong`)).status).toBe(401);
      expect((await login(addressB, ghost, `w-${i}-wrong`)).status).toBe(401);
    }
    const a = await login(addressA, victim, 'w-3-wrong');
    const b = await login(addressB, ghost, 'w-3-wrong');
    expectThrottled(a, 'account', 1000);
    expectThrottled(b, 'account', 1000);
    expect(b.body.error.message).toBe(a.body.error.message);
  }, 30_000);
});

describe('accounts: login failures are counted in a window', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ...LIMITS, LOGIN_FREE_FAILURES: '2', LOGIN_ACCOUNT_MAX_FAILURES: '3', LOGIN_FAILURE_WINDOW_MS: '1500' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('failures older than the window are forgotten', async () => {
    const u = await registerUser(t.url);
    const address = freshAddress();
    for (let i = 0; i < 2; i++) expectHttpError(await loginFrom(t.url, address, u.username, `old-${i}-wrong`), 'UNAUTHORIZED');
    await sleep(1700);
    // Two more free failures: the count started again; within one window, the third would have been a block.
    for (let i = 0; i < 2; i++) expectHttpError(await loginFrom(t.url, address, u.username, `new-${i}-wrong`), 'UNAUTHORIZED');
    expect((await loginFrom(t.url, address, u.username, PASSWORD)).status).toBe(200);
  });
});
