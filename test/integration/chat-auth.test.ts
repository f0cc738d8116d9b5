// REST users and auth: register, login, /me, and the registered token on the socket.
import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { connect, connectError } from '../helpers/clients';
import { signToken, TEST_JWT_SECRET } from '../helpers/app';
import {
  api,
  connectUser,
  expectHttpError,
  expectUser,
  jwtPayload,
  ok,
  PASSWORD,
  registerUser,
  uniqueName,
} from '../helpers/chat';
import { useChatApp } from '../helpers/chat-app';

describe('chat: REST auth', () => {
  const t = useChatApp();

  const register = (body: unknown) => api(t.url, 'POST', '/api/v1/auth/register', { body });
  const login = (body: unknown) => api(t.url, 'POST', '/api/v1/auth/login', { body });

  describe('POST /api/v1/auth/register', () => {
    it('answers 201 { user, token }; displayName defaults to the username', async () => {
      const username = uniqueName('reg');
      const before = Date.now();
      const res = await register({ username, password: PASSWORD });
      expect(res.status).toBe(201);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(res.body).toEqual({ user: expect.any(Object), token: expect.any(String) });
      expectUser(res.body.user, { username, displayName: username });
      expect(Date.parse(res.body.user.createdAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(res.body.user.createdAt)).toBeLessThanOrEqual(Date.now() + 1000);
      // The token's `sub` is the user id, and it carries an expiry.
      const claims = jwtPayload(res.body.token);
      expect(claims.sub).toBe(res.body.user.id);
      expect(typeof claims.exp).toBe('number');
      expect(jwtPayload(res.body.token).exp * 1000).toBeGreaterThan(Date.now());
      // Verifiable with the configured HS256 secret (external issuers share it).
      expect((jwt.verify(res.body.token, TEST_JWT_SECRET, { algorithms: ['HS256'] }) as jwt.JwtPayload).sub).toBe(res.body.user.id);
    });

    it('keeps a given displayName', async () => {
      const username = uniqueName('disp');
      const res = await register({ username, password: PASSWORD, displayName: 'Ada Lovelace 🚀' });
      expect(res.status).toBe(201);
      expectUser(res.body.user, { username, displayName: 'Ada Lovelace 🚀' });
    });

    it('gives every user its own opaque string id', async () => {
      const a = await registerUser(t.url);
      const b = await registerUser(t.url);
      expect(typeof a.id).toBe('string');
      expect(a.id.length).toBeGreaterThan(0);
      expect(a.id).not.toBe(b.id);
    });

    it('answers 409 CONFLICT for a taken username, case-insensitively, and keeps the first user', async () => {
      const base = uniqueName('dup').toLowerCase();
      const first = await register({ username: base, password: PASSWORD });
      expect(first.status).toBe(201);
      expectHttpError(await register({ username: base, password: 'another-password' }), 'CONFLICT');
      expectHttpError(await register({ username: base.toUpperCase(), password: 'another-password' }), 'CONFLICT');
      const mixed = base[0].toUpperCase() + base.slice(1);
      expectHttpError(await register({ username: mixed, password: 'another-password' }), 'CONFLICT');
      // The original account still logs in with its own password, not the refused one.
      const res = await login({ username: base, password: PASSWORD });
      expect(res.status).toBe(200);
      expect(res.body.user.id).toBe(first.body.user.id);
      expectHttpError(await login({ username: base, password: 'another-password' }), 'UNAUTHORIZED');
    });

    it('registering "Alice" after "alice" is a conflict', async () => {
      const suffix = uniqueName('x').slice(2, 12);
      expect((await register({ username: `alice${suffix}`, password: PASSWORD })).status).toBe(201);
      expectHttpError(await register({ username: `Alice${suffix}`, password: PASSWORD }), 'CONFLICT');
    });

    it('two concurrent registrations of one name: exactly one 201, the other 409', async () => {
      const username = uniqueName('race');
      const results = await Promise.all(Array.from({ length: 5 }, () => register({ username, password: PASSWORD })));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409, 409, 409, 409]);
    });

    it('accepts the boundary lengths (username 3 and 32, password 8 and 128, all allowed characters)', async () => {
      const three = `z${crypto.randomBytes(1).toString('hex')}`;
      expect((await register({ username: three, password: 'x'.repeat(8) })).status).toBe(201);
      const long = `Z.-_${crypto.randomBytes(14).toString('hex')}`.slice(0, 32);
      const res = await register({ username: long, password: 'y'.repeat(128) });
      expect(res.status).toBe(201);
      expect(res.body.user.username).toBe(long);
      expect((await login({ username: long, password: 'y'.repeat(128) })).status).toBe(200);
    });

    const invalid: Array<[string, unknown]> = [
      ['a missing username', { password: PASSWORD }],
      ['a missing password', { username: 'validname' }],
      ['a 2-character username', { username: 'ab', password: PASSWORD }],
      ['a 33-character username', { username: 'a'.repeat(33), password: PASSWORD }],
      ['a username with a space', { username: 'bad name', password: PASSWORD }],
      ['a username with "!"', { username: 'bad!name', password: PASSWORD }],
      ['a username with "@"', { username: 'bad@name', password: PASSWORD }],
      ['a username with "$"', { username: '$badname', password: PASSWORD }],
      ['a non-ASCII username', { username: 'bädname', password: PASSWORD }],
      ['a 7-character password', { username: 'validname7', password: '1234567' }],
      ['a 129-character password', { username: 'validname8', password: 'p'.repeat(129) }],
      ['a numeric username', { username: 12345, password: PASSWORD }],
      ['a numeric password', { username: 'validname9', password: 12345678 }],
      ['an operator as username', { username: { $gt: '' }, password: PASSWORD }],
      ['an operator as password', { username: 'validname10', password: { $ne: null } }],
      ['a numeric displayName', { username: 'validname11', password: PASSWORD, displayName: 5 }],
      ['an empty displayName', { username: 'validname12', password: PASSWORD, displayName: '' }],
      ['a 101-character displayName', { username: 'validname13', password: PASSWORD, displayName: 'd'.repeat(101) }],
      ['an extra field', { username: 'validname14', password: PASSWORD, role: 'admin' }],
      ['an array body', [{ username: 'validname15', password: PASSWORD }]],
      ['a string body', 'validname16'],
      ['a null body', null],
    ];
    it.each(invalid)('answers 400 VALIDATION_FAILED for %s and creates nothing', async (_name, body) => {
      const res = await register(body);
      expectHttpError(res, 'VALIDATION_FAILED');
      // Nothing was created: the (valid) username is still free.
      const u = body as { username?: unknown } | null;
      if (u && typeof u.username === 'string' && /^[a-zA-Z0-9_.-]{3,32}$/.test(u.username)) {
        expect((await register({ username: u.username, password: PASSWORD })).status).toBe(201);
      }
    });

    it('answers 400 for an empty body and for invalid JSON', async () => {
      expectHttpError(await api(t.url, 'POST', '/api/v1/auth/register', { rawBody: '' }), 'VALIDATION_FAILED');
      expectHttpError(await api(t.url, 'POST', '/api/v1/auth/register', { rawBody: '{"username":' }), 'VALIDATION_FAILED');
    });

    it('answers 413 PAYLOAD_TOO_LARGE over 64 KiB', async () => {
      const res = await register({ username: uniqueName('big'), password: PASSWORD, displayName: 'd'.repeat(65 * 1024) });
      expectHttpError(res, 'PAYLOAD_TOO_LARGE');
    });

    it('a __proto__ key is an unknown property, and pollutes nothing', async () => {
      const res = await api(t.url, 'POST', '/api/v1/auth/register', {
        rawBody: `{"username":"${uniqueName('proto')}","password":"${PASSWORD}","__proto__":{"polluted":true,"isAdmin":true}}`,
      });
      expectHttpError(res, 'VALIDATION_FAILED');
      expect(({} as any).polluted).toBeUndefined();
      expect(({} as any).isAdmin).toBeUndefined();
    });
  });

  describe('POST /api/v1/auth/login', () => {
    it('answers 200 { user, token } with the registered user', async () => {
      const u = await registerUser(t.url, uniqueName('log'), { displayName: 'Logger' });
      const res = await login({ username: u.username, password: PASSWORD });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: u.user, token: expect.any(String) });
      expect(jwtPayload(res.body.token).sub).toBe(u.id);
    });

    it('answers 401 UNAUTHORIZED for a bad password and for an unknown user', async () => {
      const u = await registerUser(t.url);
      expectHttpError(await login({ username: u.username, password: 'wrong-password' }), 'UNAUTHORIZED');
      expectHttpError(await login({ username: u.username, password: PASSWORD.toUpperCase() }), 'UNAUTHORIZED');
      expectHttpError(await login({ username: uniqueName('ghost'), password: PASSWORD }), 'UNAUTHORIZED');
    });

    it('the two 401s do not tell an unknown user from a bad password', async () => {
      const u = await registerUser(t.url);
      const bad = await login({ username: u.username, password: 'wrong-password' });
      const unknown = await login({ username: uniqueName('ghost'), password: 'wrong-password' });
      expect(bad.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(bad.body.error.message).toBe(unknown.body.error.message);
    });

    const invalid: Array<[string, unknown]> = [
      ['a missing password', { username: 'someone' }],
      ['a missing username', { password: PASSWORD }],
      ['an operator as password', { username: 'someone', password: { $gt: '' } }],
      ['an operator as username', { username: { $ne: null }, password: PASSWORD }],
      ['a regex operator as username', { username: { $regex: '.*' }, password: PASSWORD }],
      ['a numeric password', { username: 'someone', password: 12345678 }],
      ['an array body', []],
      ['an extra field', { username: 'someone', password: PASSWORD, admin: true }],
    ];
    it.each(invalid)('answers 400 VALIDATION_FAILED for %s (never 200)', async (_name, body) => {
      await registerUser(t.url, 'someone').catch(() => undefined);
      expectHttpError(await login(body), 'VALIDATION_FAILED');
    });
  });

  describe('GET /api/v1/me', () => {
    it('answers { user } for the token from register and from login', async () => {
      const u = await registerUser(t.url);
      const me = await api(t.url, 'GET', '/api/v1/me', { token: u.token });
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ user: u.user });
      const l = await login({ username: u.username, password: PASSWORD });
      const me2 = await api(t.url, 'GET', '/api/v1/me', { token: l.body.token });
      expect(me2.status).toBe(200);
      expect(me2.body).toEqual({ user: u.user });
    });

    it('answers 401 UNAUTHORIZED without a valid Bearer token', async () => {
      const u = await registerUser(t.url);
      expectHttpError(await api(t.url, 'GET', '/api/v1/me'), 'UNAUTHORIZED');
      expectHttpError(await api(t.url, 'GET', '/api/v1/me', { headers: { authorization: u.token } }), 'UNAUTHORIZED');
      expectHttpError(await api(t.url, 'GET', '/api/v1/me', { headers: { authorization: `Basic ${u.token}` } }), 'UNAUTHORIZED');
      expectHttpError(await api(t.url, 'GET', '/api/v1/me', { headers: { authorization: 'Bearer' } }), 'UNAUTHORIZED');
      expectHttpError(await api(t.url, 'GET', '/api/v1/me', { token: 'not.a.jwt' }), 'UNAUTHORIZED');
      expectHttpError(await api(t.url, 'GET', '/api/v1/me', { token: signToken(u.id, {}, 'another-secret-0123456789') }), 'UNAUTHORIZED');
      expectHttpError(await api(t.url, 'GET', '/api/v1/me', { token: jwt.sign({ sub: u.id, exp: Math.floor(Date.now() / 1000) - 10 }, TEST_JWT_SECRET) }), 'UNAUTHORIZED');
      expectHttpError(await api(t.url, 'GET', '/api/v1/me', { token: jwt.sign({ sub: u.id }, TEST_JWT_SECRET, { algorithm: 'HS384', expiresIn: 60 }) }), 'UNAUTHORIZED');
    });

    it('accepts a token from an external issuer sharing the key (sub = user id)', async () => {
      const u = await registerUser(t.url);
      const me = await api(t.url, 'GET', '/api/v1/me', { token: signToken(u.id) });
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ user: u.user });
    });
  });

  describe('the registered token on the socket', () => {
    it('opens a socket whose requests act as that user', async () => {
      const u = await registerUser(t.url);
      const socket = await connectUser(t.url, u);
      expect(socket.connected).toBe(true);
      const room = await ok(socket, 'room:create', { type: 'public', name: 'mine' });
      expect(room.createdBy).toBe(u.id);
      socket.close();
    });

    it('the Bearer header form works with a registered token; a garbled one is refused', async () => {
      const u = await registerUser(t.url);
      const s = await connect(t.url, null, { headers: { authorization: `Bearer ${u.token}` } });
      expect(s.connected).toBe(true);
      const room = await ok(s, 'room:create', { type: 'public', name: 'via-header' });
      expect(room.createdBy).toBe(u.id);
      s.close();
      const err = await connectError(t.url, `${u.token}x`);
      expect(err.message).toBe('UNAUTHORIZED');
      expect(err.data).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String) });
    });
  });
});
