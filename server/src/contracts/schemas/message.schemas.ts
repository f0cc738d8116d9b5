// One schema per message event / body.
import { compile } from '../validate';
import type { AttachmentDto } from '../dto';
import { attachments, textOrAttachments } from './attachment.schemas';
import { clientMsgId, emoji, id, limit, object, seq, text } from './common';

// Extension (threads): `threadOf` makes the send a thread reply; `alsoInRoom` (with threadOf
// only) shows it in the room's timeline too.
const threadFields = { threadOf: id, alsoInRoom: { type: 'boolean' } };
// if/then rather than dependentRequired: understood by ajv's default draft and by OpenAPI 3.1 alike.
const alsoInRoomNeedsThread = { if: { properties: { alsoInRoom: true }, required: ['alsoInRoom'] }, then: { properties: { threadOf: true }, required: ['threadOf'] } };
// Extension (attachments): `text` may be left out when there is at least one attachment.
export const messageSend = compile<{ roomId: string; clientMsgId: string; text?: string; replyTo?: string; threadOf?: string; alsoInRoom?: boolean; attachments?: AttachmentDto[] }>({
  ...object({ roomId: id, clientMsgId, text, replyTo: id, ...threadFields, attachments }, ['roomId', 'clientMsgId']),
  ...textOrAttachments,
  ...alsoInRoomNeedsThread,
});
/** REST POST /rooms/:roomId/messages: the room comes from the path. */
export const messageSendBody = compile<{ clientMsgId: string; text?: string; replyTo?: string; threadOf?: string; alsoInRoom?: boolean; attachments?: AttachmentDto[] }>({
  ...object({ clientMsgId, text, replyTo: id, ...threadFields, attachments }, ['clientMsgId']),
  ...textOrAttachments,
  ...alsoInRoomNeedsThread,
});
export const messageEdit = compile<{ messageId: string; text: string }>(object({ messageId: id, text }, ['messageId', 'text']));
export const messageDelete = compile<{ messageId: string }>(object({ messageId: id }, ['messageId']));
export const messageReact = compile<{ messageId: string; emoji: string; add: boolean }>(
  object({ messageId: id, emoji, add: { type: 'boolean' } }, ['messageId', 'emoji', 'add']),
);
/** Extension (threads): leave out thread replies that are not also shown in the room. */
const excludeThreadReplies = { type: 'boolean' };
export const messageHistory = compile<{ roomId: string; beforeSeq?: number; afterSeq?: number; limit?: number; excludeThreadReplies?: boolean }>(
  object({ roomId: id, beforeSeq: seq, afterSeq: seq, limit, excludeThreadReplies }, ['roomId']),
);
/** REST GET /rooms/:roomId/messages query (integers and booleans parsed from the query string first). */
export const messageHistoryQuery = compile<{ beforeSeq?: number; afterSeq?: number; limit?: number; excludeThreadReplies?: boolean }>(
  object({ beforeSeq: seq, afterSeq: seq, limit, excludeThreadReplies }),
);
/** Extension (threads): thread:history, a page of one thread's replies (messageId: the parent). */
export const threadHistory = compile<{ messageId: string; beforeSeq?: number; afterSeq?: number; limit?: number }>(
  object({ messageId: id, beforeSeq: seq, afterSeq: seq, limit }, ['messageId']),
);
/** REST path parameter of /messages/:messageId/... */
export const messageRef = compile<{ messageId: string }>(object({ messageId: id }, ['messageId']));
/** REST GET /messages/:messageId/thread query. */
export const threadHistoryQuery = compile<{ beforeSeq?: number; afterSeq?: number; limit?: number }>(object({ beforeSeq: seq, afterSeq: seq, limit }));
export const messageRead = compile<{ roomId: string; seq: number }>(object({ roomId: id, seq }, ['roomId', 'seq']));
/** Extension (delivery receipts): message:delivered, and REST POST /rooms/:roomId/delivered without the roomId. */
export const messageDelivered = compile<{ roomId: string; seq: number }>(object({ roomId: id, seq }, ['roomId', 'seq']));
export const messageDeliveredBody = compile<{ seq: number }>(object({ seq }, ['seq']));
