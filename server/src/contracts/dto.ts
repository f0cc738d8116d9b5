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
}
