// One schema per message event / body.
import { compile } from '../validate';
import type { AttachmentDto } from '../dto';
import { attachments, textOrAttachments } from './attachment.schemas';
import { clientMsgId, emoji, id, limit, object, seq, text } from './common';

export const messageSend = compile<{ roomId: string; clientMsgId: string; text?: string; replyTo?: string; attachments?: AttachmentDto[] }>({
  ...object({ roomId: id, clientMsgId, text, replyTo: id, attachments }, ['roomId', 'clientMsgId']),
  ...textOrAttachments,
});
/** REST POST /rooms/:roomId/messages: the room comes from the path. */
export const messageSendBody = compile<{ clientMsgId: string; text?: string; replyTo?: string; attachments?: AttachmentDto[] }>({
  ...object({ clientMsgId, text, replyTo: id, attachments }, ['clientMsgId']),
  ...textOrAttachments,
});
export const messageEdit = compile<{ messageId: string; text: string }>(object({ messageId: id, text }, ['messageId', 'text']));
export const messageDelete = compile<{ messageId: string }>(object({ messageId: id }, ['messageId']));
export const messageReact = compile<{ messageId: string; emoji: string; add: boolean }>(
  object({ messageId: id, emoji, add: { type: 'boolean' } }, ['messageId', 'emoji', 'add']),
);
export const messageHistory = compile<{ roomId: string; beforeSeq?: number; afterSeq?: number; limit?: number }>(
  object({ roomId: id, beforeSeq: seq, afterSeq: seq, limit }, ['roomId']),
);
/** REST GET /rooms/:roomId/messages query (integers parsed from the query string first). */
export const messageHistoryQuery = compile<{ beforeSeq?: number; afterSeq?: number; limit?: number }>(
  object({ beforeSeq: seq, afterSeq: seq, limit }),
);
export const messageRead = compile<{ roomId: string; seq: number }>(object({ roomId: id, seq }, ['roomId', 'seq']));
/** Extension (delivery receipts): message:delivered, and REST POST /rooms/:roomId/delivered without the roomId. */
export const messageDelivered = compile<{ roomId: string; seq: number }>(object({ roomId: id, seq }, ['roomId', 'seq']));
export const messageDeliveredBody = compile<{ seq: number }>(object({ seq }, ['seq']));
