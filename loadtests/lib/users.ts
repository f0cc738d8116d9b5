// Load-test identities: HS256 tokens signed locally with the shared secret
// (fast, any count), or real users created through the REST register endpoint.
import jwt from 'jsonwebtoken';
import { mapLimit } from './limit';

export interface LoadUser {
  userId: string;
  token: string;
}

/** Signs one token per user; `sub` is a generated id unique to this run. */
export function signUsers(count: number, runId: string, secret: string, ttlS: number): LoadUser[] {
  const exp = Math.floor(Date.now() / 1000) + ttlS;
  return Array.from({ length: count }, (_, i) => {
    const userId = `lt-${runId}-u${i}`;
    return { userId, token: jwt.sign({ sub: userId, exp }, secret, { algorithm: 'HS256' }) };
  });
}

/** Registers users over REST, spread round-robin over the nodes; throws on the first failure. */
export async function registerUsers(urls: string[], count: number, runId: string, onDone?: () => void): Promise<LoadUser[]> {
  // Password hashing makes registration CPU-bound on the server; a few in flight are enough.
  return mapLimit(Array.from({ length: count }, (_, i) => i), 8, async (i) => {
    const url = urls[i % urls.length];
    const username = `lt_${runId}_${i}`;
    const res = await fetch(`${url}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: `pw-${runId}-${i}-load` }),
    });
    const body = (await res.json().catch(() => null)) as { user?: { id?: string }; token?: string; error?: { code?: string } } | null;
    if (res.status !== 201 || !body?.token || !body.user?.id) {
      throw new Error(`register ${username} at ${url}: HTTP ${res.status} ${body?.error?.code ?? ''} (pass --secret to sign tokens instead)`);
    }
    onDone?.();
    return { userId: body.user.id, token: body.token };
  });
}
