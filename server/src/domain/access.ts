// Authorization in one place: who may see and act in a room.
import type { Role } from '../contracts/dto';
import type { MembershipDoc, RoomDoc } from '../data/models';
import type { Repositories } from '../data/repositories';
import type { RoomCounters } from '../data/room-counters';
import { errors } from '../errors';
import type { MembershipCache } from './membership-cache';

export interface MemberContext {
  room: RoomDoc;
  membership: MembershipDoc;
}

export const isModerator = (role: string): boolean => role === 'owner' || role === 'admin';

/**
 * Room documents hold lagging checkpoints of lastSeq/lastActivityAt and memberships of the
 * read mark made by sending; every read here returns them exact (see data/room-counters.ts).
 */
export function createAccess(repos: Repositories, cache: MembershipCache, counters: RoomCounters) {
  return {
    cache,
    counters,

    /**
     * The caller's role in a room, from the per-node cache when fresh: for hot paths (send,
     * typing) that need only "is a member". NOT_FOUND / FORBIDDEN as member().
     */
    async memberRole(roomId: string, userId: string): Promise<Role> {
      const cached = cache.get(roomId, userId);
      if (cached) return cached;
      // One _id lookup: a membership implies its room; the room is read only to tell
      // NOT_FOUND from FORBIDDEN.
      const membership = await repos.memberships.get(roomId, userId);
      if (membership) {
        cache.set(roomId, userId, membership.role);
        return membership.role;
      }
      if (!(await repos.rooms.findById(roomId))) throw errors.notFound('room');
      throw errors.forbidden('not a member of this room');
    },

    async room(roomId: string): Promise<RoomDoc> {
      const room = await repos.rooms.findById(roomId);
      if (!room) throw errors.notFound('room');
      return (await counters.overlayRooms([room]))[0];
    },

    /** The room and the caller's membership; NOT_FOUND for no room, FORBIDDEN for a non-member. */
    async member(roomId: string, userId: string): Promise<MemberContext> {
      const [room, membership] = await Promise.all([repos.rooms.findById(roomId), repos.memberships.get(roomId, userId)]);
      if (!room) throw errors.notFound('room');
      if (!membership) throw errors.forbidden('not a member of this room');
      cache.set(roomId, userId, membership.role);
      const [exactRoom] = await counters.overlayRooms([room]);
      const [exactMembership] = await counters.overlayMemberships(userId, [membership], [exactRoom]);
      return { room: exactRoom, membership: exactMembership };
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
