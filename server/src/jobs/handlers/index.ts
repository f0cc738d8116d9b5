// Every queue's handler, built from the same deps by whichever runtime runs them.
import type { JobHandlers } from '../runtime/job';
import { deliverNotificationJob } from './deliver-notification.job';
import { deliverWebhookJob } from './deliver-webhook.job';
import type { JobDeps } from './deps';
import { fanoutEventJob } from './fanout-event.job';
import { retentionSweepJob } from './retention-sweep.job';

export function createJobHandlers(deps: JobDeps): JobHandlers {
  return {
    'domain-events': fanoutEventJob(deps),
    notifications: deliverNotificationJob(deps),
    webhooks: deliverWebhookJob(deps),
    retention: retentionSweepJob(deps),
  };
}
