// Schemas for profiles (extension): PATCH /users/me and user:update share one, user search
// (GET /users, user:search) another. Bounds are the contract's (docs/protocol.md "Profiles").
import { compile } from '../validate';
import { cursor, id, object } from './common';

/**
 * Text a client shows next to a name: no C0/C1 control characters (newlines included), no
 * line/paragraph separators, no bidirectional overrides or isolates (they reorder what
 * follows them on screen), no lone surrogates.
 */
const DISPLAY_TEXT = '^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\ud800-\\udfff]*$';

export const PROFILE_LIMITS = { displayName: 64, statusText: 140, avatarUrl: 2048 } as const;
export const SEARCH_LIMITS = { minPrefix: 3, maxPrefix: 32, defaultLimit: 20, maxLimit: 50 } as const;

/** Trimmed by the service; a name that is blank after trimming is refused there. */
export const displayName = { type: 'string', minLength: 1, maxLength: PROFILE_LIMITS.displayName, pattern: DISPLAY_TEXT } as const;
export const statusText = { type: 'string', maxLength: PROFILE_LIMITS.statusText, pattern: DISPLAY_TEXT } as const;
/** https only, no whitespace or control characters; the service also parses it (host, no credentials). */
export const avatarUrl = { type: 'string', minLength: 9, maxLength: PROFILE_LIMITS.avatarUrl, pattern: '^https://[^\\s\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff]+$' } as const;

const orNull = (schema: object) => ({ anyOf: [schema, { type: 'null' }] });

export const profilePatch = compile<{ displayName?: string; avatarUrl?: string | null; statusText?: string | null }>({
  ...object({ displayName, avatarUrl: orNull(avatarUrl), statusText: orNull(statusText) }),
  minProperties: 1,
});

/** A username prefix: the username alphabet, matched case-insensitively. */
export const usernamePrefix = { type: 'string', minLength: SEARCH_LIMITS.minPrefix, maxLength: SEARCH_LIMITS.maxPrefix, pattern: '^[a-zA-Z0-9_.-]+$' } as const;

export const userSearch = compile<{ prefix: string; cursor?: string; limit?: number }>(
  object({ prefix: usernamePrefix, cursor, limit: { type: 'integer', minimum: 1, maximum: SEARCH_LIMITS.maxLimit } }, ['prefix']),
);

/** user:block / user:unblock (extension: user blocks) and the REST paths' `:userId`. */
export const userBlockTarget = compile<{ userId: string }>(object({ userId: id }, ['userId']));
/** user:list_blocks takes nothing. */
export const userListBlocks = compile<Record<string, never>>(object({}));
