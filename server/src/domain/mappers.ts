// Documents → wire DTOs: nothing from mongoose ever reaches a client.
import type { MemberDto, MessageDto, Role, RoomDto, UserDto } from '../contracts/dto';
import type { MembershipDoc, MessageDoc, RoomDoc, UserDoc } from '../data/models';

const iso = (d: Date | string | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

export function toUserDto(u: UserDoc): UserDto {
  const dto: UserDto = { id: u._id, username: u.username, displayName: u.displayName, createdAt: iso(u.createdAt)! };
  // Profile fields are optional in the contract: present only when set.
  if (u.avatarUrl) dto.avatarUrl = u.avatarUrl;
  if (u.statusText) dto.statusText = u.statusText;
  return dto;
}

export function toRoomDto(r: RoomDoc): RoomDto {
  return {
    id: r._id,
    type: r.type,
    name: r.name,
    createdBy: r.createdBy,
    createdAt: iso(r.createdAt)!,
    lastSeq: r.lastSeq,
    memberCount: r.memberCount,
  };
}

export function toMessageDto(m: MessageDoc): MessageDto {
  const reactions: Record<string, string[]> = {};
  for (const [emoji, users] of Object.entries(m.reactions ?? {})) {
    // defineProperty: an emoji named "__proto__" is a key like any other, not a prototype.
    if (Array.isArray(users) && users.length > 0) Object.defineProperty(reactions, emoji, { value: users, enumerable: true, writable: true, configurable: true });
  }
  const dto: MessageDto = {
    id: m._id,
    roomId: m.roomId,
    seq: m.seq,
    senderId: m.senderId,
    clientMsgId: m.clientMsgId,
    text: m.text,
    replyTo: m.replyTo ?? null,
    createdAt: iso(m.createdAt)!,
    editedAt: iso(m.editedAt),
    deletedAt: iso(m.deletedAt),
    reactions,
  };
  // Extensions (mentions, threads): present only when set, so other messages keep their shape.
  if (m.mentions && m.mentions.length > 0) dto.mentions = m.mentions;
  if (m.threadOf) dto.threadOf = m.threadOf;
  if (m.threadOf && m.alsoInRoom) dto.alsoInRoom = true;
  if (m.thread && m.thread.replyCount > 0) {
    dto.threadReplyCount = m.thread.replyCount;
    dto.threadLastReplyAt = iso(m.thread.lastReplyAt)!;
    dto.threadParticipants = m.thread.participants;
  }
  // Extension (attachments): present only when the message has any.
  if (Array.isArray(m.attachments) && m.attachments.length > 0) dto.attachments = m.attachments.map((a) => ({ ...a }));
  return dto;
}

/** `positions`: read and delivered seqs with the exact marks applied (domain/messages/delivery.service.ts). */
export function toMemberDto(m: MembershipDoc, online: boolean, positions: Pick<MemberDto, 'lastReadSeq' | 'lastDeliveredSeq'>): MemberDto {
  return { userId: m.userId, role: m.role as Role, joinedAt: iso(m.joinedAt)!, online, lastReadSeq: positions.lastReadSeq, lastDeliveredSeq: positions.lastDeliveredSeq };
}
