// Deletes messages older than their room's retentionDays, in batches (there are no TTL
// indexes on every backend). A sweep bounds its own work; the next one continues.
import type { JobHandler } from '../runtime/job';
import type { JobDeps } from './deps';
import { purgeUserMessagesJob } from './purge-user-messages.job';
import type { PurgeUserMessagesJob } from '../../domain/admin/operator.service';

const DAY_MS = 24 * 3600 * 1000;
/** Per room and sweep: at most this many batches, so one huge room cannot hold the job for hours. */
const MAX_BATCHES_PER_ROOM = 100;

export function retentionSweepJob(deps: Pick<JobDeps, 'config' | 'repos' | 'messageUpdates' | 'docLock'>, now: () => number = Date.now): JobHandler<'retention'> {
  const batch = deps.config.workers.retentionBatch;
  const purge = purgeUserMessagesJob(deps);
  return async (job, ctx) => {
    // The retention queue carries the bulk deletes: an operator's purge is the other kind.
    if ('kind' in job && job.kind === 'purge-user-messages') return purge(job as PurgeUserMessagesJob, ctx);
    const rooms = await deps.repos.rooms.withRetention();
    let deleted = 0;
    for (const room of rooms) {
      if (!room.retentionDays || room.retentionDays <= 0) continue;
      const before = new Date(now() - room.retentionDays * DAY_MS);
      for (let i = 0; i < MAX_BATCHES_PER_ROOM; i++) {
        const n = await deps.repos.messages.deleteOlderThan(room._id, before, batch);
        deleted += n;
        if (n < batch) break;
        // Let other jobs of this process run between batches.
        await new Promise((r) => setImmediate(r));
      }
    }
    if (deleted > 0) ctx.log.info({ rooms: rooms.length, deleted }, 'retention sweep');
    return deleted > 0 ? 'deleted' : 'nothing_to_do';
  };
}
