// Tokens beyond the handshake refusals of handshake.test.ts: issuer and audience when
// configured, every refusal on the REST bearer path too, expiry of refreshed sessions, and
// revocation (one token, or all of a user's) on every node through Redis.
import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { signToken, startTestApp, TEST_JWT_SECRET, type TestApp } from '../helpers/app';
import { api, CHAT_ENV, closeClients, cmid, connectUser, createRoom, expectHttpError, jwtPayload, registerUser, sleep, type TestUser } from '../helpers/chat';
import { connect, connectError, request, waitFor, type Client } from '../helpers/clients';

const b64 = (obj: unknown) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);

/** Every way a bearer token can be wrong, for an app verifying HS256 with TEST_JWT_SECRET. */
const BAD_HS: Array<[string, (sub: string) => string]> = [
  ['garbage', () => 'not.a.jwt'],
  ['a wrong secret', (sub) => signToken(sub, {}, 'another-secret-0123456789')],
  ['alg none', (sub) => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub, exp: nowS() + 60 })}.`],
  ['alg none with a signature', (sub) => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub, exp: nowS() + 60 })}.${crypto.randomBytes(32).toString('base64url')}`],
  ['HS384', (sub) => jwt.sign({ sub }, TEST_JWT_SECRET, { algorithm: 'HS384', expiresIn: 60 })],
  ['HS512', (sub) => jwt.sign({ sub }, TEST_JWT_SECRET, { algorithm: 'HS512', expiresIn: 60 })],
  ['expired', (sub) => jwt.sign({ sub, exp: nowS() - 10 }, TEST_JWT_SECRET)],
  ['not yet valid', (sub) => signToken(sub, { notBefore: 3600 })],
  ['without sub', () => jwt.sign({ foo: 1 }, TEST_JWT_SECRET, { expiresIn: 60 })],
  ['with a non-string sub', () => jwt.sign({ sub: 42 } as any, TEST_JWT_SECRET, { expiresIn: 60 })],
  ['without exp', (sub) => jwt.sign({ sub }, TEST_JWT_SECRET)],
  [
    'a tampered payload',
    (sub) => {
      const [h, , s] = signToken('someone-else').split('.');
      return `${h}.${b64({ sub, exp: nowS() + 60 })}.${s}`;
    },
  ],
  [
    'a tampered header (alg swapped to HS384, same signature)',
    (sub) => {
      const [, p, s] = signToken(sub).split('.');
      return `${b64({ alg: 'HS384', typ: 'JWT' })}.${p}.${s}`;
    },
  ],
  ['a stripped signature', (sub) => `${signToken(sub).split('.').slice(0, 2).join('.')}.`],
  ['an oversize token', (sub) => `${signToken(sub)}${'A'.repeat(9000)}`],
];

describe('tokens: REST bearer refusals (HS256)', () => {
  let t: TestApp;
  let user: TestUser;
  let roomId: string;
  beforeAll(async () => {
    t = await startTestApp(CHAT_ENV);
    user = await registerUser(t.url);
    const s = await connectUser(t.url, user);
    roomId = (await createRoom(s, { type: 'public' })).id;
  });
  afterAll(async () => {
    closeClients();
    await t.close();
  });

  it.each(BAD_HS)('refuses %s with 401 UNAUTHORIZED on every authenticated route, storing nothing', async (_label, make) => {
    // The token names the real user, so only the token itself is wrong.
    const token = make(user.id);
    const calls = [
      api(t.url, 'GET', '/api/v1/me', { token }),
      api(t.url, 'GET', '/api/v1/rooms', { token }),
      api(t.url, 'POST', '/api/v1/rooms', { token, body: { type: 'public', name: 'nope' } }),
      api(t.url, 'GET', `/api/v1/rooms/${roomId}`, { token }),
      api(t.url, 'GET', `/api/v1/rooms/${roomId}/messages`, { token }),
      api(t.url, 'POST', `/api/v1/rooms/${roomId}/messages`, { token, body: { clientMsgId: cmid(), text: 'nope' } }),
      api(t.url, 'GET', `/api/v1/users/${user.id}/presence`, { token }),
      api(t.url, 'POST', '/api/v1/auth/logout', { token, body: { everywhere: true } }),
    ];
    for (const res of await Promise.all(calls)) expectHttpError(res, 'UNAUTHORIZED');
    const me = await api(t.url, 'GET', '/api/v1/rooms', { token: user.token });
    expect(me.body.items.map((r: { id: string }) => r.id)).toEqual([roomId]);
  });

  it('refuses malformed Authorization headers with 401', async () => {
    for (const header of ['', 'Bearer', 'Bearer ', `Basic ${user.token}`, `Bearer ${user.token} extra`, `Token ${user.token}`, `${user.token}`, `Bearer\t${user.token}x`]) {
      const res = await api(t.url, 'GET', '/api/v1/me', { headers: { authorization: header } });
      expectHttpError(res, 'UNAUTHORIZED');
    }
    // The scheme is case-insensitive, as in RFC 7235.
    expect((await api(t.url, 'GET', '/api/v1/me', { headers: { authorization: `bearer ${user.token}` } })).status).toBe(200);
  });

  it('a token that expires between two requests is refused from then on', async () => {
    const token = jwt.sign({ sub: user.id, exp: nowS() + 2 }, TEST_JWT_SECRET);
    expect((await api(t.url, 'GET', '/api/v1/me', { token })).status).toBe(200);
    await sleep(3000);
    expectHttpError(await api(t.url, 'GET', '/api/v1/me', { token }), 'UNAUTHORIZED');
  });
});

describe('tokens: RS256 on REST (HS/RS confusion)', () => {
  it('refuses HS256 signed with the public key, none, and another key; accepts RS256', async () => {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const t = await startTestApp({ JWT_SECRET: undefined, JWT_ALGORITHM: 'RS256', JWT_PUBLIC_KEY: pub });
    try {
      const sub = 'rs-user';
      const header = b64({ alg: 'HS256', typ: 'JWT' });
      const body = b64({ sub, exp: nowS() + 60 });
      const confused = `${header}.${body}.${crypto.createHmac('sha256', pub).update(`${header}.${body}`).digest('base64url')}`;
      const wrongKey = jwt.sign({ sub }, crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, { algorithm: 'RS256', expiresIn: 60 });
      const none = `${b64({ alg: 'none', typ: 'JWT' })}.${body}.`;
      const ps256 = jwt.sign({ sub }, privateKey, { algorithm: 'PS256', expiresIn: 60 });
      for (const token of [confused, wrongKey, none, ps256]) {
        expectHttpError(await api(t.url, 'GET', '/api/v1/rooms', { token }), 'UNAUTHORIZED');
      }
      const good = jwt.sign({ sub }, privateKey, { algorithm: 'RS256', expiresIn: 60 });
      expect((await api(t.url, 'GET', '/api/v1/rooms', { token: good })).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('tokens: issuer and audience (JWT_ISSUER, JWT_AUDIENCE)', () => {
  let t: TestApp;
  const ISS = 'https://auth.example.test';
  const AUD = 'chat-api';
  const sign = (sub: string, claims: Record<string, unknown>) => jwt.sign({ sub, ...claims }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 600 });
  beforeAll(async () => {
    t = await startTestApp({ ...CHAT_ENV, JWT_ISSUER: ISS, JWT_AUDIENCE: AUD });
  });
  afterAll(async () => {
    closeClients();
    await t.close();
  });

  it('tokens from register carry both and work on REST and on the socket', async () => {
    const u = await registerUser(t.url);
    expect(jwtPayload(u.token)).toEqual(expect.objectContaining({ iss: ISS, aud: AUD, sub: u.id, jti: expect.any(String) }));
    expect((await api(t.url, 'GET', '/api/v1/me', { token: u.token })).status).toBe(200);
    const s = await connectUser(t.url, u);
    expect(s.connected).toBe(true);
    // An external token with the right issuer and audience (aud may be a list).
    expect((await api(t.url, 'GET', '/api/v1/rooms', { token: sign('ext', { iss: ISS, aud: [AUD, 'other'] }) })).status).toBe(200);
  });

  const wrong: Array<[string, Record<string, unknown>]> = [
    ['no issuer', { aud: AUD }],
    ['another issuer', { iss: 'https://evil.example.test', aud: AUD }],
    ['an issuer differing in case', { iss: ISS.toUpperCase(), aud: AUD }],
    ['no audience', { iss: ISS }],
    ['another audience', { iss: ISS, aud: 'billing-api' }],
    ['an audience list without ours', { iss: ISS, aud: ['billing-api', 'chat'] }],
  ];
  it.each(wrong)('refuses a token with %s: handshake, REST and auth:refresh', async (_label, claims) => {
    const u = await registerUser(t.url);
    const bad = sign(u.id, claims);
    const err = await connectError(t.url, bad);
    expect(err.message).toBe('UNAUTHORIZED');
    expect(err.data?.code).toBe('UNAUTHORIZED');
    expectHttpError(await api(t.url, 'GET', '/api/v1/me', { token: bad }), 'UNAUTHORIZED');
    const s = await connectUser(t.url, u);
    const refreshed = await request(s, 'auth:refresh', { token: bad });
    expect(refreshed.error?.code).toBe('UNAUTHORIZED');
    s.close();
  });
});

describe('tokens: expiry on live sockets', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(CHAT_ENV);
  });
  afterAll(() => t.close());

  it('each socket expires with its own token; a refreshed session expires at the new exp', async () => {
    const sub = crypto.randomBytes(12).toString('hex');
    const short = await connect(t.url, jwt.sign({ sub, exp: nowS() + 2 }, TEST_JWT_SECRET));
    const long = await connect(t.url, jwt.sign({ sub, exp: nowS() + 600 }, TEST_JWT_SECRET));
    const refreshed = await connect(t.url, jwt.sign({ sub, exp: nowS() + 2 }, TEST_JWT_SECRET));
    const ack = await request(refreshed, 'auth:refresh', { token: jwt.sign({ sub, exp: nowS() + 4 }, TEST_JWT_SECRET) });
    expect(ack.ok).toBe(true);
    const shortGone = new Promise<string>((r) => short.once('disconnect', r));
    const refreshedExpired = waitFor(refreshed, 'session:expired', () => true, 8000);
    expect(await shortGone).toBe('io server disconnect');
    expect(refreshed.connected).toBe(true);
    expect(await refreshedExpired).toEqual({});
    await sleep(100);
    expect(refreshed.connected).toBe(false);
    expect(long.connected).toBe(true);
    long.close();
  });

  it('an expired token cannot refresh a live session', async () => {
    const sub = crypto.randomBytes(12).toString('hex');
    const s = await connect(t.url, jwt.sign({ sub, exp: nowS() + 60 }, TEST_JWT_SECRET));
    const ack = await request(s, 'auth:refresh', { token: jwt.sign({ sub, exp: nowS() - 1 }, TEST_JWT_SECRET) });
    expect(ack.error?.code).toBe('UNAUTHORIZED');
    s.close();
  });
});

describe('tokens: revocation on one node (POST /api/v1/auth/logout)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(CHAT_ENV);
  });
  afterAll(async () => {
    closeClients();
    await t.close();
  });

  it('logout revokes that token only: its sockets get session:expired and close; the user’s other sessions go on', async () => {
    const u = await registerUser(t.url);
    const other = (await api(t.url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: 'correct-horse-battery' } })).body.token as string;
    const s1 = await connectUser(t.url, u.token);
    const s2 = await connectUser(t.url, other);
    const expired = waitFor(s1, 'session:expired');
    const gone = new Promise<string>((r) => s1.once('disconnect', r));
    const res = await api(t.url, 'POST', '/api/v1/auth/logout', { token: u.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expect(await expired).toEqual({});
    expect(await gone).toBe('io server disconnect');
    expectHttpError(await api(t.url, 'GET', '/api/v1/me', { token: u.token }), 'UNAUTHORIZED');
    expect((await connectError(t.url, u.token)).data?.code).toBe('UNAUTHORIZED');
    expect((await request(s2, 'auth:refresh', { token: u.token })).error?.code).toBe('UNAUTHORIZED');
    // The other session is untouched.
    expect(s2.connected).toBe(true);
    expect((await api(t.url, 'GET', '/api/v1/me', { token: other })).status).toBe(200);
  });

  it('logout everywhere revokes every token issued so far; a later login works', async () => {
    const u = await registerUser(t.url);
    const bystander = await registerUser(t.url);
    const b = await connectUser(t.url, bystander);
    const sockets = [await connectUser(t.url, u.token), await connectUser(t.url, u.token), await connectUser(t.url, signToken(u.id))];
    const gone = sockets.map((s) => new Promise<string>((r) => s.once('disconnect', r)));
    const res = await api(t.url, 'POST', '/api/v1/auth/logout', { token: u.token, body: { everywhere: true } });
    expect(res.status).toBe(200);
    expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect', 'io server disconnect']);
    expectHttpError(await api(t.url, 'GET', '/api/v1/me', { token: signToken(u.id) }), 'UNAUTHORIZED');
    expect(b.connected).toBe(true);
    // Tokens are dated to the second: one issued in a later second is not covered.
    await sleep(1100);
    const login = await api(t.url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: 'correct-horse-battery' } });
    expect((await api(t.url, 'GET', '/api/v1/me', { token: login.body.token })).status).toBe(200);
    const back = await connectUser(t.url, login.body.token);
    expect(back.connected).toBe(true);
  });

  it('refuses a bad body, a missing token, and single logout of a token without jti', async () => {
    const u = await registerUser(t.url);
    expectHttpError(await api(t.url, 'POST', '/api/v1/auth/logout', { token: u.token, body: { everywhere: 'yes' } }), 'VALIDATION_FAILED');
    expectHttpError(await api(t.url, 'POST', '/api/v1/auth/logout', { token: u.token, body: { everywhere: true, $where: '1' } }), 'VALIDATION_FAILED');
    expectHttpError(await api(t.url, 'POST', '/api/v1/auth/logout', {}), 'UNAUTHORIZED');
    expectHttpError(await api(t.url, 'POST', '/api/v1/auth/logout', { token: signToken(u.id) }), 'CONFLICT');
    // None of the refusals revoked anything.
    expect((await api(t.url, 'GET', '/api/v1/me', { token: u.token })).status).toBe(200);
  });
});

describe('tokens: revocation across nodes (Redis)', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    [a, b] = await Promise.all([startTestApp({ ...CHAT_ENV, REDIS_URL: inject('redisUrl') }), startTestApp({ ...CHAT_ENV, REDIS_URL: inject('redisUrl') })]);
  });
  afterAll(async () => {
    closeClients();
    await Promise.all([a.close(), b.close()]);
  });

  it('revoking a user on one node disconnects its sockets on every node and every node refuses its tokens, even one started later', async () => {
    // Users live in each app's own database; the token is what matters here.
    const sub = crypto.randomBytes(12).toString('hex');
    const token = signToken(sub);
    const onA = await connect(a.url, token);
    const onB = await connect(b.url, token);
    const expiredOnB = waitFor(onB, 'session:expired');
    const goneA = new Promise<string>((r) => onA.once('disconnect', r));
    const goneB = new Promise<string>((r) => onB.once('disconnect', r));
    await a.app.revocation.revokeUser(sub);
    expect(await expiredOnB).toEqual({});
    expect(await Promise.all([goneA, goneB])).toEqual(['io server disconnect', 'io server disconnect']);
    expect((await connectError(b.url, token)).data?.code).toBe('UNAUTHORIZED');
    expectHttpError(await api(b.url, 'GET', '/api/v1/rooms', { token }), 'UNAUTHORIZED');
    const c = await startTestApp({ ...CHAT_ENV, REDIS_URL: inject('redisUrl') });
    try {
      expectHttpError(await api(c.url, 'GET', '/api/v1/rooms', { token }), 'UNAUTHORIZED');
    } finally {
      await c.close();
    }
  });

  it('logout of one token on node A closes the socket that used it on node B', async () => {
    const u = await registerUser(a.url);
    const onB = await connect(b.url, u.token);
    const gone = new Promise<string>((r) => onB.once('disconnect', r));
    expect((await api(a.url, 'POST', '/api/v1/auth/logout', { token: u.token })).status).toBe(200);
    expect(await gone).toBe('io server disconnect');
    expect((await connectError(b.url, u.token)).data?.code).toBe('UNAUTHORIZED');
  });

  // Issue 11, defect 2: revocation matched a socket by the token it connected with, so
  // logging out the token it had refreshed to (auth:refresh) left it connected.
  it('a socket that refreshed to a new token is closed on its node when that token is logged out on another node', async () => {
    const u = await registerUser(a.url);
    const login = async () => (await api(a.url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: 'correct-horse-battery' } })).body.token as string;
    const next = await login();
    const onB = await connect(b.url, u.token);
    expect((await request(onB, 'auth:refresh', { token: next })).ok).toBe(true);
    const expired = waitFor(onB, 'session:expired');
    const gone = new Promise<string>((r) => onB.once('disconnect', r));
    expect((await api(a.url, 'POST', '/api/v1/auth/logout', { token: next })).status).toBe(200);
    expect(await expired).toEqual({});
    expect(await gone).toBe('io server disconnect');
    expect((await connectError(b.url, next)).data?.code).toBe('UNAUTHORIZED');
    // The token it connected with was not revoked.
    expect((await api(b.url, 'GET', '/api/v1/me', { token: u.token })).status).not.toBe(401);
  });

  it('logging out the token a socket connected with, after it refreshed, closes the sockets still on it, not the refreshed one', async () => {
    const u = await registerUser(a.url);
    const next = (await api(a.url, 'POST', '/api/v1/auth/login', { body: { username: u.username, password: 'correct-horse-battery' } })).body.token as string;
    const refreshed = await connect(b.url, u.token);
    const stayed = await connect(b.url, u.token);
    expect((await request(refreshed, 'auth:refresh', { token: next })).ok).toBe(true);
    const stayedGone = new Promise<string>((r) => stayed.once('disconnect', r));
    expect((await api(a.url, 'POST', '/api/v1/auth/logout', { token: u.token })).status).toBe(200);
    expect(await stayedGone).toBe('io server disconnect');
    // Both sockets were handled by the same revocation on node B: the refreshed one was kept.
    expect(refreshed.connected).toBe(true);
    expect((await request(refreshed, 'room:list', {})).ok).toBe(true);
    expect((await connectError(b.url, u.token)).data?.code).toBe('UNAUTHORIZED');
    // A refresh back to the revoked token is refused and leaves the session as it was.
    expect((await request(refreshed, 'auth:refresh', { token: u.token })).error?.code).toBe('UNAUTHORIZED');
    expect((await request(refreshed, 'room:list', {})).ok).toBe(true);
    const gone = new Promise<string>((r) => refreshed.once('disconnect', r));
    await b.app.revocation.revokeUser(u.id);
    expect(await gone).toBe('io server disconnect');
  });

  it('a session revoked on its own node is cut off before revokeUser resolves: nothing it sends afterwards is stored', async () => {
    const u = await registerUser(a.url);
    const s: Client = await connectUser(a.url, u);
    const room = await createRoom(s, { type: 'public' });
    await a.app.revocation.revokeUser(u.id);
    const late = await request(s, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'after revocation' }, 1000).catch(() => null);
    expect(late?.ok ?? false).toBe(false);
    expect(await a.app.chat.repos.messages.page(room.id, { limit: 10 })).toEqual({ items: [], hasMore: false });
  });
});
