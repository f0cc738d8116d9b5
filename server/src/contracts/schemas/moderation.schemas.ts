// One schema per moderation event / body (mutes, bans, slow mode, audit log, flags).
import type { FlagResolution } from '../dto';
import { compile } from '../validate';
import { cursor, id, limit, object } from './common';

/** Up to a year, in whole seconds. */
export const MAX_DURATION_SECONDS = 365 * 24 * 3600;
/** Slow mode up to six hours between two messages; 0 turns it off. */
export const MAX_SLOW_MODE_SECONDS = 6 * 3600;

const durationSeconds = { type: 'integer', minimum: 1, maximum: MAX_DURATION_SECONDS } as const;
const reason = { type: 'string', minLength: 1, maxLength: 500, pattern: '^[^\\ud800-\\udfff]*$' } as const;
const seconds = { type: 'integer', minimum: 0, maximum: MAX_SLOW_MODE_SECONDS } as const;
const resolution = { enum: ['dismiss', 'delete', 'mute', 'ban'] } as const;

type Target = { roomId: string; userId: string; reason?: string };

export const roomMute = compile<Target & { durationSeconds: number }>(object({ roomId: id, userId: id, durationSeconds, reason }, ['roomId', 'userId', 'durationSeconds']));
export const roomUnmute = compile<Target>(object({ roomId: id, userId: id, reason }, ['roomId', 'userId']));
export const roomBan = compile<Target & { durationSeconds?: number }>(object({ roomId: id, userId: id, durationSeconds, reason }, ['roomId', 'userId']));
export const roomUnban = roomUnmute;
export const roomSlowMode = compile<{ roomId: string; seconds: number; reason?: string }>(object({ roomId: id, seconds, reason }, ['roomId', 'seconds']));
export const roomAudit = compile<{ roomId: string; cursor?: string; limit?: number }>(object({ roomId: id, cursor, limit }, ['roomId']));
export const roomFlags = roomAudit;
export const messageFlag = compile<{ messageId: string; reason: string }>(object({ messageId: id, reason }, ['messageId', 'reason']));
export const flagResolve = compile<{ roomId: string; messageId: string; action: FlagResolution; durationSeconds?: number; note?: string }>(
  object({ roomId: id, messageId: id, action: resolution, durationSeconds, note: reason }, ['roomId', 'messageId', 'action']),
);

// REST bodies: the same fields, with the room (and target) in the path.
export const muteBody = compile<{ userId: string; durationSeconds: number; reason?: string }>(object({ userId: id, durationSeconds, reason }, ['userId', 'durationSeconds']));
export const banBody = compile<{ userId: string; durationSeconds?: number; reason?: string }>(object({ userId: id, durationSeconds, reason }, ['userId']));
export const slowModeBody = compile<{ seconds: number; reason?: string }>(object({ seconds, reason }, ['seconds']));
export const flagBody = compile<{ reason: string }>(object({ reason }, ['reason']));
export const resolveBody = compile<{ action: FlagResolution; durationSeconds?: number; note?: string }>(object({ action: resolution, durationSeconds, note: reason }, ['action']));
export const pageQuery = compile<{ cursor?: string; limit?: number }>(object({ cursor, limit }));
