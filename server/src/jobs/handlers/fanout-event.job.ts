// A domain event from the write path becomes its follow-up jobs: the outbound event
// webhook, and for a new message one notification job per recipient. Deciding who is
// offline or mentioned happens here, never on the send path. Running twice is harmless:
// follow-up ids are derived from the event, so duplicates collapse.
import { notificationId, QUEUES } from '../queues';
import { notificationRecipients } from '../notifications/recipients';
import type { JobHandler } from '../runtime/job';
import type { JobDeps } from './deps';

export function fanoutEventJob(deps: JobDeps): JobHandler<'domain-events'> {
  return async (event, ctx) => {
    let followUps = 0;
    if (deps.events) {
      await deps.sink.add(QUEUES.webhooks, [{ id: event.id, data: event }]);
      followUps += 1;
    }
    if (deps.notifications && event.type === 'message.created') {
      const message = event.data.message;
      const recipients = await notificationRecipients(deps, message);
      const createdAt = new Date().toISOString();
      await deps.sink.add(
        QUEUES.notifications,
        recipients.map((r) => {
          const id = notificationId(message.id, r.userId);
          return {
            id,
            data: { id, messageId: message.id, roomId: message.roomId, seq: message.seq, userId: r.userId, reason: r.reason, createdAt, messageCreatedAt: message.createdAt },
          };
        }),
      );
      followUps += recipients.length;
      ctx.log.debug({ messageId: message.id, recipients: recipients.length }, 'notifications queued');
    }
    return followUps > 0 ? 'fanned_out' : 'nothing_to_do';
  };
}
