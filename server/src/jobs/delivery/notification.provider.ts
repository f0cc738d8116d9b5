// How a notification leaves the system. The built-in provider is a signed webhook;
// another (APNs, FCM, e-mail) implements the same interface and is passed to the workers.
import type { MessageDto } from '../../contracts/dto';
import type { NotificationReason } from '../queues';
import type { WebhookSender, WebhookTarget } from './webhook.client';

export interface Notification {
  /** Stable across retries and duplicate runs: receivers dedupe on it. */
  id: string;
  createdAt: string;
  userId: string;
  reason: NotificationReason;
  message: MessageDto;
}

export interface NotificationProvider {
  readonly name: string;
  /** Resolves once the provider accepted it; throws to have the delivery retried. */
  deliver(notification: Notification): Promise<void>;
}

/** POSTs `{ id, type: "notification.message", createdAt, data: { userId, reason, message } }`. */
export function webhookNotificationProvider(target: WebhookTarget, sender: WebhookSender): NotificationProvider {
  return {
    name: 'webhook',
    deliver: (n) =>
      sender.send(target, {
        id: n.id,
        type: 'notification.message',
        createdAt: n.createdAt,
        data: { userId: n.userId, reason: n.reason, message: n.message },
      }),
  };
}
