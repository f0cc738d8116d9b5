import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, connectError, request, waitFor } from '../helpers/clients';
import { signToken, startTestApp, TEST_JWT_SECRET, type TestApp } from '../helpers/app';

function b64(obj: unknown) {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

describe('socket handshake (HS256)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('accepts auth.token and a Bearer header', async () => {
    const a = await connect(t.url, signToken('u1'));
    expect(a.connected).toBe(true);
    a.close();
    const b = await connect(t.url, null, { headers: { authorization: `Bearer ${signToken('u1')}` } });
    expect(b.connected).toBe(true);
    b.close();
  });

  it('accepts long-polling clients too', async () => {
    const s = await connect(t.url, signToken('u1'), { transports: ['polling'] });
    expect(s.connected).toBe(true);
    s.close();
  });

  const refusals: Array<[string, () => unknown]> = [
    ['no token', () => undefined],
    ['a non-string token', () => 123],
    ['garbage', () => 'not.a.jwt'],
    ['a wrong secret', () => signToken('u1', {}, 'another-secret-0123456789')],
    ['alg none', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'u1', exp: Math.floor(Date.now() / 1000) + 60 })}.`],
    ['HS384', () => jwt.sign({ sub: 'u1' }, TEST_JWT_SECRET, { algorithm: 'HS384', expiresIn: 60 })],
    ['an expired token', () => jwt.sign({ sub: 'u1', exp: Math.floor(Date.now() / 1000) - 10 }, TEST_JWT_SECRET)],
    ['a not-yet-valid token', () => signToken('u1', { notBefore: 3600 })],
    ['a token without sub', () => jwt.sign({ foo: 1 }, TEST_JWT_SECRET, { expiresIn: 60 })],
    ['a token without exp', () => jwt.sign({ sub: 'u1' }, TEST_JWT_SECRET)],
    ['a tampered payload', () => {
      const [h, , s] = signToken('u1').split('.');
      return `${h}.${b64({ sub: 'admin', exp: Math.floor(Date.now() / 1000) + 60 })}.${s}`;
    }],
  ];
  it.each(refusals)('refuses %s with UNAUTHORIZED', async (_name, make) => {
    const err = await connectError(t.url, make());
    expect(err.message).toBe('UNAUTHORIZED');
    expect(err.data?.code).toBe('UNAUTHORIZED');
    expect(typeof err.data?.message).toBe('string');
  });

  it('emits session:expired and disconnects at exp', async () => {
    const s = await connect(t.url, jwt.sign({ sub: 'u1', exp: Math.floor(Date.now() / 1000) + 2 }, TEST_JWT_SECRET));
    const expired = waitFor(s, 'session:expired', () => true, 5000);
    const gone = new Promise<string>((resolve) => s.once('disconnect', resolve));
    expect(await expired).toEqual({});
    expect(await gone).toBe('io server disconnect');
  });

  it('auth:refresh extends the session; another user or a bad token is refused', async () => {
    const s = await connect(t.url, jwt.sign({ sub: 'u1', exp: Math.floor(Date.now() / 1000) + 2 }, TEST_JWT_SECRET));
    const exp = Math.floor(Date.now() / 1000) + 600;
    const ok = await request(s, 'auth:refresh', { token: jwt.sign({ sub: 'u1', exp }, TEST_JWT_SECRET) });
    expect(ok).toEqual({ ok: true, data: { exp } });
    const other = await request(s, 'auth:refresh', { token: signToken('u2') });
    expect(other.error?.code).toBe('FORBIDDEN');
    const bad = await request(s, 'auth:refresh', { token: 'nope' });
    expect(bad.error?.code).toBe('UNAUTHORIZED');
    const invalid = await request(s, 'auth:refresh', { token: 5 });
    expect(invalid.error?.code).toBe('VALIDATION_FAILED');
    await new Promise((r) => setTimeout(r, 2500));
    expect(s.connected).toBe(true);
    s.close();
  });
});

describe('socket handshake (RS256 / ES256)', () => {
  for (const [alg, gen] of [
    ['RS256', () => crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['ES256', () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })],
  ] as const) {
    it(`${alg}: accepts the configured algorithm and refuses HS256 signed with the public key`, async () => {
      const { publicKey, privateKey } = gen();
      const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const t = await startTestApp({ JWT_SECRET: undefined, JWT_ALGORITHM: alg, JWT_PUBLIC_KEY: pub });
      try {
        const good = jwt.sign({ sub: 'u1' }, privateKey, { algorithm: alg, expiresIn: 60 });
        const s = await connect(t.url, good);
        s.close();
        // The classic confusion attack: HS256 with the public key as the HMAC secret.
        const header = b64({ alg: 'HS256', typ: 'JWT' });
        const body = b64({ sub: 'u1', exp: Math.floor(Date.now() / 1000) + 60 });
        const sig = crypto.createHmac('sha256', pub).update(`${header}.${body}`).digest('base64url');
        const err = await connectError(t.url, `${header}.${body}.${sig}`);
        expect(err.data?.code).toBe('UNAUTHORIZED');
        const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
        const wrongKey = await connectError(t.url, jwt.sign({ sub: 'u1' }, alg === 'RS256' ? other : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { algorithm: alg, expiresIn: 60 }));
        expect(wrongKey.data?.code).toBe('UNAUTHORIZED');
      } finally {
        await t.close();
      }
    });
  }
});
