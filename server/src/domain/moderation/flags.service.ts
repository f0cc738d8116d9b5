// Flags and the moderation queue: any member reports a message with a reason; owners/admins
// page their room's open flags and resolve each (dismiss, delete the message, mute or ban the
// sender). One flag document per message (`_id` = message id) gathers its reports; each
// room's open flags are listed in one queue document, so the queue is one `_id` read.
import type { FlagDto, FlagResolution, Page } from '../../contracts/dto';
import type { FlagDoc, MessageDoc } from '../../data/models';
import type { Repositories } from '../../data/repositories';
import { MAX_REPORTS_KEPT } from '../../data/repositories/moderation.repository';
import type { DocLock } from '../../data/doc-lock';
import { lockKeys } from '../../data/lock-keys';
import type { Limiter } from '../../data/rate-limit.store';
import { errors } from '../../errors';
import type { Access } from '../access';
import type { DomainEvents } from '../events';
import { toMessageDto } from '../mappers';
import type { MessageService } from '../messages/message.service';
import { DEFAULT_LIMIT, decodeCursor, encodeCursor } from '../pagination';
import type { AuditLog } from './audit-log';
import type { ModerationService } from './moderation.service';

/** Open flags a room's queue holds at most: past it new flags are refused (CONFLICT) until some are resolved. */
export const MAX_OPEN_FLAGS = 1000;

export interface FlagsServiceDeps {
  repos: Repositories;
  access: Access;
  docLock: DocLock;
  events: DomainEvents;
  audit: AuditLog;
  messages: MessageService;
  moderation: ModerationService;
  flagLimiter: Limiter;
}

const seqOf = (messageId: string) => Number(messageId.slice(messageId.lastIndexOf(':') + 1));
const iso = (d: Date) => new Date(d).toISOString();

function toFlagDto(f: FlagDoc, message: MessageDoc | null): FlagDto {
  return {
    messageId: f._id,
    roomId: f.roomId,
    senderId: f.senderId,
    status: f.status,
    reportCount: f.reportCount,
    reports: f.reports.map((r) => ({ userId: r.userId, reason: r.reason, at: iso(r.at) })),
    firstAt: iso(f.firstAt),
    lastAt: iso(f.lastAt),
    resolution: f.resolution ? { action: f.resolution.action as FlagResolution, by: f.resolution.by, at: iso(f.resolution.at), note: f.resolution.note } : null,
    message: message ? toMessageDto(message) : null,
  };
}

export function createFlagsService({ repos, access, docLock, events, audit, messages, moderation, flagLimiter }: FlagsServiceDeps) {
  const { moderation: store } = repos;
  const queueAdd = (roomId: string, messageId: string) => docLock.run(lockKeys.flagQueue(roomId), () => store.queueAdd(roomId, messageId));
  const queueRemove = (roomId: string, messageIds: string[]) => docLock.run(lockKeys.flagQueue(roomId), () => store.queueRemove(roomId, messageIds));

  return {
    /**
     * Reports a message. Flagging a message you already reported (while its flag is open)
     * succeeds and changes nothing; a resolved flag is reopened by a new report.
     */
    async flag(userId: string, p: { messageId: string; reason: string }): Promise<Record<string, never>> {
      const message = await repos.messages.findById(p.messageId);
      if (!message) throw errors.notFound('message');
      const { room } = await access.member(message.roomId, userId);
      // Nobody moderates a direct room (both are plain members): its flags would reach no one.
      if (room.type === 'direct') throw errors.forbidden('direct rooms are not moderated');
      if (message.senderId === userId) throw errors.forbidden('you cannot flag your own message');
      if (message.deletedAt) throw errors.conflict('message is deleted');
      const existing = await store.getFlag(message._id);
      if (existing?.status === 'open' && existing.reports.some((r) => r.userId === userId)) return {};
      await flagLimiter.consume(userId);
      const flag = await docLock.run(lockKeys.flag(message._id), async () => {
        const now = new Date();
        const current = await store.getFlag(message._id);
        const report = { userId, reason: p.reason, at: now };
        if (current?.status === 'open') {
          if (current.reports.some((r) => r.userId === userId)) return null;
          const next: FlagDoc = { ...current, reportCount: current.reportCount + 1, lastAt: now, reports: current.reports.length < MAX_REPORTS_KEPT ? [...current.reports, report] : current.reports };
          await store.saveFlag(next);
          return next;
        }
        // A new (or reopened) flag: listed in the queue first, so an open flag is always found
        // there (an entry whose flag is not open is skipped and dropped when read).
        const queue = await store.getQueue(message.roomId);
        if (queue.length >= MAX_OPEN_FLAGS && !queue.includes(message._id)) throw errors.conflict('the moderation queue of this room is full');
        await queueAdd(message.roomId, message._id);
        const next: FlagDoc = { _id: message._id, roomId: message.roomId, messageSeq: message.seq, senderId: message.senderId, status: 'open', reports: [report], reportCount: 1, firstAt: now, lastAt: now, resolution: null };
        await store.saveFlag(next);
        return next;
      });
      if (flag) {
        await events.publish('moderation.flagged', {
          roomId: flag.roomId,
          messageId: flag._id,
          senderId: flag.senderId,
          reporterId: userId,
          reason: p.reason,
          reportCount: flag.reportCount,
          message: toMessageDto(message),
        });
      }
      return {};
    },

    /** The room's open flags, oldest message first (owner/admin). */
    async open(userId: string, q: { roomId: string; cursor?: string; limit?: number }): Promise<Page<FlagDto>> {
      await access.withRole(q.roomId, userId, ['owner', 'admin']);
      const limit = q.limit ?? DEFAULT_LIMIT;
      const after = decodeCursor(q.cursor);
      const afterSeq = after ? seqOf(after.id) : 0;
      if (after && (!after.id.startsWith(`${q.roomId}:`) || !Number.isSafeInteger(afterSeq))) throw errors.validation([{ path: '/cursor', message: 'invalid cursor' }], 'invalid cursor');
      const queue = (await store.getQueue(q.roomId))
        .filter((id) => id.startsWith(`${q.roomId}:`))
        .map((id) => ({ id, seq: seqOf(id) }))
        .filter((e) => e.seq > afterSeq)
        .sort((a, b) => a.seq - b.seq);
      const window = queue.slice(0, limit);
      const flags = await store.flagsByIds(window.map((e) => e.id));
      const open = new Map(flags.filter((f) => f.status === 'open').map((f) => [f._id, f]));
      const stale = window.filter((e) => !open.has(e.id)).map((e) => e.id);
      if (stale.length > 0) void queueRemove(q.roomId, stale).catch(() => undefined);
      const bodies = await repos.messages.atSeqs(window.filter((e) => open.has(e.id)).map((e) => ({ roomId: q.roomId, seq: e.seq })));
      const byId = new Map(bodies.map((m) => [m._id, m]));
      const items = window.filter((e) => open.has(e.id)).map((e) => toFlagDto(open.get(e.id)!, byId.get(e.id) ?? null));
      const tail = window[window.length - 1];
      return { items, nextCursor: queue.length > limit ? encodeCursor({ at: new Date(0), id: tail.id }) : null };
    },

    /**
     * Resolves an open flag (owner/admin of its room): `delete` the message, `mute` or `ban`
     * its sender (`durationSeconds`; required for mute, optional for ban), or `dismiss`.
     * The action runs first, with its own rules (an admin cannot mute the owner); then the flag
     * is closed and the resolution recorded. Resolving a closed flag is CONFLICT.
     */
    async resolve(userId: string, p: { roomId: string; messageId: string; action: FlagResolution; durationSeconds?: number; note?: string }): Promise<FlagDto> {
      await access.withRole(p.roomId, userId, ['owner', 'admin']);
      if (p.action === 'mute' && p.durationSeconds === undefined) throw errors.validation([{ path: '/durationSeconds', message: 'is required to mute' }]);
      return docLock.run(lockKeys.flag(p.messageId), async () => {
        const flag = await store.getFlag(p.messageId);
        if (!flag || flag.roomId !== p.roomId) throw errors.notFound('flag');
        if (flag.status !== 'open') throw errors.conflict('flag already resolved');
        const reason = p.note ?? `flagged message ${flag._id}`;
        if (p.action === 'delete') await messages.delete(userId, { messageId: flag._id });
        if (p.action === 'mute') await moderation.mute(userId, { roomId: p.roomId, userId: flag.senderId, durationSeconds: p.durationSeconds!, reason });
        if (p.action === 'ban') await moderation.ban(userId, { roomId: p.roomId, userId: flag.senderId, durationSeconds: p.durationSeconds, reason });
        const resolved: FlagDoc = { ...flag, status: 'resolved', resolution: { action: p.action, by: userId, at: new Date(), note: p.note ?? null } };
        await store.saveFlag(resolved);
        await queueRemove(p.roomId, [flag._id]);
        await audit.record({ roomId: p.roomId, actorId: userId, action: 'flag_resolve', targetUserId: flag.senderId, messageId: flag._id, reason: p.note ?? null, details: { resolution: p.action, reportCount: flag.reportCount } });
        return toFlagDto(resolved, await repos.messages.findById(flag._id));
      });
    },
  };
}
export type FlagsService = ReturnType<typeof createFlagsService>;
