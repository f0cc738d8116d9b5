// Token lifetime on a live socket: `session:expired` then disconnect at `exp`.
import { emitSessionExpired } from './emitter';
import type { AppSocket } from './types';

// setTimeout overflows past ~24.8 days; longer expiries are re-armed.
const MAX_TIMER_MS = 2 ** 31 - 1;
const timers = new WeakMap<AppSocket, NodeJS.Timeout>();

/** Arms (or re-arms) the expiry timer for socket.data.exp. */
export function scheduleExpiry(socket: AppSocket): void {
  clearTimeout(timers.get(socket));
  const ms = socket.data.exp * 1000 - Date.now();
  if (ms <= 0) {
    emitSessionExpired(socket);
    socket.disconnect(true);
    return;
  }
  const timer = setTimeout(() => scheduleExpiry(socket), Math.min(ms, MAX_TIMER_MS));
  timer.unref();
  timers.set(socket, timer);
}

export function clearExpiry(socket: AppSocket): void {
  clearTimeout(timers.get(socket));
  timers.delete(socket);
}
