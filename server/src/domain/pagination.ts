// Opaque list cursors and page limits shared by room:list and room:members.
import { errors } from '../errors';

export const DEFAULT_LIMIT = 50;

export interface KeysetCursor {
  at: Date;
  id: string;
}

export function encodeCursor(c: KeysetCursor): string {
  return Buffer.from(JSON.stringify([c.at.getTime(), c.id])).toString('base64url');
}

/** Decodes a cursor from a client; anything malformed is VALIDATION_FAILED. */
export function decodeCursor(cursor: string | undefined): KeysetCursor | null {
  if (cursor === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && Number.isSafeInteger(parsed[0]) && typeof parsed[1] === 'string' && parsed[1].length <= 256) {
      return { at: new Date(parsed[0] as number), id: parsed[1] };
    }
  } catch {
    // fall through
  }
  throw errors.validation([{ path: '/cursor', message: 'invalid cursor' }], 'invalid cursor');
}
