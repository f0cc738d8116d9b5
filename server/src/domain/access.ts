// Authorization in one place: who may see and act in a room.
import type { Role } from '../contracts/dto';
import type { MembershipDoc, RoomDoc } from '../data/models';
import type { Repositories } from '../data/repositories';
import { errors } from '../errors';
import type { MembershipCache } from './membership-cache';

export interface MemberContext {
  room: RoomDoc;
  membership: MembershipDoc;
}

export const isModerator = (role: string): boolean => role === 'owner' || role === 'admin';

export function createAccess(repos: Repositories, cache: MembershipCache) {
  return {
    cache,

    /**
     * The caller's role in a room, from the per-node cache when fresh: for hot paths (send,
     * typing) that need only "is a member". NOT_FOUND / FORBIDDEN as member().
     */
    async memberRole(roomId: string, userId: string): Promise<Role> {
      const cached = cache.get(roomId, userId);
      if (cached) return cached;
      return (await this.member(roomId, userId)).membership.role;
    },

    async room(roomId: string): Promise<RoomDoc> {
      const room = await repos.rooms.findById(roomId);
      if (!room) throw errors.notFound('room');
      return room;
    },

    /** The room and the caller's membership; NOT_FOUND for no room, FORBIDDEN for a non-member. */
    async member(roomId: string, userId: string): Promise<MemberContext> {
      const [room, membership] = await Promise.all([repos.rooms.findById(roomId), repos.memberships.get(roomId, userId)]);
      if (!room) throw errors.notFound('room');
      if (!membership) throw errors.forbidden('not a member of this room');
      cache.set(roomId, userId, membership.role);
      return { room, membership };
    },

    /** As member(), and the caller's role must be one of `roles`. */
    async withRole(roomId: string, userId: string, roles: Role[]): Promise<MemberContext> {
      const ctx = await this.member(roomId, userId);
      if (!roles.includes(ctx.membership.role)) throw errors.forbidden(`requires role ${roles.join(' or ')}`);
      return ctx;
    },
  };
}
export type Access = ReturnType<typeof createAccess>;
