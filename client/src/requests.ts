// The request events with their payload and ack data types (the contract's
// "Client to server" table); the server validates the payloads with one schema each.
import type { AttachmentDto, HistoryPage, MemberDto, MessageDto, Page, PresenceDto, ProfilePatch, RoomDto, RoomSummaryDto, UserDto } from './contract/dto';

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
  /** `text` may be left out when `attachments` (extension) has at least one. */
  'message:send': { payload: { roomId: string; clientMsgId: string; text?: string; replyTo?: string; attachments?: AttachmentDto[] }; data: MessageDto };
  'message:edit': { payload: { messageId: string; text: string }; data: MessageDto };
  'message:delete': { payload: { messageId: string }; data: Record<string, never> };
  'message:react': { payload: { messageId: string; emoji: string; add: boolean }; data: MessageDto };
  'message:history': { payload: { roomId: string; beforeSeq?: number; afterSeq?: number; limit?: number }; data: HistoryPage };
  'message:read': { payload: { roomId: string; seq: number }; data: { lastReadSeq: number; unreadCount: number } };
  /** Extension (delivery receipts); ChatClient.markDelivered batches it. */
  'message:delivered': { payload: { roomId: string; seq: number }; data: { lastDeliveredSeq: number } };
  'presence:get': { payload: { userIds: string[] }; data: { items: PresenceDto[] } };
  'auth:refresh': { payload: { token: string }; data: { exp: number } };
  /** Extension (profiles). */
  'user:update': { payload: ProfilePatch; data: { user: UserDto } };
  'user:search': { payload: { prefix: string; cursor?: string; limit?: number }; data: Page<UserDto> };
}

export type RequestName = keyof Requests;
