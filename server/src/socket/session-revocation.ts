// Applies revocations to live sockets: a socket whose token is revoked (on any node) gets
// `session:expired` and is disconnected, as at its token's expiry. A socket is matched by
// the token its session runs on now (socket.data, see session.ts): the handshake's, or the
// one it moved to with auth:refresh. A token it refreshed away from no longer matches it.
import type { Revocation, RevocationEntry } from '../data/revocation.store';
import type { Logger } from '../logger';
import { emitSessionExpired } from './emitter';
import { userChannel } from './room-names';
import type { AppServer, AppSocket } from './types';

export interface SessionRevoker {
  /** Runs once the socket is connected: a revocation that landed during the handshake applies. */
  afterConnect(socket: AppSocket): void;
}

/** True if `entry` revokes the token the socket holds now. */
function revokes(entry: RevocationEntry, socket: AppSocket): boolean {
  const { data } = socket;
  if (entry.kind === 'suspend') return data.userId === entry.userId;
  if (entry.kind === 'lift') return false;
  if (entry.kind === 'user') return data.userId === entry.userId && (data.iat === undefined || data.iat <= entry.at);
  return data.jti === entry.jti;
}

export function createSessionRevoker(io: AppServer, revocation: Revocation, log: Logger): SessionRevoker {

  const expire = (socket: AppSocket, reason: string) => {
    if (!socket.connected) return;
    log.info({ socketId: socket.id, userId: socket.data.userId, reason }, 'session revoked; disconnecting');
    emitSessionExpired(socket);
    socket.disconnect(true);
  };

  /** This node's connected sockets of a user (a socket joins its user channel in the handshake). */
  function socketsOf(userId: string): AppSocket[] {
    const nsp = io.of('/');
    return [...(nsp.adapter.rooms.get(userChannel(userId)) ?? [])].flatMap((id) => nsp.sockets.get(id) ?? []);
  }

  revocation.onRevoked((entry) => {
    // A token entry from a node predating entry.userId: every socket of this node is looked at.
    const candidates = entry.userId !== undefined ? socketsOf(entry.userId) : [...io.of('/').sockets.values()];
    for (const socket of candidates) if (revokes(entry, socket)) expire(socket, entry.kind);
  });

  return {
    afterConnect(socket) {
      if (revocation.isRevoked({ userId: socket.data.userId, iat: socket.data.iat, jti: socket.data.jti })) expire(socket, 'revoked during handshake');
    },
  };
}
