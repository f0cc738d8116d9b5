// Applies revocations to live sockets: a socket whose token is revoked (on any node) gets
// `session:expired` and is disconnected, as at its token's expiry. A socket is matched by
// the token it connected with.
import jwt from 'jsonwebtoken';
import type { ExtendedError } from 'socket.io';
import type { Revocation, RevocationEntry } from '../data/revocation.store';
import type { Logger } from '../logger';
import { emitSessionExpired } from './emitter';
import { userChannel } from './room-names';
import type { AppServer, AppSocket } from './types';

interface TokenInfo {
  userId: string;
  iat?: number;
  jti?: string;
}

function handshakeToken(socket: AppSocket): string | null {
  const auth = socket.handshake.auth as Record<string, unknown> | undefined;
  if (auth && typeof auth.token === 'string') return auth.token;
  const header = socket.handshake.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header) : null;
  return match ? match[1] : null;
}

export interface SessionRevoker {
  /** Handshake middleware, after authentication: remembers which token the socket used. */
  middleware(socket: AppSocket, next: (err?: ExtendedError) => void): void;
  /** Runs once the socket is connected: a revocation that landed during the handshake applies. */
  afterConnect(socket: AppSocket): void;
  attach(io: AppServer): void;
}

export function createSessionRevoker(revocation: Revocation, log: Logger): SessionRevoker {
  const info = new WeakMap<AppSocket, TokenInfo>();
  const byJti = new Map<string, Set<AppSocket>>();
  let io: AppServer | null = null;

  const expire = (socket: AppSocket, reason: string) => {
    if (!socket.connected) return;
    log.info({ socketId: socket.id, userId: socket.data.userId, reason }, 'session revoked; disconnecting');
    emitSessionExpired(socket);
    socket.disconnect(true);
  };

  function onRevoked(entry: RevocationEntry): void {
    if (!io) return;
    const nsp = io.of('/');
    if (entry.kind === 'user') {
      const ids = nsp.adapter.rooms.get(userChannel(entry.userId));
      for (const id of [...(ids ?? [])]) {
        const socket = nsp.sockets.get(id);
        const t = socket && info.get(socket);
        if (socket && (!t || t.iat === undefined || t.iat <= entry.at)) expire(socket, 'user');
      }
    } else {
      for (const socket of [...(byJti.get(entry.jti) ?? [])]) expire(socket, 'token');
    }
  }
  revocation.onRevoked(onRevoked);

  function forget(socket: AppSocket): void {
    const jti = info.get(socket)?.jti;
    if (!jti) return;
    const set = byJti.get(jti);
    set?.delete(socket);
    if (set?.size === 0) byJti.delete(jti);
  }
  // Shared listeners (`this` = the socket): nothing per socket beyond the registration.
  function forgetOnDisconnect(this: AppSocket): void {
    forget(this);
  }
  const sockets = new WeakMap<object, AppSocket>();
  function forgetOnClose(this: object): void {
    const socket = sockets.get(this);
    if (socket) forget(socket);
  }

  return {
    middleware(socket, next) {
      const token = handshakeToken(socket);
      const claims = token ? jwt.decode(token, { json: true }) : null;
      const t: TokenInfo = {
        userId: socket.data.userId,
        ...(typeof claims?.iat === 'number' ? { iat: claims.iat } : {}),
        ...(typeof claims?.jti === 'string' ? { jti: claims.jti } : {}),
      };
      info.set(socket, t);
      if (t.jti) {
        const set = byJti.get(t.jti) ?? new Set<AppSocket>();
        set.add(socket);
        byJti.set(t.jti, set);
        sockets.set(socket.conn, socket);
        socket.conn.on('close', forgetOnClose);
      }
      next();
    },
    afterConnect(socket) {
      if (info.get(socket)?.jti) socket.on('disconnect', forgetOnDisconnect);
      const t = info.get(socket);
      if (t && revocation.isRevoked(t)) expire(socket, 'revoked during handshake');
    },
    attach(server) {
      io = server;
    },
  };
}
