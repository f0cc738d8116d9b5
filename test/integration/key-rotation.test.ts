// JWT key rotation: verification keys chosen by the token's `kid`, so a new signing key
// rolls out while tokens signed with the previous one stay valid (docs/operations.md).
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, connectError } from '../helpers/clients';
import { api } from '../helpers/chat';
import { startTestApp, type TestApp } from '../helpers/app';

const OLD = 'old-secret-0123456789abcdef';
const NEW = 'new-secret-0123456789abcdef';

function sign(secret: string, kid?: string, sub = 'rot-user'): string {
  return jwt.sign({ sub }, secret, { algorithm: 'HS256', expiresIn: 600, ...(kid ? { keyid: kid } : {}) });
}

async function accepted(url: string, token: string): Promise<{ socket: boolean; rest: number }> {
  const rest = (await api(url, 'GET', '/api/v1/rooms', { token })).status;
  try {
    const s = await connect(url, token);
    s.close();
    return { socket: true, rest };
  } catch (err) {
    expect((err as Error).message).toBe('UNAUTHORIZED');
    return { socket: false, rest };
  }
}

describe('JWT key rotation (kid)', () => {
  // Step 1 of the runbook: the next key is known everywhere before anyone signs with it.
  let before: TestApp;
  // Step 2: the new key signs; the previous one still verifies until its tokens expire.
  let after: TestApp;
  beforeAll(async () => {
    before = await startTestApp({ JWT_SECRET: OLD, JWT_KEY_ID: 'k1', JWT_VERIFY_KEYS: JSON.stringify({ k2: NEW }) });
    after = await startTestApp({ JWT_SECRET: NEW, JWT_KEY_ID: 'k2', JWT_VERIFY_KEYS: JSON.stringify({ k1: OLD }) });
  });
  afterAll(async () => {
    await before?.close();
    await after?.close();
  });

  it('issues tokens carrying the current key id', async () => {
    const res = await api(after.url, 'POST', '/api/v1/auth/register', { body: { username: `rot${Date.now()}`, password: 'correct-horse-battery' } });
    expect(res.status).toBe(201);
    expect(jwt.decode(res.body.token, { complete: true })?.header.kid).toBe('k2');
    // Mid-deploy, a node still on the previous configuration accepts it (step 1 made it known).
    expect(await accepted(before.url, res.body.token)).toEqual({ socket: true, rest: 200 });
    expect(await accepted(after.url, res.body.token)).toEqual({ socket: true, rest: 200 });
  });

  it('accepts tokens signed with the previous key on the socket handshake and REST', async () => {
    expect(await accepted(after.url, sign(OLD, 'k1'))).toEqual({ socket: true, rest: 200 });
    expect(await accepted(after.url, sign(NEW, 'k2'))).toEqual({ socket: true, rest: 200 });
  });

  it('tries every configured key for tokens issued before key ids existed', async () => {
    expect(await accepted(after.url, sign(OLD))).toEqual({ socket: true, rest: 200 });
    expect(await accepted(after.url, sign(NEW))).toEqual({ socket: true, rest: 200 });
    expect(await accepted(after.url, sign('third-secret-0123456789abcdef'))).toEqual({ socket: false, rest: 401 });
  });

  it('uses only the key the kid names, and refuses unknown key ids', async () => {
    // Signed with the new key but claiming the old id: the kid selects, nothing else is tried.
    expect(await accepted(after.url, sign(NEW, 'k1'))).toEqual({ socket: false, rest: 401 });
    expect(await accepted(after.url, sign(OLD, 'k3'))).toEqual({ socket: false, rest: 401 });
    const err = await connectError(after.url, sign(OLD, 'k3'));
    expect(err.data).toEqual({ code: 'UNAUTHORIZED', message: 'unknown signing key' });
  });

  it('refuses the retired key once it is removed (step 3)', async () => {
    const done = await startTestApp({ JWT_SECRET: NEW, JWT_KEY_ID: 'k2' });
    try {
      expect(await accepted(done.url, sign(OLD, 'k1'))).toEqual({ socket: false, rest: 401 });
      expect(await accepted(done.url, sign(OLD))).toEqual({ socket: false, rest: 401 });
      expect(await accepted(done.url, sign(NEW, 'k2'))).toEqual({ socket: true, rest: 200 });
    } finally {
      await done.close();
    }
  });
});
