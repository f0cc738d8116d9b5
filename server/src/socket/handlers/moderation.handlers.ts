// Room moderation events (mutes, bans, slow mode, audit log, flags): validate, call the service, ack.
import * as s from '../../contracts/schemas/moderation.schemas';
import type { Services } from '../../domain/services';
import { defineHandler } from '../define-handler';

export function moderationHandlers({ moderation, flags }: Services) {
  return [
    defineHandler('room:mute', s.roomMute, (ctx, p) => moderation.mute(ctx.userId, p)),
    defineHandler('room:unmute', s.roomUnmute, (ctx, p) => moderation.unmute(ctx.userId, p)),
    defineHandler('room:ban', s.roomBan, (ctx, p) => moderation.ban(ctx.userId, p)),
    defineHandler('room:unban', s.roomUnban, (ctx, p) => moderation.unban(ctx.userId, p)),
    defineHandler('room:slow_mode', s.roomSlowMode, (ctx, p) => moderation.slowMode(ctx.userId, p)),
    defineHandler('room:audit', s.roomAudit, (ctx, p) => moderation.auditLog(ctx.userId, p)),
    defineHandler('message:flag', s.messageFlag, (ctx, p) => flags.flag(ctx.userId, p)),
    defineHandler('room:flags', s.roomFlags, (ctx, p) => flags.open(ctx.userId, p)),
    defineHandler('room:resolve_flag', s.flagResolve, (ctx, p) => flags.resolve(ctx.userId, p)),
  ];
}
