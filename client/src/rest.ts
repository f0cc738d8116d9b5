// The REST calls a client needs before it has a socket: register and login (and `me`).
import type { UserDto } from './contract/dto';
import type { ErrorBody } from './contract/errors';
import { toChatError, type Result } from './errors';

export interface Session {
  user: UserDto;
  token: string;
}

async function call<T>(baseUrl: string, path: string, init: { method: string; body?: unknown; token?: string }): Promise<Result<T>> {
  let res: Response;
  try {
    res = await fetch(new URL(path, baseUrl), {
      method: init.method,
      headers: {
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
  } catch (err) {
    return { ok: false, error: { code: 'NETWORK', message: `request failed: ${(err as Error).message}` } };
  }
  const body = (await res.json().catch(() => null)) as (T & { error?: ErrorBody }) | null;
  if (res.ok && body) return { ok: true, data: body };
  if (body?.error) return { ok: false, error: toChatError(body.error) };
  return { ok: false, error: { code: 'NETWORK', message: `unexpected HTTP ${res.status}` } };
}

/** POST /api/v1/auth/register: a new user and a token. */
export function register(baseUrl: string, body: { username: string; password: string; displayName?: string }): Promise<Result<Session>> {
  return call<Session>(baseUrl, '/api/v1/auth/register', { method: 'POST', body });
}

/** POST /api/v1/auth/login. */
export function login(baseUrl: string, body: { username: string; password: string }): Promise<Result<Session>> {
  return call<Session>(baseUrl, '/api/v1/auth/login', { method: 'POST', body });
}

/** GET /api/v1/me. */
export function me(baseUrl: string, token: string): Promise<Result<{ user: UserDto }>> {
  return call<{ user: UserDto }>(baseUrl, '/api/v1/me', { method: 'GET', token });
}
