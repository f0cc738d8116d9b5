// Delivers one notification through the provider, unless the user has read past the
// message (or left the room, or the message is gone) by the time it is about to go out.
// At most one delivery per (message, user): the ledger remembers the id.
import { toMessageDto } from '../../domain/mappers';
import type { JobHandler } from '../runtime/job';
import { errorMessage } from '../runtime/job';
import { claimHoldMs, type JobDeps } from './deps';

export function deliverNotificationJob(deps: JobDeps): JobHandler<'notifications'> {
  const holdMs = claimHoldMs(deps.config);
  return async (job, ctx) => {
    const provider = deps.notifications;
    if (!provider) return 'off';
    const claim = await deps.ledger.claim(job.id, holdMs);
    if (claim.state === 'delivered') return 'duplicate';
    // Another run holds it right now; retrying later finds it delivered (or the claim expired).
    if (claim.state === 'busy') throw new Error('another run is delivering this notification');
    let sent = false;
    try {
      const [membership, message] = await Promise.all([deps.repos.memberships.get(job.roomId, job.userId), deps.repos.messages.findById(job.messageId)]);
      if (!membership) return 'not_member';
      if (membership.lastReadSeq >= job.seq) return 'read';
      if (!message || message.deletedAt) return 'deleted';
      await provider.deliver({ id: job.id, createdAt: job.createdAt, userId: job.userId, reason: job.reason, message: toMessageDto(message) });
      sent = true;
    } finally {
      if (!sent) await deps.ledger.release(job.id, claim.token).catch(() => undefined);
    }
    // Past this point the notification is out: a failure to record it must not fail the job
    // (a retry would send it again); only a duplicate run could still repeat it.
    await deps.ledger.delivered(job.id).catch((err: unknown) => ctx.log.warn({ jobId: job.id, err: errorMessage(err) }, 'delivery not recorded'));
    deps.metrics.notificationDelay.observe({ reason: job.reason }, Math.max(0, Date.now() - Date.parse(job.messageCreatedAt)) / 1000);
    ctx.log.info({ notificationId: job.id, userId: job.userId, messageId: job.messageId, reason: job.reason, attempt: ctx.attempt }, 'notification delivered');
    return 'delivered';
  };
}
