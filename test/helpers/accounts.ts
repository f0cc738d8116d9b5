// Helpers for the account-defence tests: attacks from client addresses of their own
// (sent as X-Forwarded-For to apps with TRUST_PROXY_HOPS=1) and the RATE_LIMITED reply.
import { expect } from 'vitest';
import { api, expectHttpError, type ApiResponse } from './chat';

let nextOctet = 0;
/** A client address no other request of this process uses. */
export function freshAddress(): string {
  nextOctet += 1;
  return `10.${process.pid & 255}.${(nextOctet >> 8) & 255}.${nextOctet & 255}`;
}

export function loginFrom(url: string, address: string, username: string, password: string): Promise<ApiResponse> {
  return api(url, 'POST', '/api/v1/auth/login', { body: { username, password }, headers: { 'x-forwarded-for': address } });
}

export function registerFrom(url: string, address: string, body: Record<string, unknown>): Promise<ApiResponse> {
  return api(url, 'POST', '/api/v1/auth/register', { body, headers: { 'x-forwarded-for': address } });
}

/** A RATE_LIMITED reply: 429, details.retryAfterMs within (0, maxMs], Retry-After in whole seconds, the limit named. */
export function expectThrottled(res: ApiResponse, limit: 'account' | 'address' | 'global', maxMs: number): number {
  const error = expectHttpError(res, 'RATE_LIMITED');
  expect(error.details).toEqual({ retryAfterMs: expect.any(Number), limit });
  const ms = (error.details as { retryAfterMs: number }).retryAfterMs;
  expect(ms).toBeGreaterThan(0);
  expect(ms).toBeLessThanOrEqual(maxMs);
  expect(res.headers.get('retry-after')).toBe(String(Math.ceil(ms / 1000)));
  return ms;
}
