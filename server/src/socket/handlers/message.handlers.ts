// message:*: validate, call the message service, ack.
import * as s from '../../contracts/schemas/message.schemas';
import type { Services } from '../../domain/services';
import { defineHandler } from '../define-handler';

export function messageHandlers({ messages, delivery }: Services) {
  return [
    defineHandler('message:send', s.messageSend, (ctx, p) => messages.send(ctx.userId, p)),
    defineHandler('message:edit', s.messageEdit, (ctx, p) => messages.edit(ctx.userId, p)),
    defineHandler('message:delete', s.messageDelete, (ctx, p) => messages.delete(ctx.userId, p)),
    defineHandler('message:react', s.messageReact, (ctx, p) => messages.react(ctx.userId, p)),
    defineHandler('message:history', s.messageHistory, (ctx, p) => messages.history(ctx.userId, p)),
    defineHandler('message:read', s.messageRead, (ctx, p) => messages.markRead(ctx.userId, p)),
    defineHandler('thread:history', s.threadHistory, (ctx, p) => messages.threadHistory(ctx.userId, p)),
    // Extension (delivery receipts).
    defineHandler('message:delivered', s.messageDelivered, (ctx, p) => delivery.markDelivered(ctx.userId, p)),
  ];
}
