// The objects of the client contract (../shared/PROTOCOL.md "Objects"): what goes on the wire.
export interface UserDto {
  id: string;
  username: string;
  displayName: string;
  createdAt: string;
  /** Extension (profiles): an https URL of the user's picture; absent when none is set. */
  avatarUrl?: string;
  /** Extension (profiles): a short status line; absent when none is set. */
  statusText?: string;
}

/** Extension (profiles): what `PATCH /users/me` and `user:update` change; `null` clears a field. */
export interface ProfilePatch {
  displayName?: string;
  avatarUrl?: string | null;
  statusText?: string | null;
}

export type RoomType = 'public' | 'private' | 'direct';
export type Role = 'owner' | 'admin' | 'member';

export interface RoomDto {
  id: string;
  type: RoomType;
  name: string;
  createdBy: string;
  createdAt: string;
  lastSeq: number;
  memberCount: number;
}

export interface RoomSummaryDto extends RoomDto {
  role: Role;
  lastReadSeq: number;
  unreadCount: number;
  lastMessage: MessageDto | null;
}

export interface MessageDto {
  id: string;
  roomId: string;
  seq: number;
  senderId: string;
  clientMsgId: string;
  text: string;
  replyTo: string | null;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  reactions: Record<string, string[]>;
}

export interface MemberDto {
  userId: string;
  role: Role;
  joinedAt: string;
  online: boolean;
}

export type PresenceStatus = 'online' | 'offline';

export interface PresenceDto {
  userId: string;
  status: PresenceStatus;
  lastSeenAt: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface HistoryPage {
  items: MessageDto[];
  hasMore: boolean;
}

/** Extension (moderation): what a room's audit log records. */
export type AuditAction = 'kick' | 'ban' | 'unban' | 'mute' | 'unmute' | 'role_change' | 'message_delete' | 'slow_mode' | 'flag_resolve';

/** Extension (moderation): one moderation action, as owners/admins read it. */
export interface AuditEntryDto {
  id: string;
  roomId: string;
  actorId: string;
  action: AuditAction;
  targetUserId: string | null;
  messageId: string | null;
  reason: string | null;
  /** Per action: `until` (mute, ban), `role`, `seconds` (slow mode), `resolution` (flag_resolve). */
  details: Record<string, unknown>;
  at: string;
}

export type FlagResolution = 'dismiss' | 'delete' | 'mute' | 'ban';

/** Extension (moderation): the reports on one message, an item of the moderation queue. */
export interface FlagDto {
  messageId: string;
  roomId: string;
  senderId: string;
  status: 'open' | 'resolved';
  reportCount: number;
  /** The first reports (at most 20). */
  reports: Array<{ userId: string; reason: string; at: string }>;
  firstAt: string;
  lastAt: string;
  resolution: { action: FlagResolution; by: string; at: string; note: string | null } | null;
  /** The message as stored now (null if it was removed by retention). */
  message: MessageDto | null;
}
