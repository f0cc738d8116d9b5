// The job contract between the producer (this server) and the consumers (workers/):
// queue names, payloads, ids and the retry policy. Both sides import only this file.
import crypto from 'node:crypto';
import type { Config } from '../config';
import type { DomainEvent } from '../domain/events';
import type { PurgeUserMessagesJob } from '../domain/admin/operator.service';

// The envelopes on the events and webhooks queues are the domain events (domain/events.ts).
export type { DomainEvent, DomainEventType } from '../domain/events';

export const QUEUES = {
  /** Written by the send/edit/join/leave paths: one job per domain event. */
  events: 'domain-events',
  /** One job per (message, user) to notify. */
  notifications: 'notifications',
  /** One job per outbound integration event. */
  webhooks: 'webhooks',
  /** Bulk deletes: the scheduled retention sweeps, and operators' purges of a user's messages. */
  retention: 'retention',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];
export const ALL_QUEUES: QueueName[] = Object.values(QUEUES);


export type NotificationReason = 'offline' | 'mention';

export interface NotificationJob {
  /** The notification id (X-Webhook-Id): the same for every run and retry of this (message, user). */
  id: string;
  messageId: string;
  roomId: string;
  seq: number;
  userId: string;
  reason: NotificationReason;
  /** When the notification was decided; the envelope's createdAt. */
  createdAt: string;
  /** The message's createdAt, for the send-to-delivery latency metric. */
  messageCreatedAt: string;
}

/** A retention sweep (the schedule), or an operator's purge of one user's messages. */
export type RetentionJob = Record<string, never> | PurgeUserMessagesJob;

/** The job id of a purge: one queued purge per user and request time. */
export const purgeJobId = (job: PurgeUserMessagesJob): string => `prg_${digest('purge', job.userId, job.requestedAt)}`;

export interface JobPayloads {
  'domain-events': DomainEvent;
  notifications: NotificationJob;
  webhooks: DomainEvent;
  retention: RetentionJob;
}

// Job ids double as delivery ids, so they are derived, never counters. BullMQ refuses
// ':' and pure integers in custom ids; these are `prefix_hex`.
const digest = (...parts: string[]): string => crypto.createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);

/** A message's `message.created` event: one id however many times the send is retried. */
export const messageCreatedEventId = (messageId: string): string => `evt_${digest('message.created', messageId)}`;
/** Every other event happens once per call (an edit, a join), so it gets a fresh id. */
export const freshEventId = (): string => `evt_${crypto.randomBytes(16).toString('hex')}`;
/** At most one notification per (message, user): the id is the dedupe key. */
export const notificationId = (messageId: string, userId: string): string => `ntf_${digest('notification.message', messageId, userId)}`;

/** What is switched on: the server and the workers read the same variables. */
export function jobsEnabled(config: Config): { notifications: boolean; events: boolean } {
  return { notifications: Boolean(config.workers.notifyWebhookUrl), events: Boolean(config.workers.eventsWebhookUrl) };
}

export const MAX_BACKOFF_MS = 60 * 60 * 1000;

/**
 * Delay before the next attempt after `failedAttempts` failures (1-based): exponential
 * with "equal jitter", base·2^(n-1) scaled by [0.5, 1], capped at an hour. Each delay is at
 * least the previous one's maximum half, so delays grow while retries of many jobs spread out.
 */
export function retryDelayMs(failedAttempts: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.round(ceiling * (0.5 + 0.5 * random()));
}

/** The name of the backoff strategy the workers register (BullMQ's `settings.backoffStrategy`). */
export const BACKOFF_TYPE = 'jittered-exponential';

/** How long delivered/dead jobs stay visible: dead letters until re-driven or two weeks old. */
export const KEEP_COMPLETED = { age: 24 * 3600, count: 10_000 };
export const KEEP_FAILED = { age: 14 * 24 * 3600 };

/** BullMQ job options for `queue` (attempts and backoff from config; retention sweeps retry less). */
export function jobOptions(config: Config, queue: QueueName) {
  return {
    attempts: queue === QUEUES.retention ? 3 : config.workers.webhookMaxAttempts,
    backoff: { type: BACKOFF_TYPE },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  };
}

/**
 * How long "this was delivered" is remembered (one small Redis key per delivery).
 * Duplicate runs come from re-run jobs (minutes) and retried sends (the producer does
 * not re-enqueue messages older than this); the receiver still dedupes on the id.
 */
export const LEDGER_TTL_MS = 24 * 3600 * 1000;
