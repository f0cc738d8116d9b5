// Token handling: read `exp`/`sub` from a JWT (no verification: the server does that)
// and decide when to refresh.

export interface TokenClaims {
  sub: string;
  /** Unix seconds, or null when the token carries none. */
  exp: number | null;
}

function base64UrlDecode(part: string): string {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const binary = atob(b64);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** The claims the client needs; throws on a string that is not a JWT. */
export function readClaims(token: string): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('not a JWT');
  const payload = JSON.parse(base64UrlDecode(parts[1])) as { sub?: unknown; exp?: unknown };
  if (typeof payload.sub !== 'string') throw new Error('JWT without sub');
  return { sub: payload.sub, exp: typeof payload.exp === 'number' ? payload.exp : null };
}

/**
 * Milliseconds from now until a refresh is due: a margin before `exp` (a fifth of the
 * remaining life, at most `maxMarginMs`), never less than a second.
 */
export function refreshDelayMs(exp: number, now = Date.now(), maxMarginMs = 60_000): number {
  const remaining = exp * 1000 - now;
  const margin = Math.min(maxMarginMs, remaining / 5);
  return Math.max(1000, Math.floor(remaining - margin));
}

/** Where tokens come from: a fixed string, or a function called for each (re)connect and refresh. */
export type TokenProvider = string | (() => string | Promise<string>);

export async function fetchToken(provider: TokenProvider): Promise<string> {
  return typeof provider === 'string' ? provider : provider();
}
