// What moderation asks of a send, from what the send path already holds (the membership
// cache): a muted member is refused until the mute ends; in a slow-mode room a member (not
// an owner/admin) takes one turn per interval (one Redis SET NX PX, data/slow-mode.store.ts).
import type { SlowModeGate } from '../../data/slow-mode.store';
import { AppError } from '../../errors';
import { isModerator, type SendState } from '../access';

export type SendGate = (state: SendState, roomId: string, userId: string, isRetry: () => Promise<boolean>) => Promise<(() => Promise<void>) | null>;

export function mutedError(mutedUntil: number): AppError {
  const retryAfterMs = Math.max(1, mutedUntil - Date.now());
  return new AppError('FORBIDDEN', 'you are muted in this room', { reason: 'muted', until: new Date(mutedUntil).toISOString(), retryAfterMs });
}

/**
 * Resolves a release for the slow-mode turn taken (call it if the send is not stored as a new
 * message), null when none was taken; throws the refusal. A retry of a stored message
 * (`isRetry`, asked only when refusing) passes: it returns the stored message, as with rate limits.
 */
export function createSendGate(slowMode: SlowModeGate): SendGate {
  return async (state, roomId, userId, isRetry) => {
    if (state.mutedUntil !== null && state.mutedUntil > Date.now()) {
      if (await isRetry()) return null;
      throw mutedError(state.mutedUntil);
    }
    if (state.slowModeMs <= 0 || isModerator(state.role)) return null;
    try {
      return await slowMode.take(roomId, userId, state.slowModeMs);
    } catch (err) {
      if (err instanceof AppError && err.code === 'RATE_LIMITED' && (await isRetry())) return null;
      throw err;
    }
  };
}

/** A send refused by a mute or slow mode: it did not happen, so it costs no rate-limit point. */
export function isModerationRefusal(err: unknown): boolean {
  if (!(err instanceof AppError)) return false;
  const d = err.details as { reason?: unknown; limit?: unknown } | undefined;
  return d?.reason === 'muted' || d?.limit === 'slow-mode';
}
