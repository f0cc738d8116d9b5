// The request events with their payload and ack data types (the contract's
// "Client to server" table); the server validates the payloads with one schema each.
import type { AttachmentDto, AuditEntryDto, FlagDto, FlagResolution, HistoryPage, MemberDto, MessageDto, Page, PresenceDto, ProfilePatch, ReadState, RoomDto, RoomSummaryDto, UserDto } from './contract/dto';

export interface Requests {
  'room:create': { payload: { type: 'public' | 'private'; name: string; memberIds?: string[] }; data: RoomDto };
  'room:join': { payload: { roomId: string }; data: RoomDto };
  'room:leave': { payload: { roomId: string }; data: Record<string, never> };
  'room:invite': { payload: { roomId: string; userId: string }; data: Record<string, never> };
  'room:kick': { payload: { roomId: string; userId: string }; data: Record<string, never> };
  'room:set_role': { payload: { roomId: string; userId: string; role: 'admin' | 'member' }; data: Record<string, never> };
  'room:list': { payload: { cursor?: string; limit?: number }; data: Page<RoomSummaryDto> };
  'room:members': { payload: { roomId: string; cursor?: string; limit?: number }; data: Page<MemberDto> };
  'dm:open': { payload: { userId: string }; data: RoomDto };
  /** `threadOf` / `alsoInRoom`: extension (threads); `text` may be left out when `attachments` (extension) has at least one. */
  'message:send': { payload: { roomId: string; clientMsgId: string; text?: string; replyTo?: string; threadOf?: string; alsoInRoom?: boolean; attachments?: AttachmentDto[] }; data: MessageDto };
  'message:edit': { payload: { messageId: string; text: string }; data: MessageDto };
  'message:delete': { payload: { messageId: string }; data: Record<string, never> };
  'message:react': { payload: { messageId: string; emoji: string; add: boolean }; data: MessageDto };
  /** `excludeThreadReplies`: extension (threads); the answer then carries `resumeSeq`. */
  'message:history': { payload: { roomId: string; beforeSeq?: number; afterSeq?: number; limit?: number; excludeThreadReplies?: boolean }; data: HistoryPage };
  'message:read': { payload: { roomId: string; seq: number }; data: ReadState };
  /** Extension (threads): a page of one thread's replies; `messageId` is the parent's. */
  'thread:history': { payload: { messageId: string; beforeSeq?: number; afterSeq?: number; limit?: number }; data: HistoryPage };
  /** Extension (delivery receipts); ChatClient.markDelivered batches it. */
  'message:delivered': { payload: { roomId: string; seq: number }; data: { lastDeliveredSeq: number } };
  'presence:get': { payload: { userIds: string[] }; data: { items: PresenceDto[] } };
  'auth:refresh': { payload: { token: string }; data: { exp: number } };
  /** Extension (profiles). */
  'user:update': { payload: ProfilePatch; data: { user: UserDto } };
  'user:search': { payload: { prefix: string; cursor?: string; limit?: number }; data: Page<UserDto> };
  /** Extension (user blocks). */
  'user:block': { payload: { userId: string }; data: Record<string, never> };
  'user:unblock': { payload: { userId: string }; data: Record<string, never> };
  'user:list_blocks': { payload: Record<string, never>; data: { userIds: string[] } };
  /** Extension (moderation, docs/protocol.md "Moderation"). */
  'room:mute': { payload: { roomId: string; userId: string; durationSeconds: number; reason?: string }; data: { until: string } };
  'room:unmute': { payload: { roomId: string; userId: string; reason?: string }; data: Record<string, never> };
  'room:ban': { payload: { roomId: string; userId: string; durationSeconds?: number; reason?: string }; data: { until: string | null } };
  'room:unban': { payload: { roomId: string; userId: string; reason?: string }; data: Record<string, never> };
  'room:slow_mode': { payload: { roomId: string; seconds: number; reason?: string }; data: { seconds: number } };
  'room:audit': { payload: { roomId: string; cursor?: string; limit?: number }; data: Page<AuditEntryDto> };
  'room:flags': { payload: { roomId: string; cursor?: string; limit?: number }; data: Page<FlagDto> };
  'room:resolve_flag': { payload: { roomId: string; messageId: string; action: FlagResolution; durationSeconds?: number; note?: string }; data: FlagDto };
  'message:flag': { payload: { messageId: string; reason: string }; data: Record<string, never> };
}

export type RequestName = keyof Requests;
