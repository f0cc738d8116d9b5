// Rooms and membership: create, join, leave, invite, kick, roles, lists and DMs.
import type { MemberDto, Page, Role, RoomDto, RoomSummaryDto } from '../../contracts/dto';
import type { RoomDoc } from '../../data/models';
import type { Repositories } from '../../data/repositories';
import { directRoomId, newId } from '../../data/ids';
import { errors } from '../../errors';
import type { Access } from '../access';
import { toMemberDto, toMessageDto, toRoomDto } from '../mappers';
import type { DomainEvents, Notifier } from '../notifier';
import { DEFAULT_LIMIT, decodeCursor, encodeCursor } from '../pagination';
import type { PresenceService } from '../presence/presence.service';
import type { Limiter } from '../rate-limit';
import type { DocLock } from '../../data/doc-lock';
import { lockKeys } from '../../data/lock-keys';

export interface RoomServiceDeps {
  repos: Repositories;
  access: Access;
  notifier: Notifier;
  events: DomainEvents;
  presence: PresenceService;
  joinLimiter: Limiter;
  /** Orders updates of one room or membership document (see data/doc-lock.ts). */
  docLock: DocLock;
}

/** room:list order: most recent activity first, then _id descending. */
const byActivityDesc = (a: RoomDoc, b: RoomDoc): number =>
  b.lastActivityAt.getTime() - a.lastActivityAt.getTime() || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0);
const isAfter = (r: RoomDoc, c: { at: Date; id: string }): boolean =>
  r.lastActivityAt.getTime() < c.at.getTime() || (r.lastActivityAt.getTime() === c.at.getTime() && r._id < c.id);

export function createRoomService({ repos, access, notifier, events, presence, joinLimiter, docLock }: RoomServiceDeps) {
  // memberCount is derived (recounted after each change), so a failed recount is not a failed
  // request: the membership change already happened and the next change recounts again.
  const recount = (roomId: string) =>
    docLock.run(lockKeys.room(roomId), () => repos.rooms.recountMembers(roomId)).catch(() => undefined);
  const setRole = async (roomId: string, userId: string, role: Role) => {
    await docLock.run(lockKeys.membership(roomId, userId), () => repos.memberships.setRole(roomId, userId, role));
    access.cache.forget(roomId, userId);
  };
  const removeMember = async (roomId: string, userId: string) => {
    await repos.memberships.remove(roomId, userId);
    access.cache.forget(roomId, userId);
  };

  async function addMember(room: RoomDoc, userId: string, role: Role): Promise<boolean> {
    const added = await repos.memberships.add(room._id, userId, role, new Date(), room.lastSeq);
    if (added) {
      await notifier.memberJoined(room._id, userId);
      await events.memberJoined(room._id, userId);
    }
    return added;
  }

  async function roomDto(roomId: string): Promise<RoomDto> {
    return toRoomDto(await access.room(roomId));
  }

  async function requireUsers(ids: string[]): Promise<void> {
    const found = await repos.users.findByIds(ids);
    if (found.length !== ids.length) throw errors.notFound('user');
  }

  return {
    async create(userId: string, input: { type: 'public' | 'private'; name: string; memberIds?: string[] }): Promise<RoomDto> {
      const memberIds = [...new Set(input.memberIds ?? [])].filter((id) => id !== userId);
      await requireUsers(memberIds);
      const now = new Date();
      const room: RoomDoc = {
        _id: newId(),
        type: input.type,
        name: input.name,
        createdBy: userId,
        createdAt: now,
        lastSeq: 0,
        memberCount: 1 + memberIds.length,
        lastActivityAt: now,
        retentionDays: null,
      };
      await repos.rooms.create(room);
      try {
        await repos.memberships.add(room._id, userId, 'owner', now);
        for (const id of memberIds) await repos.memberships.add(room._id, id, 'member', now);
      } catch (err) {
        // No transactions on every backend: undo by hand so a failed create leaves nothing.
        await Promise.allSettled([repos.memberships.remove(room._id, userId), ...memberIds.map((id) => repos.memberships.remove(room._id, id))]);
        await repos.rooms.remove(room._id).catch(() => undefined);
        throw err;
      }
      for (const id of [userId, ...memberIds]) {
        await notifier.memberJoined(room._id, id);
        await events.memberJoined(room._id, id);
      }
      return toRoomDto(room);
    },

    async get(userId: string, roomId: string): Promise<RoomDto> {
      const room = await access.room(roomId);
      if (room.type !== 'public' && !(await repos.memberships.get(roomId, userId))) {
        const invite = await repos.roomAccess.get(roomId, userId);
        if (room.type === 'direct' || invite?.kind !== 'invited') throw errors.forbidden('not a member of this room');
      }
      return toRoomDto(room);
    },

    async join(userId: string, roomId: string): Promise<RoomDto> {
      const room = await access.room(roomId);
      if (await repos.memberships.get(roomId, userId)) return toRoomDto(room);
      await joinLimiter.consume(userId);
      if (room.type === 'direct') throw errors.forbidden('direct rooms cannot be joined');
      const record = await repos.roomAccess.get(roomId, userId);
      if (record?.kind === 'banned') throw errors.forbidden('you were removed from this room');
      if (room.type === 'private' && record?.kind !== 'invited') throw errors.forbidden('private room: an invitation is required');
      if (await addMember(room, userId, 'member')) {
        await recount(roomId);
        if (record) await repos.roomAccess.remove(roomId, userId);
      }
      return roomDto(roomId);
    },

    async leave(userId: string, roomId: string): Promise<Record<string, never>> {
      const room = await access.room(roomId);
      const membership = await repos.memberships.get(roomId, userId);
      if (!membership) return {};
      if (membership.role === 'owner') {
        const heir = (await repos.memberships.successorExcept(roomId, userId)) ?? null;
        if (heir) await setRole(roomId, heir.userId, 'owner');
      }
      await notifier.memberLeft(room._id, userId);
      await removeMember(roomId, userId);
      await recount(roomId);
      await events.memberLeft(roomId, userId);
      return {};
    },

    async invite(userId: string, roomId: string, targetId: string): Promise<Record<string, never>> {
      const { room } = await access.withRole(roomId, userId, ['owner', 'admin']);
      if (room.type === 'direct') throw errors.forbidden('direct rooms have fixed members');
      await requireUsers([targetId]);
      if (await repos.memberships.get(roomId, targetId)) return {};
      await repos.roomAccess.set(roomId, targetId, 'invited', userId);
      notifier.invited(roomId, targetId, userId);
      return {};
    },

    async kick(userId: string, roomId: string, targetId: string): Promise<Record<string, never>> {
      const { room, membership } = await access.withRole(roomId, userId, ['owner', 'admin']);
      if (room.type === 'direct') throw errors.forbidden('direct rooms have fixed members');
      if (targetId === userId) throw errors.forbidden('use room:leave to leave a room');
      const target = await repos.memberships.get(roomId, targetId);
      if (!target) throw errors.notFound('member');
      if (target.role === 'owner') throw errors.forbidden('the owner cannot be kicked');
      if (target.role === 'admin' && membership.role !== 'owner') throw errors.forbidden('only the owner can kick an admin');
      await repos.roomAccess.set(roomId, targetId, 'banned', userId);
      // Announce first so the kicked user hears it, then cut its sockets off everywhere.
      await notifier.memberLeft(roomId, targetId);
      await removeMember(roomId, targetId);
      await recount(roomId);
      await events.memberLeft(roomId, targetId);
      return {};
    },

    async setRole(userId: string, roomId: string, targetId: string, role: 'admin' | 'member'): Promise<Record<string, never>> {
      await access.withRole(roomId, userId, ['owner']);
      const target = await repos.memberships.get(roomId, targetId);
      if (!target) throw errors.notFound('member');
      if (target.role === 'owner') throw errors.forbidden('the owner role cannot be changed');
      await setRole(roomId, targetId, role);
      return {};
    },

    async list(userId: string, q: { cursor?: string; limit?: number }): Promise<Page<RoomSummaryDto>> {
      const limit = q.limit ?? DEFAULT_LIMIT;
      const after = decodeCursor(q.cursor);
      const roomIds = await repos.memberships.roomIdsOf(userId);
      if (roomIds.length === 0) return { items: [], nextCursor: null };
      // Activity order comes from the exact counters, not the rooms' lagging checkpoints, so
      // a user's own rooms are ordered here (one user's room count bounds the work).
      const rooms = (await access.counters.overlayRooms(await repos.rooms.byIds(roomIds)))
        .sort(byActivityDesc)
        .filter((r) => !after || isAfter(r, after));
      const page = rooms.slice(0, limit);
      const ids = page.map((r) => r._id);
      const [memberships, lastMessages] = await Promise.all([
        repos.memberships.ofUserInRooms(userId, ids).then((ms) => access.counters.overlayMemberships(userId, ms, page)),
        repos.messages.atSeqs(page.filter((r) => r.lastSeq > 0).map((r) => ({ roomId: r._id, seq: r.lastSeq }))),
      ]);
      const mine = new Map(memberships.map((m) => [m.roomId, m]));
      const last = new Map(lastMessages.map((m) => [m.roomId, m]));
      const items: RoomSummaryDto[] = [];
      for (const r of page) {
        const m = mine.get(r._id);
        if (!m) continue; // left between the two reads
        const lastReadSeq = Math.min(m.lastReadSeq, r.lastSeq);
        const lastMessage = last.get(r._id);
        items.push({
          ...toRoomDto(r),
          role: m.role,
          lastReadSeq,
          unreadCount: Math.max(0, r.lastSeq - lastReadSeq),
          lastMessage: lastMessage ? toMessageDto(lastMessage) : null,
        });
      }
      const tail = page[page.length - 1];
      return { items, nextCursor: rooms.length > limit ? encodeCursor({ at: tail.lastActivityAt, id: tail._id }) : null };
    },

    async members(userId: string, q: { roomId: string; cursor?: string; limit?: number }): Promise<Page<MemberDto>> {
      await access.member(q.roomId, userId);
      const limit = q.limit ?? DEFAULT_LIMIT;
      const rows = await repos.memberships.pageByRoom(q.roomId, decodeCursor(q.cursor), limit + 1);
      const page = rows.slice(0, limit);
      const online = await presence.onlineOf(page.map((m) => m.userId));
      const tail = page[page.length - 1];
      return {
        items: page.map((m) => toMemberDto(m, online.has(m.userId))),
        nextCursor: rows.length > limit ? encodeCursor({ at: tail.joinedAt, id: tail._id }) : null,
      };
    },

    async openDirect(userId: string, otherId: string): Promise<RoomDto> {
      if (otherId === userId) throw errors.validation([{ path: '/userId', message: 'cannot open a direct room with yourself' }]);
      const users = await repos.users.findByIds([userId, otherId]);
      if (!users.some((u) => u._id === otherId)) throw errors.notFound('user');
      const roomId = directRoomId(userId, otherId);
      let room = await repos.rooms.findById(roomId);
      if (!room) {
        const now = new Date();
        const names = [userId, otherId].map((id) => users.find((u) => u._id === id)?.username ?? id).sort();
        const doc: RoomDoc = {
          _id: roomId,
          type: 'direct',
          name: names.join(', ').slice(0, 100),
          createdBy: userId,
          createdAt: now,
          lastSeq: 0,
          memberCount: 2,
          lastActivityAt: now,
          retentionDays: null,
        };
        // A concurrent dm:open for the same pair loses the insert race and reads the winner's room.
        await repos.rooms.create(doc);
        room = (await repos.rooms.findById(roomId))!;
      }
      const added = [await addMember(room, userId, 'member'), await addMember(room, otherId, 'member')];
      if (added.some(Boolean)) await recount(roomId);
      return roomDto(roomId);
    },
  };
}
export type RoomService = ReturnType<typeof createRoomService>;
