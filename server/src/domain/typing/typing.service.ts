// Typing indicators: throttled, auto-stopped, never stored. One user's starts and stops in
// one room are handled one after the other, in the order they arrive: each awaits a
// membership check of its own, and a stop must never finish before the start sent before it.
import type { Access } from '../access';
import { KeyedLock } from '../../lib/keyed-lock';
import type { Notifier } from '../notifier';

export interface TypingOptions {
  autoStopMs: number;
  throttleMs: number;
}

/** `warm` loads the typist's blockers into this node's cache before an announcement (see users/blocks.ts). */
export function createTypingService(access: Access, notifier: Notifier, opts: TypingOptions, warm: (userId: string) => Promise<void> = async () => {}) {
  const active = new Map<string, { lastSentAt: number; timer: NodeJS.Timeout }>();
  const key = (roomId: string, userId: string) => `${roomId}\u0000${userId}`;
  const order = new KeyedLock();

  function stopNow(roomId: string, userId: string): void {
    const k = key(roomId, userId);
    const state = active.get(k);
    if (!state) return;
    clearTimeout(state.timer);
    active.delete(k);
    notifier.typing(roomId, userId, false);
  }

  return {
    start(userId: string, roomId: string): Promise<Record<string, never>> {
      return order.run(key(roomId, userId), async () => {
        await access.memberRole(roomId, userId);
        await warm(userId);
        const k = key(roomId, userId);
        const now = Date.now();
        const state = active.get(k);
        if (state) clearTimeout(state.timer);
        const timer = setTimeout(() => stopNow(roomId, userId), opts.autoStopMs);
        timer.unref();
        // Repeated starts within the throttle window only extend the auto-stop.
        if (!state || now - state.lastSentAt >= opts.throttleMs) {
          active.set(k, { lastSentAt: now, timer });
          notifier.typing(roomId, userId, true);
        } else {
          active.set(k, { lastSentAt: state.lastSentAt, timer });
        }
        return {};
      });
    },

    stop(userId: string, roomId: string): Promise<Record<string, never>> {
      return order.run(key(roomId, userId), async () => {
        await access.memberRole(roomId, userId);
        stopNow(roomId, userId);
        return {};
      });
    },

    close(): void {
      for (const s of active.values()) clearTimeout(s.timer);
      active.clear();
    },
  };
}
export type TypingService = ReturnType<typeof createTypingService>;
