// Registration defences (issue 19): limits per client address and for the whole
// deployment (RATE_LIMITED, lifting after their window), reserved usernames and their
// look-alikes, the most common passwords and the username as password. A refusal by
// policy changes nothing and costs no registration point.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { expectThrottled, freshAddress, registerFrom } from '../helpers/accounts';
import { api, expectHttpError, PASSWORD, sleep, uniqueName } from '../helpers/chat';

describe('accounts: registration limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      TRUST_PROXY_HOPS: '1',
      REGISTER_PER_ADDRESS: '3',
      REGISTER_ADDRESS_WINDOW_MS: '4000',
      REGISTER_GLOBAL: '6',
      REGISTER_GLOBAL_WINDOW_MS: '4000',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const register = (address: string, username = uniqueName('reg'), password = PASSWORD) => registerFrom(t.url, address, { username, password });
  const users = () => t.app.deps.db.collection('users').countDocuments();

  it('per address, then globally; both lift after their window', async () => {
    const a = freshAddress();
    // In parallel: the whole test must fit in one window.
    expect((await Promise.all([1, 2, 3].map(() => register(a)))).map((r) => r.status)).toEqual([201, 201, 201]);
    const before = await users();
    const name = uniqueName('late');
    expectThrottled(await register(a, name), 'address', 4000);
    // Other addresses still register, until the deployment's limit (6 in the window).
    expect((await Promise.all([1, 2, 3].map(() => register(freshAddress())))).map((r) => r.status)).toEqual([201, 201, 201]);
    expectThrottled(await register(freshAddress()), 'global', 4000);
    expect(await users()).toBe(before + 3);
    // After the window both lift: the refused name was not taken.
    await sleep(4100);
    expect((await register(a, name)).status).toBe(201);
  });

  it('a taken name costs a registration point like any other attempt (probing names is limited too)', async () => {
    await sleep(4100);
    const address = freshAddress();
    const taken = uniqueName('taken');
    expect((await register(freshAddress(), taken)).status).toBe(201);
    for (let i = 0; i < 3; i++) expectHttpError(await register(address, taken), 'CONFLICT');
    expectThrottled(await register(address, taken), 'address', 4000);
  });

  it('refusals by policy cost nothing: the address can still register afterwards', async () => {
    await sleep(4100);
    const address = freshAddress();
    for (let i = 0; i < 5; i++) expectHttpError(await register(address, `admin${i}`), 'VALIDATION_FAILED');
    for (let i = 0; i < 5; i++) expectHttpError(await register(address, uniqueName('weak'), 'password123'), 'VALIDATION_FAILED');
    for (let i = 0; i < 3; i++) expect((await register(address)).status).toBe(201);
  });
});

describe('accounts: username and password policy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ USERNAME_RESERVED: 'admin,support,moderator,root,bot,acme' });
  });
  afterAll(async () => {
    await t?.close();
  });

  const register = (body: Record<string, unknown>) => api(t.url, 'POST', '/api/v1/auth/register', { body });

  it.each(['admin', 'Admin', 'ADMIN', 'adm1n', 'ad_min', 'adm.in', 'admin1', 'admin_2024', 'the.admin', 'support-team', 'rnoderator', 'm0derator', 'r00t', 'b0t', 'ACME_official', 'acm3'])(
    'refuses the reserved name or look-alike %s (VALIDATION_FAILED on /username) and creates nothing',
    async (username) => {
      const error = expectHttpError(await register({ username, password: PASSWORD }), 'VALIDATION_FAILED');
      expect(error.details).toEqual([{ path: '/username', message: 'is reserved' }]);
      expect(await t.app.deps.db.collection('users').countDocuments({ usernameKey: username.toLowerCase() })).toBe(0);
    },
  );

  it.each(['badminton', 'rooted', 'bottle', 'supporter', 'acmes', 'ad_ministry'])('accepts %s: a name that only contains a reserved word', async (base) => {
    const username = `${base}_${uniqueName('n').slice(2, 8)}`;
    expect((await register({ username, password: PASSWORD })).status).toBe(201);
  });

  it.each(['password', 'Password1', 'PASSWORD123!', 'qwerty123', '12345678', '123456789', 'iloveyou', '!Sunshine2024', 'letmein1', 'football'])(
    'refuses the common password %s (VALIDATION_FAILED on /password)',
    async (password) => {
      const username = uniqueName('pw');
      const error = expectHttpError(await register({ username, password }), 'VALIDATION_FAILED');
      expect(error.details).toEqual([{ path: '/password', message: 'is too common' }]);
      // Nothing was created: the name is still free.
      expect((await register({ username, password: PASSWORD })).status).toBe(201);
    },
  );

  it('refuses the username as password, in any case and with digits around it', async () => {
    const username = `Carol_${uniqueName('c').slice(2, 10)}`;
    for (const password of [username, username.toLowerCase(), username.toUpperCase(), `${username}2024`, `${username}!`]) {
      const error = expectHttpError(await register({ username, password }), 'VALIDATION_FAILED');
      expect(error.details).toEqual([{ path: '/password', message: 'is the same as the username' }]);
    }
    expect((await register({ username, password: `${username}-and-more-words` })).status).toBe(201);
  });

  it('lists both problems when the name is reserved and the password common', async () => {
    const error = expectHttpError(await register({ username: 'admin', password: 'password' }), 'VALIDATION_FAILED');
    expect(error.details).toEqual([
      { path: '/username', message: 'is reserved' },
      { path: '/password', message: 'is too common' },
    ]);
  });

  it('login is not subject to the registration policy: any name and password just fail to match', async () => {
    const res = await api(t.url, 'POST', '/api/v1/auth/login', { body: { username: 'admin', password: 'password' } });
    expectHttpError(res, 'UNAUTHORIZED');
  });
});
