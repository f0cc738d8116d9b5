// What every job handler may use. Built once by the runtime (workers process or the
// zero-config server) and passed in: handlers hold no connections of their own.
import type { Config } from '../../config';
import type { Repositories } from '../../data/repositories';
import type { DeliveryLedger } from '../delivery/delivery.ledger';
import type { NotificationProvider } from '../delivery/notification.provider';
import type { WebhookSender, WebhookTarget } from '../delivery/webhook.client';
import type { JobMetrics } from '../job-metrics';
import type { PresenceReader } from '../notifications/recipients';
import type { JobSink } from '../runtime/job';

export interface JobDeps {
  config: Config;
  repos: Repositories;
  presence: PresenceReader;
  sink: JobSink;
  ledger: DeliveryLedger;
  metrics: JobMetrics;
  /** Null: notifications are off (no NOTIFY_WEBHOOK_URL). */
  notifications: NotificationProvider | null;
  /** Null: outbound event webhooks are off (no EVENTS_WEBHOOK_URL). */
  events: { target: WebhookTarget; sender: WebhookSender } | null;
}

/** How long a claimed delivery is held: one attempt's timeout plus a margin. */
export const claimHoldMs = (config: Config): number => config.workers.webhookTimeoutMs + 2000;
