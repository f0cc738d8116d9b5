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
import type { DocLock } from '../../data/doc-lock';
import type { MessageUpdatesChannel } from '../../data/message-updates.channel';

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
  /** Where bulk message updates (purges) are announced to the API nodes. */
  messageUpdates?: Pick<MessageUpdatesChannel, 'publish'>;
  /** Orders the purge's updates with the API's edits of the same messages (default: this process only). */
  docLock?: DocLock;
}

/** How long a claimed delivery is held: one attempt's timeout plus a margin. */
export const claimHoldMs = (config: Config): number => config.workers.webhookTimeoutMs + 2000;
