// What moderation asks of a send, from what the send path already holds (the membership
// cache): a muted member is refused until the mute ends; in a slow-mode room a member (not
// an owner/admin) takes one turn per interval (one Redis script, data/slow-mode.store.ts).
// Neither costs a database read, refused or not.
import type { SlowModeGate } from '../../data/slow-mode.store';
import { AppError } from '../../errors';
import { isModerator, type SendState } from '../access';

/** Resolves a release for the slow-mode turn taken (call it if the send is not stored as a new message), null when none was taken; throws the refusal. */
export type SendGate = (state: SendState, roomId: string, userId: string, clientMsgId: string) => Promise<(() => Promise<void>) | null>;

export function mutedError(mutedUntil: number): AppError {
  const retryAfterMs = Math.max(1, mutedUntil - Date.now());
  return new AppError('FORBIDDEN', 'you are muted in this room', { reason: 'muted', until: new Date(mutedUntil).toISOString(), retryAfterMs });
}

/**
 * A retry of the send that holds the member's slow-mode turn passes (it returns the stored
 * message). A muted member is refused even for a retry of a message stored before the mute:
 * telling would take a lookup by idempotency key, a scan on the embedded database, per refusal.
 */
export function createSendGate(slowMode: SlowModeGate): SendGate {
  return async (state, roomId, userId, clientMsgId) => {
    if (state.mutedUntil !== null && state.mutedUntil > Date.now()) throw mutedError(state.mutedUntil);
    if (state.slowModeMs <= 0 || isModerator(state.role)) return null;
    return slowMode.take(roomId, userId, state.slowModeMs, clientMsgId);
  };
}

/** A send refused by a mute or slow mode: it did not happen, so it costs no rate-limit point. */
export function isModerationRefusal(err: unknown): boolean {
  if (!(err instanceof AppError)) return false;
  const d = err.details as { reason?: unknown; limit?: unknown } | undefined;
  return d?.reason === 'muted' || d?.limit === 'slow-mode';
}
