// Delivers one outbound integration event to EVENTS_WEBHOOK_URL, at most once per event id.
import type { JobHandler } from '../runtime/job';
import { errorMessage } from '../runtime/job';
import { claimHoldMs, type JobDeps } from './deps';

export function deliverWebhookJob(deps: JobDeps): JobHandler<'webhooks'> {
  const holdMs = claimHoldMs(deps.config);
  return async (event, ctx) => {
    const events = deps.events;
    if (!events) return 'off';
    const claim = await deps.ledger.claim(event.id, holdMs);
    if (claim.state === 'delivered') return 'duplicate';
    if (claim.state === 'busy') throw new Error('another run is delivering this event');
    try {
      await events.sender.send(events.target, event);
    } catch (err) {
      await deps.ledger.release(event.id, claim.token).catch(() => undefined);
      throw err;
    }
    await deps.ledger.delivered(event.id).catch((err: unknown) => ctx.log.warn({ jobId: event.id, err: errorMessage(err) }, 'delivery not recorded'));
    ctx.log.info({ eventId: event.id, type: event.type, attempt: ctx.attempt }, 'event delivered');
    return 'delivered';
  };
}
