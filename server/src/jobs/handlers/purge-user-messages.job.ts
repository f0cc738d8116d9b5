// An operator's bulk delete (issue 15): soft-deletes every message a user sent, like
// message:delete does one (text emptied, reactions cleared, `v` moved on), and announces each
// batch on the message-updates channel: every API node updates its history cache and sends
// message:updated to its sockets. Finding a user's messages is a scan on the embedded database
// (only `_id` is indexed there), so it runs here, as one streamed query read in batches, never
// on a request path. Idempotent: a retry skips what is already deleted.
import { toMessageDto } from '../../domain/mappers';
import type { PurgeUserMessagesJob } from '../../domain/admin/operator.service';
import { createDocLock } from '../../data/doc-lock';
import { lockKeys } from '../../data/lock-keys';
import type { JobContext } from '../runtime/job';
import type { JobDeps } from './deps';

const BATCH = 200;

export function purgeUserMessagesJob(deps: Pick<JobDeps, 'repos' | 'messageUpdates' | 'docLock'>) {
  const docLock = deps.docLock ?? createDocLock(null, false);
  return async (job: PurgeUserMessagesJob, ctx: JobContext): Promise<string> => {
    const at = new Date();
    let deleted = 0;
    for await (const ids of deps.repos.messages.idsBySender(job.userId, BATCH)) {
      const updates = [];
      for (const id of ids) {
        // The same lock as message:delete/edit/react: on FerretDB updates are read-modify-write.
        const doc = await docLock.run(lockKeys.message(id), () => deps.repos.messages.softDelete(id, at));
        if (doc) updates.push({ message: toMessageDto(doc), v: doc.v ?? 0 });
      }
      deleted += updates.length;
      await deps.messageUpdates?.publish(updates);
      // Let other jobs of this process run between batches.
      await new Promise((r) => setImmediate(r));
    }
    ctx.log.info({ userId: job.userId, requestedBy: job.requestedBy, deleted }, 'user messages purged');
    return deleted > 0 ? 'deleted' : 'nothing_to_do';
  };
}
