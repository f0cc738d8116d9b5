// Authenticates the handshake in io.use, before any event can arrive.
import type { ExtendedError } from 'socket.io';
import type { TokenService } from '../domain/auth/token.service';
import { AppError } from '../errors';
import { holdToken } from './session';
import type { AppSocket } from './types';

/** The handshake error shape of the contract: message "UNAUTHORIZED", data { code, message }. */
export function handshakeError(code: string, message: string): ExtendedError {
  const err = new Error(code) as ExtendedError;
  err.data = { code, message };
  return err;
}

function tokenFrom(socket: AppSocket): unknown {
  const auth = socket.handshake.auth as Record<string, unknown> | undefined;
  if (auth && auth.token !== undefined) return auth.token;
  const header = socket.handshake.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header) : null;
  return match ? match[1] : undefined;
}

export function authMiddleware(tokens: TokenService) {
  return (socket: AppSocket, next: (err?: ExtendedError) => void) => {
    try {
      holdToken(socket, tokens.verify(tokenFrom(socket)));
      next();
    } catch (err) {
      const message = err instanceof AppError ? err.message : 'invalid token';
      next(handshakeError('UNAUTHORIZED', message));
    }
  };
}
