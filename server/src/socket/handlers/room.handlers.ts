// room:* and dm:open: validate, call the room service, ack.
import * as s from '../../contracts/schemas/room.schemas';
import type { Services } from '../../domain/services';
import { defineHandler } from '../define-handler';

export function roomHandlers({ rooms }: Services) {
  return [
    defineHandler('room:create', s.roomCreate, (ctx, p) => rooms.create(ctx.userId, p)),
    defineHandler('room:join', s.roomJoin, (ctx, p) => rooms.join(ctx.userId, p.roomId)),
    defineHandler('room:leave', s.roomLeave, (ctx, p) => rooms.leave(ctx.userId, p.roomId)),
    defineHandler('room:invite', s.roomInvite, (ctx, p) => rooms.invite(ctx.userId, p.roomId, p.userId)),
    defineHandler('room:kick', s.roomKick, (ctx, p) => rooms.kick(ctx.userId, p.roomId, p.userId)),
    defineHandler('room:set_role', s.roomSetRole, (ctx, p) => rooms.setRole(ctx.userId, p.roomId, p.userId, p.role)),
    defineHandler('room:list', s.roomList, (ctx, p) => rooms.list(ctx.userId, p)),
    defineHandler('room:members', s.roomMembers, (ctx, p) => rooms.members(ctx.userId, p)),
    defineHandler('dm:open', s.dmOpen, (ctx, p) => rooms.openDirect(ctx.userId, p.userId)),
  ];
}
