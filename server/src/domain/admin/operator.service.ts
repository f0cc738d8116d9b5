// Operator controls (issue 15): suspend a user everywhere, lift it, and purge a user's
// messages through the workers. Used by the operator REST routes (http/routers/admin.router.ts,
// OPERATOR_TOKEN) and the CLI (workers/src/cli/admin.ts), each building it from its own
// adapters. Not a user-facing service: there is no acting user, only an operator label.
import type { Logger } from '../../logger';

/** Where suspensions live (data/revocation.store.ts): refused tokens and closed sockets on every node. */
export interface Suspensions {
  suspend(userId: string): Promise<unknown>;
  lift(userId: string): Promise<unknown>;
  isSuspended(userId: string): boolean;
}

/** A request to soft-delete every message a user sent, run by the workers in batches. */
export interface PurgeUserMessagesJob {
  kind: 'purge-user-messages';
  userId: string;
  /** Who asked (an operator label: "rest", "cli:<os user>"), for the logs. */
  requestedBy: string;
  requestedAt: string;
}

/** Queues a purge (jobs/: the retention queue, or the in-process runtime); resolves the job id. */
export interface PurgeQueue {
  enqueuePurge(job: PurgeUserMessagesJob): Promise<string>;
}

export interface SuspensionState {
  userId: string;
  suspended: boolean;
}

export function createOperatorService({ suspensions, purges, log }: { suspensions: Suspensions; purges: PurgeQueue; log: Logger }) {
  // Operator actions concern a user everywhere, not one room, so they are not entries of the
  // rooms' audit logs (which their owners and admins read): each is one structured log line
  // at info, kept by the log pipeline (docs/operations.md, "Operator controls").
  const audit = (action: string, userId: string, by: string, extra: Record<string, unknown> = {}) =>
    log.info({ operatorAction: action, userId, by, ...extra }, 'operator action');

  return {
    status: (userId: string): SuspensionState => ({ userId, suspended: suspensions.isSuspended(userId) }),

    /** Idempotent: suspending a suspended user changes nothing but is announced again (sockets that slipped in are closed). */
    async suspend(userId: string, by: string): Promise<SuspensionState> {
      await suspensions.suspend(userId);
      audit('suspend', userId, by);
      return { userId, suspended: true };
    },

    async lift(userId: string, by: string): Promise<SuspensionState> {
      await suspensions.lift(userId);
      audit('lift', userId, by);
      return { userId, suspended: false };
    },

    /** Queues the purge; the workers soft-delete the user's messages and announce them as message:updated. */
    async purgeMessages(userId: string, by: string): Promise<{ jobId: string }> {
      const jobId = await purges.enqueuePurge({ kind: 'purge-user-messages', userId, requestedBy: by, requestedAt: new Date().toISOString() });
      audit('purge-messages', userId, by, { jobId });
      return { jobId };
    },
  };
}
export type OperatorService = ReturnType<typeof createOperatorService>;
