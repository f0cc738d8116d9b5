// presence:get and typing:start/stop (typing acks are optional).
import { presenceGet, typingEvent } from '../../contracts/schemas/misc.schemas';
import type { Services } from '../../domain/services';
import { defineHandler } from '../define-handler';

export function presenceHandlers({ presence, typing }: Services) {
  return [
    defineHandler('presence:get', presenceGet, async (_ctx, p) => ({ items: await presence.get(p.userIds) })),
    defineHandler('typing:start', typingEvent, (ctx, p) => typing.start(ctx.userId, p.roomId), { ackOptional: true }),
    defineHandler('typing:stop', typingEvent, (ctx, p) => typing.stop(ctx.userId, p.roomId), { ackOptional: true }),
  ];
}
