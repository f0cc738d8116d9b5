// One schema per room event / body.
import { compile } from '../validate';
import { cursor, id, limit, name, object } from './common';

export const roomCreate = compile<{ type: 'public' | 'private'; name: string; memberIds?: string[] }>(
  object(
    {
      type: { enum: ['public', 'private'] },
      name,
      memberIds: { type: 'array', items: id, maxItems: 100, uniqueItems: true },
    },
    ['type', 'name'],
  ),
);
export const roomRef = compile<{ roomId: string }>(object({ roomId: id }, ['roomId']));
export const roomJoin = roomRef;
export const roomLeave = roomRef;
export const roomInvite = compile<{ roomId: string; userId: string }>(object({ roomId: id, userId: id }, ['roomId', 'userId']));
export const roomKick = roomInvite;
export const roomSetRole = compile<{ roomId: string; userId: string; role: 'admin' | 'member' }>(
  object({ roomId: id, userId: id, role: { enum: ['admin', 'member'] } }, ['roomId', 'userId', 'role']),
);
export const roomList = compile<{ cursor?: string; limit?: number }>(object({ cursor, limit }));
export const roomMembers = compile<{ roomId: string; cursor?: string; limit?: number }>(object({ roomId: id, cursor, limit }, ['roomId']));
export const dmOpen = compile<{ userId: string }>(object({ userId: id }, ['userId']));
