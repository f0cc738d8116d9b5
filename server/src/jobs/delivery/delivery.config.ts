// Which deliveries are on, from the same variables the server reads: a URL switches its
// kind on (config.ts already requires the secret with it).
import type { Config } from '../../config';
import type { Logger } from '../../logger';
import type { JobMetrics } from '../job-metrics';
import { webhookNotificationProvider, type NotificationProvider } from './notification.provider';
import { createWebhookSender, type WebhookSender, type WebhookTarget } from './webhook.client';

export interface Deliveries {
  notifications: NotificationProvider | null;
  events: { target: WebhookTarget; sender: WebhookSender } | null;
}

/** Builds the providers and says once in the log what is off. `provider` replaces the built-in webhook one. */
export function deliveriesFromConfig(config: Config, metrics: JobMetrics, log: Logger, provider?: NotificationProvider): Deliveries {
  const w = config.workers;
  const sender = createWebhookSender({ timeoutMs: w.webhookTimeoutMs, metrics });
  let notifications: NotificationProvider | null = provider ?? null;
  if (!notifications && w.notifyWebhookUrl && w.notifyWebhookSecret) {
    notifications = webhookNotificationProvider({ name: 'notify', url: w.notifyWebhookUrl, secret: w.notifyWebhookSecret }, sender);
  }
  const events = w.eventsWebhookUrl && w.eventsWebhookSecret ? { target: { name: 'events', url: w.eventsWebhookUrl, secret: w.eventsWebhookSecret }, sender } : null;
  if (!notifications) log.info('NOTIFY_WEBHOOK_URL not set: notifications are off');
  if (!events) log.info('EVENTS_WEBHOOK_URL not set: outbound event webhooks are off');
  return { notifications, events };
}
