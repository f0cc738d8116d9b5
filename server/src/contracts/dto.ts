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
