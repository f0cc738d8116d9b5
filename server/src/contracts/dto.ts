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
  /** Extension (mentions): unread messages that mention the caller, counted like unreadCount. */
  unreadMentions: number;
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
  /** Extension (mentions): ids of the members mentioned as `@username` at send time; absent when none. */
  mentions?: string[];
  /** Extension (threads): the parent's id; present on thread replies only. */
  threadOf?: string;
  /** Extension (threads): `true` on a thread reply also shown in the room's timeline; absent otherwise. */
  alsoInRoom?: true;
  /** Extension (threads): on a parent with replies, their number; absent when it has none. */
  threadReplyCount?: number;
  /** Extension (threads): on a parent with replies, when the latest was sent. */
  threadLastReplyAt?: string;
  /** Extension (threads): on a parent with replies: its author, the repliers and the members mentioned in the thread. */
  threadParticipants?: string[];
  /** Extension (attachments): present only when the message has any (1–10); cleared by a delete. */
  attachments?: AttachmentDto[];
}

/** Extension (attachments): metadata of a file stored elsewhere; the server never fetches `url`. */
export type AttachmentType = 'image' | 'video' | 'audio' | 'file';

export interface AttachmentDto {
  type: AttachmentType;
  /** https only. */
  url: string;
  mime: string;
  /** Bytes. */
  size: number;
  name: string;
  /** image and video only. */
  width?: number;
  height?: number;
  /** video and audio only. */
  durationMs?: number;
  thumbUrl?: string;
}

export interface MemberDto {
  userId: string;
  role: Role;
  joinedAt: string;
  online: boolean;
  /** Extension (delivery receipts): the member's read position (as in RoomSummary). */
  lastReadSeq: number;
  /** Extension (delivery receipts): highest seq delivered to the member; never below lastReadSeq. */
  lastDeliveredSeq: number;
}

/** Extension (delivery receipts): one member's position in `delivery:updated`. */
export interface DeliveryPosition {
  userId: string;
  lastDeliveredSeq: number;
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
  /**
   * Extension (threads), only with `excludeThreadReplies`: where the next page in the same
   * direction starts (pass it as `beforeSeq`, or `afterSeq` for an afterSeq page).
   */
  resumeSeq?: number;
}

/** message:read's answer. */
export interface ReadState {
  lastReadSeq: number;
  unreadCount: number;
  /** Extension (mentions). */
  unreadMentions: number;
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
