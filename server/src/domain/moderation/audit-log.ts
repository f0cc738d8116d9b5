// A room's audit log: every moderation action (who, whom, what, when, why), newest first.
// Entries are keyed `roomId:seq` from a per-room counter, so a page is `_id` lookups below a
// seq on any database. Other areas record through `record()` (the one entry point).
import type { AuditAction, AuditEntryDto, Page } from '../../contracts/dto';
import type { AuditEntryDoc } from '../../data/models';
import type { Repositories } from '../../data/repositories';
import type { DocLock } from '../../data/doc-lock';
import { lockKeys } from '../../data/lock-keys';
import { errors } from '../../errors';
import { DEFAULT_LIMIT, decodeCursor, encodeCursor } from '../pagination';

export interface AuditRecord {
  roomId: string;
  /** Who acted (a user id; an operator's id for operator actions). */
  actorId: string;
  action: AuditAction;
  targetUserId?: string | null;
  messageId?: string | null;
  reason?: string | null;
  details?: Record<string, unknown>;
}

const COUNTER = 'audit';

const toDto = (e: AuditEntryDoc): AuditEntryDto => ({
  id: e._id,
  roomId: e.roomId,
  actorId: e.actorId,
  action: e.action,
  targetUserId: e.targetUserId,
  messageId: e.messageId,
  reason: e.reason,
  details: e.details ?? {},
  at: new Date(e.at).toISOString(),
});

export function createAuditLog({ repos, docLock }: { repos: Repositories; docLock: DocLock }) {
  const { moderation } = repos;
  return {
    /**
     * Appends an entry to the room's log; resolves once it is stored. A seq taken by a request
     * that died before its insert stays unused (a page may then hold fewer items).
     */
    async record(r: AuditRecord): Promise<void> {
      const seq = await docLock.run(lockKeys.moderationCounter(COUNTER, r.roomId), () => moderation.nextSeq(COUNTER, r.roomId));
      await moderation.insertAudit({
        roomId: r.roomId,
        seq,
        actorId: r.actorId,
        action: r.action,
        targetUserId: r.targetUserId ?? null,
        messageId: r.messageId ?? null,
        reason: r.reason ?? null,
        details: r.details ?? {},
        at: new Date(),
      });
    },

    /** Newest first; the cursor names the last entry of the previous page. Authorization is the caller's. */
    async page(roomId: string, q: { cursor?: string; limit?: number }): Promise<Page<AuditEntryDto>> {
      const limit = q.limit ?? DEFAULT_LIMIT;
      const after = decodeCursor(q.cursor);
      let below: number;
      if (after) {
        const m = /^(.*):(\d{12})$/.exec(after.id);
        if (!m || m[1] !== roomId) throw errors.validation([{ path: '/cursor', message: 'invalid cursor' }], 'invalid cursor');
        below = Number(m[2]);
      } else {
        below = (await moderation.currentSeq(COUNTER, roomId)) + 1;
      }
      const items = await moderation.auditRange(roomId, below - limit, below - 1);
      const tail = items[items.length - 1];
      // More below the window's bottom seq (one a crash left unused just makes a page short).
      const bottom = below - limit;
      return {
        items: items.map(toDto),
        nextCursor: bottom > 1 ? encodeCursor({ at: tail ? tail.at : new Date(0), id: `${roomId}:${String(bottom).padStart(12, '0')}` }) : null,
      };
    },
  };
}
export type AuditLog = ReturnType<typeof createAuditLog>;
