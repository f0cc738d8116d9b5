// Token lifetime on a live socket: `session:expired` then disconnect at `exp`.
import type { VerifiedToken } from '../domain/auth/token.service';
import type { AppSocket } from './types';

/**
 * Makes `token` the one the socket's session runs on (at the handshake and on auth:refresh):
 * its expiry applies, and revocation (session-revocation.ts) matches its jti and iat.
 */
export function holdToken(socket: AppSocket, token: VerifiedToken): void {
  socket.data.userId = token.userId;
  socket.data.exp = token.exp;
  if (token.iat === undefined) delete socket.data.iat;
  else socket.data.iat = token.iat;
  if (token.jti === undefined) delete socket.data.jti;
  else socket.data.jti = token.jti;
}

// setTimeout overflows past ~24.8 days; longer expiries are re-armed.
const MAX_TIMER_MS = 2 ** 31 - 1;
const timers = new WeakMap<AppSocket, NodeJS.Timeout>();

/** Arms (or re-arms) the expiry timer for socket.data.exp. */
export function scheduleExpiry(socket: AppSocket): void {
  clearTimeout(timers.get(socket));
  const ms = socket.data.exp * 1000 - Date.now();
  if (ms <= 0) {
    socket.emit('session:expired', {});
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
