// Authorization in one place: who may see and act in a room.
import type { Role } from '../contracts/dto';
import type { MembershipDoc, RoomDoc } from '../data/models';
import type { Repositories } from '../data/repositories';
import type { RoomCounters } from '../data/room-counters';
import { errors } from '../errors';
import type { MembershipCache, MemberState } from './membership-cache';

/** What a send checks: the member's role and mute, and the room's slow mode. */
export interface SendState extends MemberState {
  slowModeMs: number;
}

/** A mute or ban whose `until` has passed is no mute or ban: expiry needs no TTL index. */
export const activeUntil = (until: Date | null | undefined, now = Date.now()): Date | null => (until && until.getTime() > now ? until : null);

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
        cache.set(roomId, userId, membership.role, activeUntil(membership.mutedUntil));
        return membership.role;
      }
      if (!(await repos.rooms.findById(roomId))) throw errors.notFound('room');
      throw errors.forbidden('not a member of this room');
    },

    /**
     * memberRole() plus the member's mute and the room's slow mode, for the send path: cache
     * hits, else the membership and the room by `_id` (read together, only what is missing).
     */
    async sendState(roomId: string, userId: string): Promise<SendState> {
      let member = cache.member(roomId, userId);
      let slowModeMs = cache.slowMode(roomId);
      if (member && slowModeMs !== null) return { ...member, slowModeMs };
      const needRoom = slowModeMs === null;
      const [membership, room] = await Promise.all([member ? null : repos.memberships.get(roomId, userId), needRoom ? repos.rooms.findById(roomId) : null]);
      if (!member) {
        if (!membership) {
          // The room is read only to tell NOT_FOUND from FORBIDDEN (as memberRole).
          if (!(room ?? (needRoom ? null : await repos.rooms.findById(roomId)))) throw errors.notFound('room');
          throw errors.forbidden('not a member of this room');
        }
        const mutedUntil = activeUntil(membership.mutedUntil);
        cache.set(roomId, userId, membership.role, mutedUntil);
        member = { role: membership.role, mutedUntil: mutedUntil?.getTime() ?? null };
      }
      if (slowModeMs === null) {
        slowModeMs = (room?.slowModeSeconds ?? 0) * 1000;
        cache.setSlowMode(roomId, slowModeMs);
      }
      return { ...member, slowModeMs };
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
      cache.set(roomId, userId, membership.role, activeUntil(membership.mutedUntil));
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
