// Room moderation by owners/admins: timed mutes, slow mode, lifting bans, the audit log.
// (Bans and kicks remove a member, so they live with membership in rooms/room.service.ts.)
import type { AuditEntryDto, Page } from '../../contracts/dto';
import type { Repositories } from '../../data/repositories';
import type { DocLock } from '../../data/doc-lock';
import { lockKeys } from '../../data/lock-keys';
import { errors } from '../../errors';
import { activeUntil, type Access } from '../access';
import type { RoomService } from '../rooms/room.service';
import type { AuditLog } from './audit-log';

export interface ModerationServiceDeps {
  repos: Repositories;
  access: Access;
  docLock: DocLock;
  audit: AuditLog;
  rooms: RoomService;
}

export function createModerationService({ repos, access, docLock, audit, rooms }: ModerationServiceDeps) {
  /** The caller may moderate `targetId` in the room: owner/admin, not a DM, not itself, the owner untouchable, admins by the owner only. */
  async function moderatable(userId: string, roomId: string, targetId: string, what: string) {
    const { room, membership } = await access.withRole(roomId, userId, ['owner', 'admin']);
    if (room.type === 'direct') throw errors.forbidden('direct rooms are not moderated');
    if (targetId === userId) throw errors.forbidden(`you cannot ${what} yourself`);
    const target = await repos.memberships.get(roomId, targetId);
    if (!target) throw errors.notFound('member');
    if (target.role === 'owner') throw errors.forbidden(`the owner cannot be ${what}d`);
    if (target.role === 'admin' && membership.role !== 'owner') throw errors.forbidden(`only the owner can ${what} an admin`);
    return target;
  }

  const setMute = async (roomId: string, userId: string, until: Date | null) => {
    await docLock.run(lockKeys.membership(roomId, userId), () => repos.moderation.setMute(roomId, userId, until));
    // Every node's send path reads mutes from its membership cache.
    access.cache.forget(roomId, userId);
  };

  return {
    /** Mutes a member for `durationSeconds` (it can read, not send); muting again replaces the expiry. */
    async mute(userId: string, p: { roomId: string; userId: string; durationSeconds: number; reason?: string }): Promise<{ until: string }> {
      await moderatable(userId, p.roomId, p.userId, 'mute');
      const until = new Date(Date.now() + p.durationSeconds * 1000);
      await setMute(p.roomId, p.userId, until);
      await audit.record({ roomId: p.roomId, actorId: userId, action: 'mute', targetUserId: p.userId, reason: p.reason ?? null, details: { until: until.toISOString(), durationSeconds: p.durationSeconds } });
      return { until: until.toISOString() };
    },

    /** Lifts a mute; a member who is not muted stays so and nothing is recorded. */
    async unmute(userId: string, p: { roomId: string; userId: string; reason?: string }): Promise<Record<string, never>> {
      const target = await moderatable(userId, p.roomId, p.userId, 'unmute');
      if (!activeUntil(target.mutedUntil)) {
        if (target.mutedUntil) await setMute(p.roomId, p.userId, null);
        return {};
      }
      await setMute(p.roomId, p.userId, null);
      await audit.record({ roomId: p.roomId, actorId: userId, action: 'unmute', targetUserId: p.userId, reason: p.reason ?? null });
      return {};
    },

    /** Bans with an optional expiry (auto-lifted); see RoomService.ban. */
    ban(userId: string, p: { roomId: string; userId: string; durationSeconds?: number; reason?: string }): Promise<{ until: string | null }> {
      const until = p.durationSeconds ? new Date(Date.now() + p.durationSeconds * 1000) : null;
      return rooms.ban(userId, p.roomId, p.userId, { until, reason: p.reason ?? null }).then(() => ({ until: until ? until.toISOString() : null }));
    },

    unban(userId: string, p: { roomId: string; userId: string; reason?: string }): Promise<Record<string, never>> {
      return rooms.unban(userId, p.roomId, p.userId, p.reason ?? null);
    },

    /** One message per `seconds` per member (owners/admins exempt); 0 turns it off. */
    async slowMode(userId: string, p: { roomId: string; seconds: number; reason?: string }): Promise<{ seconds: number }> {
      const { room } = await access.withRole(p.roomId, userId, ['owner', 'admin']);
      if (room.type === 'direct') throw errors.forbidden('direct rooms are not moderated');
      if ((room.slowModeSeconds ?? 0) === p.seconds) return { seconds: p.seconds };
      await docLock.run(lockKeys.room(p.roomId), () => repos.moderation.setSlowMode(p.roomId, p.seconds));
      access.cache.forgetRoom(p.roomId);
      await audit.record({ roomId: p.roomId, actorId: userId, action: 'slow_mode', reason: p.reason ?? null, details: { seconds: p.seconds } });
      return { seconds: p.seconds };
    },

    /** The room's audit log, newest first (owner/admin). */
    async auditLog(userId: string, q: { roomId: string; cursor?: string; limit?: number }): Promise<Page<AuditEntryDto>> {
      await access.withRole(q.roomId, userId, ['owner', 'admin']);
      return audit.page(q.roomId, q);
    },
  };
}
export type ModerationService = ReturnType<typeof createModerationService>;
