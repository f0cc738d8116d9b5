// Event maps for the typed Socket.IO server: emit/on are checked against them.
// Payloads from clients are `unknown` on purpose: types do not replace validation.
import type { AckCallback } from './ack';
import type { DeliveryPosition, MessageDto, PresenceStatus, UserDto } from './dto';

export type ClientCommand =
  | 'room:create'
  | 'room:join'
  | 'room:leave'
  | 'room:invite'
  | 'room:kick'
  | 'room:set_role'
  | 'room:mute'
  | 'room:unmute'
  | 'room:ban'
  | 'room:unban'
  | 'room:slow_mode'
  | 'room:audit'
  | 'room:flags'
  | 'room:resolve_flag'
  | 'message:flag'
  | 'room:list'
  | 'room:members'
  | 'dm:open'
  | 'message:send'
  | 'message:edit'
  | 'message:delete'
  | 'message:react'
  | 'message:history'
  | 'message:read'
  | 'thread:history'
  | 'message:delivered'
  | 'presence:get'
  | 'user:update'
  | 'user:search'
  | 'user:block'
  | 'user:unblock'
  | 'user:list_blocks'
  | 'auth:refresh'
  | 'typing:start'
  | 'typing:stop';

export type ClientToServerEvents = {
  [E in ClientCommand]: (payload: unknown, ack?: AckCallback) => void;
};

export interface ServerToClientEvents {
  'message:new': (message: MessageDto) => void;
  'message:updated': (message: MessageDto) => void;
  'room:member_joined': (p: { roomId: string; userId: string }) => void;
  'room:member_left': (p: { roomId: string; userId: string }) => void;
  /** Extension: you were invited to a private room; `room:join` it to become a member. */
  'room:invited': (p: { roomId: string; by: string }) => void;
  typing: (p: { roomId: string; userId: string; typing: boolean }) => void;
  'read:updated': (p: { roomId: string; userId: string; lastReadSeq: number }) => void;
  /** Extension (delivery receipts): members' delivered positions that moved, at most one event per room per interval. */
  'delivery:updated': (p: { roomId: string; items: DeliveryPosition[] }) => void;
  'presence:updated': (p: { userId: string; status: PresenceStatus; lastSeenAt: string | null }) => void;
  'session:expired': (p: Record<string, never>) => void;
  /** Extension (profiles): a user's profile changed; to everyone sharing a room with it and its own sockets. */
  'user:updated': (user: UserDto) => void;
  /** Extension: this node is shutting down; reconnect (the load balancer sends you elsewhere). */
  'server:draining': (p: { reconnectInMs: number }) => void;
}

/** Node-to-node requests over the adapter (serverSideEmit). */
export interface InterServerEvents {
  /** A message stored on one node, for the others' in-order local delivery. */
  'message:fanout': (message: MessageDto) => void;
  /** A membership changed: drop it from the per-node membership cache. */
  'membership:forget': (roomId: string, userId: string) => void;
  /** A user's rooms changed: drop the user's entry from the per-node room-list cache. */
  'user-rooms:forget': (userId: string) => void;
  /** A user's block lists changed: drop the user's entry from the per-node block cache. */
  'blocks:forget': (userId: string) => void;
  /** A message was edited, deleted or reacted to: update the newest-page cache (`v` orders updates). */
  'history:updated': (message: MessageDto, v: number) => void;
}

export interface SocketData {
  userId: string;
  /** Token expiry, unix seconds. */
  exp: number;
  /**
   * The token the session runs on now (the handshake's, or the last auth:refresh's): its
   * issue time (unix seconds) and id, which revocation matches.
   */
  iat?: number;
  jti?: string;
  requestIdPrefix: string;
}
