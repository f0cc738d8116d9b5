// Rooms and membership: create, join, leave, invite, kick, roles, lists and DMs.
import type { MemberDto, Page, Role, RoomDto, RoomSummaryDto } from '../../contracts/dto';
import type { MembershipDoc, RoomDoc } from '../../data/models';
import type { Repositories } from '../../data/repositories';
import { directRoomId, newId } from '../../data/ids';
import { AppError, errors } from '../../errors';
import type { Access } from '../access';
import { toMemberDto, toMessageDto, toRoomDto } from '../mappers';
import type { DomainEvents } from '../events';
import type { Notifier } from '../notifier';
import { DEFAULT_LIMIT, decodeCursor, encodeCursor } from '../pagination';
import type { PresenceService } from '../presence/presence.service';
import type { Limiter } from '../../data/rate-limit.store';
import type { DocLock } from '../../data/doc-lock';
import { lockKeys } from '../../data/lock-keys';
import { roomCounters } from './room-counters';
import { unreadMentions } from '../messages/mentions';
import type { UserRooms } from './user-rooms';
import type { BlockService } from '../users/blocks';
import { activeUntil } from '../access';
import type { AuditLog } from '../moderation/audit-log';

export interface RoomServiceDeps {
  repos: Repositories;
  access: Access;
  notifier: Notifier;
  events: DomainEvents;
  presence: PresenceService;
  joinLimiter: Limiter;
  /** Orders updates of one room or membership document (see data/doc-lock.ts). */
  docLock: DocLock;
  /** Every membership insert and delete goes through it (it keeps each user's room list). */
  userRooms: UserRooms;
  /** User blocks: a blocked user cannot open a direct room with the blocker. */
  blocks?: Pick<BlockService, 'assertNotBlockedBy'>;
  /** Where kicks, bans and role changes are recorded (domain/moderation/audit-log.ts). */
  audit: AuditLog;
  /** Extension (delivery receipts): members' read and delivered positions, for member lists. */
  positions(room: RoomDoc, members: readonly MembershipDoc[]): Promise<Map<string, Pick<MemberDto, 'lastReadSeq' | 'lastDeliveredSeq'>>>;
}

/** A ban's terms: `until` null = until lifted (kicks, bans without expiry). */
export interface BanTerms {
  until: Date | null;
  reason: string | null;
}

/** FORBIDDEN for a banned user, with when the ban ends (retryAfterMs) if it does. */
function bannedError(until: Date | null) {
  const details: Record<string, unknown> = { reason: 'banned' };
  if (until) Object.assign(details, { until: until.toISOString(), retryAfterMs: Math.max(1, until.getTime() - Date.now()) });
  return new AppError('FORBIDDEN', 'you were removed from this room', details);
}

/** A room as created: nothing sent yet, active now, no retention. */
function newRoom(fields: Pick<RoomDoc, '_id' | 'type' | 'name' | 'createdBy' | 'memberCount'>, now: Date): RoomDoc {
  const { _id, type, name, createdBy, memberCount } = fields;
  return { _id, type, name, createdBy, createdAt: now, lastSeq: 0, memberCount, lastActivityAt: now, retentionDays: null };
}

export function createRoomService({ repos, access, notifier, events, presence, joinLimiter, docLock, userRooms, blocks, audit, positions }: RoomServiceDeps) {
  // memberCount moves by one per membership really inserted or deleted (an $inc by _id, not a
  // count of the memberships, which scans on the embedded database); ordered per room because
  // FerretDB's $inc is read-modify-write. Resolves the room as updated, null if that failed:
  // the membership change already happened, so a failed count is not a failed request.
  const bumpMembers = (roomId: string, by: number) =>
    docLock.run(lockKeys.room(roomId), () => repos.rooms.bumpMembers(roomId, by)).catch(() => null);
  const setRole = async (roomId: string, userId: string, role: Role) => {
    await docLock.run(lockKeys.membership(roomId, userId), () => repos.memberships.setRole(roomId, userId, role));
    access.cache.forget(roomId, userId);
  };
  /** Deletes a membership (and its list entry); resolves whether it existed. */
  const removeMember = async (roomId: string, userId: string) => {
    try {
      return await userRooms.remove(roomId, userId);
    } finally {
      access.cache.forget(roomId, userId);
    }
  };
  /** Inserts a membership (and its list entry); resolves false if it existed. */
  const insertMember = async (roomId: string, userId: string, role: Role, at: Date, lastReadSeq = 0) => {
    const added = await repos.memberships.add(roomId, userId, role, at, lastReadSeq);
    if (added) await userRooms.added(roomId, userId);
    return added;
  };

  /**
   * Creates the room with its first members, or nothing: not every backend has transactions,
   * so a failed membership insert removes what this call wrote (memberships, list entries, room).
   */
  async function createWithMembers(room: RoomDoc, members: Array<{ userId: string; role: Role }>): Promise<void> {
    await repos.rooms.create(room);
    try {
      for (const m of members) await insertMember(room._id, m.userId, m.role, room.createdAt);
    } catch (err) {
      await Promise.allSettled(members.map((m) => userRooms.remove(room._id, m.userId)));
      await repos.rooms.remove(room._id).catch(() => undefined);
      throw err;
    }
  }

  async function addMember(room: RoomDoc, userId: string, role: Role): Promise<boolean> {
    const added = await insertMember(room._id, userId, role, new Date(), room.lastSeq);
    if (added) {
      await notifier.memberJoined(room._id, userId);
      await events.publish('room.member_joined', { roomId: room._id, userId });
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

  const service = {
    async create(userId: string, input: { type: 'public' | 'private'; name: string; memberIds?: string[] }): Promise<RoomDto> {
      const memberIds = [...new Set(input.memberIds ?? [])].filter((id) => id !== userId);
      await requireUsers(memberIds);
      const room = newRoom({ _id: newId(), type: input.type, name: input.name, createdBy: userId, memberCount: 1 + memberIds.length }, new Date());
      await createWithMembers(room, [{ userId, role: 'owner' }, ...memberIds.map((id) => ({ userId: id, role: 'member' as const }))]);
      for (const id of [userId, ...memberIds]) {
        await notifier.memberJoined(room._id, id);
        await events.publish('room.member_joined', { roomId: room._id, userId: id });
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
      if (await repos.memberships.get(roomId, userId)) {
        // Joining again is also how a member repairs a list entry a crash lost.
        await userRooms.repair(roomId, userId, true);
        return toRoomDto(room);
      }
      await joinLimiter.consume(userId);
      if (room.type === 'direct') throw errors.forbidden('direct rooms cannot be joined');
      let record = await repos.roomAccess.get(roomId, userId);
      if (record?.kind === 'banned') {
        // A ban whose expiry passed is no ban (no TTL index): removed here, lazily.
        if (record.until && !activeUntil(record.until)) {
          await repos.roomAccess.remove(roomId, userId);
          record = null;
        } else {
          throw bannedError(record.until ?? null);
        }
      }
      if (room.type === 'private' && record?.kind !== 'invited') throw errors.forbidden('private room: an invitation is required');
      if (await addMember(room, userId, 'member')) {
        const updated = await bumpMembers(roomId, 1);
        if (record) await repos.roomAccess.remove(roomId, userId);
        // The updated document for memberCount, with the exact lastSeq the join started from.
        if (updated) return toRoomDto({ ...updated, lastSeq: Math.max(updated.lastSeq, room.lastSeq) });
      }
      return roomDto(roomId);
    },

    async leave(userId: string, roomId: string): Promise<Record<string, never>> {
      const room = await access.room(roomId);
      const membership = await repos.memberships.get(roomId, userId);
      if (!membership) {
        // Not a member: drop a list entry that says otherwise (a crash mid-write left it).
        await userRooms.repair(roomId, userId, false);
        return {};
      }
      if (membership.role === 'owner') {
        const heir = (await repos.memberships.successorExcept(roomId, userId)) ?? null;
        if (heir) await setRole(roomId, heir.userId, 'owner');
      }
      await notifier.memberLeft(room._id, userId);
      if (await removeMember(roomId, userId)) await bumpMembers(roomId, -1);
      await events.publish('room.member_left', { roomId, userId });
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
      return service.ban(userId, roomId, targetId, { until: null, reason: null }, 'kick');
    },

    /**
     * Removes the target (if a member) and bans it until `terms.until` (null: until unbanned or
     * invited again). Owner/admin; only the owner bans an admin; nobody bans the owner or itself.
     * A user who is not a member can be banned too (it then cannot join).
     */
    async ban(userId: string, roomId: string, targetId: string, terms: BanTerms, action: 'kick' | 'ban' = 'ban'): Promise<Record<string, never>> {
      const { room, membership } = await access.withRole(roomId, userId, ['owner', 'admin']);
      if (room.type === 'direct') throw errors.forbidden('direct rooms have fixed members');
      if (targetId === userId) throw errors.forbidden(action === 'kick' ? 'use room:leave to leave a room' : 'you cannot ban yourself');
      const target = await repos.memberships.get(roomId, targetId);
      if (!target && action === 'kick') throw errors.notFound('member');
      if (!target) await requireUsers([targetId]);
      if (target?.role === 'owner') throw errors.forbidden(`the owner cannot be ${action === 'kick' ? 'kicked' : 'banned'}`);
      if (target?.role === 'admin' && membership.role !== 'owner') throw errors.forbidden(`only the owner can ${action} an admin`);
      await repos.roomAccess.set(roomId, targetId, 'banned', userId, terms);
      if (target) {
        // Announce first so the kicked user hears it, then cut its sockets off everywhere.
        await notifier.memberLeft(roomId, targetId);
        if (await removeMember(roomId, targetId)) await bumpMembers(roomId, -1);
        await events.publish('room.member_left', { roomId, userId: targetId });
      }
      await audit.record({
        roomId,
        actorId: userId,
        action,
        targetUserId: targetId,
        reason: terms.reason,
        details: action === 'ban' ? { until: terms.until ? terms.until.toISOString() : null, wasMember: Boolean(target) } : {},
      });
      return {};
    },

    /** Lifts a ban (expired or not); owner/admin. Unbanning a user who is not banned succeeds and changes nothing. */
    async unban(userId: string, roomId: string, targetId: string, reason: string | null): Promise<Record<string, never>> {
      const { room } = await access.withRole(roomId, userId, ['owner', 'admin']);
      if (room.type === 'direct') throw errors.forbidden('direct rooms have fixed members');
      const record = await repos.roomAccess.get(roomId, targetId);
      if (record?.kind !== 'banned') return {};
      await repos.roomAccess.remove(roomId, targetId);
      await audit.record({ roomId, actorId: userId, action: 'unban', targetUserId: targetId, reason });
      return {};
    },

    async setRole(userId: string, roomId: string, targetId: string, role: 'admin' | 'member'): Promise<Record<string, never>> {
      await access.withRole(roomId, userId, ['owner']);
      const target = await repos.memberships.get(roomId, targetId);
      if (!target) throw errors.notFound('member');
      if (target.role === 'owner') throw errors.forbidden('the owner role cannot be changed');
      await setRole(roomId, targetId, role);
      if (target.role !== role) await audit.record({ roomId, actorId: userId, action: 'role_change', targetUserId: targetId, details: { from: target.role, role } });
      return {};
    },

    /**
     * The user's rooms, most recent activity first. A user's rooms are few (bounded by what
     * one person joins), so all of them are read by `_id` and ordered here; no query scans.
     */
    async list(userId: string, q: { cursor?: string; limit?: number }): Promise<Page<RoomSummaryDto>> {
      const limit = q.limit ?? DEFAULT_LIMIT;
      const after = decodeCursor(q.cursor);
      const roomIds = await userRooms.of(userId);
      if (roomIds.length === 0) return { items: [], nextCursor: null };
      const [rooms, memberships] = await Promise.all([repos.rooms.findByIds([...roomIds]), repos.memberships.ofUserInRooms(userId, [...roomIds])]);
      const mine = new Map<string, MembershipDoc>(memberships.map((m) => [m.roomId, m]));
      // A listed room without a membership (or gone): not shown, and the list is repaired.
      const found = new Set(rooms.map((r) => r._id));
      for (const id of roomIds) {
        if (!mine.has(id) || !found.has(id)) void userRooms.repair(id, userId, false).catch(() => undefined);
      }
      const counters = await roomCounters(access.counters, userId, rooms.filter((r) => mine.has(r._id)), mine);
      const ordered = [...counters]
        .map(([id, c]) => ({ id, at: c.lastActivityAt.getTime(), c }))
        .filter((e) => !after || e.at < after.at.getTime() || (e.at === after.at.getTime() && e.id < after.id))
        .sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
      const page = ordered.slice(0, limit);
      const byId = new Map(rooms.map((r) => [r._id, r]));
      const lastMessages = await repos.messages.atSeqs(page.filter((e) => e.c.lastSeq > 0).map((e) => ({ roomId: e.id, seq: e.c.lastSeq })));
      const last = new Map(lastMessages.map((m) => [m.roomId, m]));
      const items: RoomSummaryDto[] = page.map(({ id, c }) => {
        const lastMessage = last.get(id);
        return {
          ...toRoomDto({ ...byId.get(id)!, lastSeq: c.lastSeq }),
          role: mine.get(id)!.role,
          lastReadSeq: c.lastReadSeq,
          unreadCount: Math.max(0, c.lastSeq - c.lastReadSeq),
          unreadMentions: unreadMentions(mine.get(id)!.mentionSeqs, c.lastReadSeq),
          lastMessage: lastMessage ? toMessageDto(lastMessage) : null,
        };
      });
      const tail = page[page.length - 1];
      return { items, nextCursor: ordered.length > limit ? encodeCursor({ at: new Date(tail.at), id: tail.id }) : null };
    },

    async members(userId: string, q: { roomId: string; cursor?: string; limit?: number }): Promise<Page<MemberDto>> {
      const { room } = await access.member(q.roomId, userId);
      const limit = q.limit ?? DEFAULT_LIMIT;
      const rows = await repos.memberships.pageByRoom(q.roomId, decodeCursor(q.cursor), limit + 1);
      const page = rows.slice(0, limit);
      const [online, at] = await Promise.all([presence.onlineOf(page.map((m) => m.userId)), positions(room, page)]);
      const tail = page[page.length - 1];
      return {
        items: page.map((m) => toMemberDto(m, online.has(m.userId), at.get(m.userId)!)),
        nextCursor: rows.length > limit ? encodeCursor({ at: tail.joinedAt, id: tail._id }) : null,
      };
    },

    async openDirect(userId: string, otherId: string): Promise<RoomDto> {
      if (otherId === userId) throw errors.validation([{ path: '/userId', message: 'cannot open a direct room with yourself' }]);
      const users = await repos.users.findByIds([userId, otherId]);
      if (!users.some((u) => u._id === otherId)) throw errors.notFound('user');
      await blocks?.assertNotBlockedBy(userId, otherId);
      const roomId = directRoomId(userId, otherId);
      let room = await repos.rooms.findById(roomId);
      let created = false;
      if (!room) {
        const names = [userId, otherId].map((id) => users.find((u) => u._id === id)?.username ?? id).sort();
        const doc = newRoom({ _id: roomId, type: 'direct', name: names.join(', ').slice(0, 100), createdBy: userId, memberCount: 2 }, new Date());
        // A concurrent dm:open for the same pair loses the insert race and reads the winner's room.
        created = await repos.rooms.create(doc);
      }
      // Exact lastSeq: a member added back starts with everything before it read.
      room = await access.room(roomId);
      const added = [await addMember(room, userId, 'member'), await addMember(room, otherId, 'member')];
      // A direct room is created with memberCount 2, right when this call inserted both
      // memberships. Otherwise (a member who left comes back, or a concurrent dm:open inserted
      // one of them) recount: each such call recounts after its own insert, under the room's
      // lock, so the last recount sees both. Rare, and not on the join or connect paths.
      if (!added.some(Boolean) || (created && added.every(Boolean))) return toRoomDto(room);
      await docLock.run(lockKeys.room(roomId), () => repos.rooms.recountMembers(roomId)).catch(() => undefined);
      return roomDto(roomId);
    },
  };
  return service;
}
export type RoomService = ReturnType<typeof createRoomService>;
