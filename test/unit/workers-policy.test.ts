// The pure parts of the workers: backoff, signatures, ids, mentions, the delivery
// ledger, recipients and the notification job's decisions (with fakes for storage).
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { MessageDto } from '../../server/src/contracts/dto';
import type { Repositories } from '../../server/src/data/repositories';
import { ConfigError, loadConfig } from '../../server/src/config';
import { createLogger } from '../../server/src/logger';
import { freshEventId, messageCreatedEventId, notificationId, retryDelayMs, type NotificationJob } from '../../server/src/jobs/queues';
import { memoryDeliveryLedger } from '../../server/src/jobs/delivery/delivery.ledger';
import type { Notification } from '../../server/src/jobs/delivery/notification.provider';
import { signWebhook } from '../../server/src/jobs/delivery/webhook.client';
import { deliverNotificationJob } from '../../server/src/jobs/handlers/deliver-notification.job';
import { createJobMetrics } from '../../server/src/jobs/job-metrics';
import { mentionedUsernameKeys } from '../../server/src/jobs/notifications/mentions';
import { notificationRecipients } from '../../server/src/jobs/notifications/recipients';

const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), DATA_DIR: '.data/test', NOTIFY_WEBHOOK_URL: 'http://127.0.0.1:1/x', NOTIFY_WEBHOOK_SECRET: 'notify-secret-0123456789' });
const log = createLogger('silent');

describe('workers configuration', () => {
  const base = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), DATA_DIR: '.data/test' } as const;

  it('has defaults for the queue prefix, the metrics port and the lock', () => {
    const c = loadConfig({ ...base });
    expect(c.workers).toMatchObject({ queuePrefix: 'chat-jobs', metricsPort: 9464, lockMs: 30000, webhookTimeoutMs: 5000, webhookMaxAttempts: 8 });
    expect(loadConfig({ ...base, QUEUE_PREFIX: 't-1.a_b', WORKERS_METRICS_PORT: '0', WORKER_LOCK_MS: '1000' }).workers).toMatchObject({ queuePrefix: 't-1.a_b', metricsPort: 0, lockMs: 1000 });
  });

  it.each([
    ['QUEUE_PREFIX', 'has:colon'],
    ['QUEUE_PREFIX', 'has space'],
    ['WORKERS_METRICS_PORT', '70000'],
    ['WORKER_LOCK_MS', '10'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(new RegExp(`^${name}`));
  });
});

describe('retry policy', () => {
  it('grows exponentially with equal jitter: every delay is at least the previous one', () => {
    for (let n = 1; n <= 8; n++) {
      const low = retryDelayMs(n, 1000, () => 0);
      const high = retryDelayMs(n, 1000, () => 0.999999);
      expect(low).toBe(500 * 2 ** (n - 1));
      expect(high).toBe(1000 * 2 ** (n - 1));
      if (n > 1) expect(low).toBeGreaterThanOrEqual(retryDelayMs(n - 1, 1000, () => 0.999999));
    }
  });

  it('spreads retries of many jobs and caps at an hour', () => {
    const samples = new Set(Array.from({ length: 50 }, () => retryDelayMs(3, 1000)));
    expect(samples.size).toBeGreaterThan(10);
    // docs/workers.md: "capped at an hour", with equal jitter (half fixed, half random).
    const HOUR = 60 * 60 * 1000;
    expect(retryDelayMs(40, 1000, () => 0)).toBe(HOUR / 2);
    expect(retryDelayMs(40, 1000, () => 0.999999)).toBeLessThanOrEqual(HOUR);
    expect(retryDelayMs(40, 1000, () => 0.999999)).toBeGreaterThan(HOUR * 0.99);
  });
});

describe('signatures and ids', () => {
  it('signs "<timestamp>.<raw body>" with HMAC-SHA256 (checked against openssl)', () => {
    expect(signWebhook('notify-secret-0123456789', 1700000000, '{"a":1}')).toBe('sha256=85457db92d28ff33656f016dc4b044c8afa9652468d8e46624713cc5f64a7bf9');
  });

  it('derives stable, BullMQ-safe ids', () => {
    expect(notificationId('m1', 'u1')).toBe(notificationId('m1', 'u1'));
    expect(notificationId('m1', 'u1')).not.toBe(notificationId('m1', 'u2'));
    expect(notificationId('m1', 'u1')).toMatch(/^ntf_[0-9a-f]{32}$/);
    expect(messageCreatedEventId('m1')).toBe(messageCreatedEventId('m1'));
    expect(messageCreatedEventId('m1')).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(freshEventId()).not.toBe(freshEventId());
  });
});

describe('mentions', () => {
  it('finds @usernames, case-insensitively, and sentence punctuation does not hide them', () => {
    expect(mentionedUsernameKeys('hi @Alice and @bob.smith, thanks @carol.')).toEqual(['alice', 'bob.smith', 'carol.', 'carol']);
    expect(mentionedUsernameKeys('(@dave) @eve!')).toEqual(['dave', 'eve']);
  });

  it('ignores e-mail addresses, too-short names and a lone @', () => {
    expect(mentionedUsernameKeys('mail bob@example.com or @ab or @ or @@frank')).toEqual([]);
  });
});

describe('delivery ledger (memory)', () => {
  it('claims once, refuses a concurrent run, remembers deliveries, frees released or expired claims', async () => {
    let now = 0;
    const ledger = memoryDeliveryLedger(() => now);
    const a = await ledger.claim('n1', 1000);
    expect(a.state).toBe('claimed');
    expect((await ledger.claim('n1', 1000)).state).toBe('busy');
    await ledger.release('n1', 'not-the-token');
    expect((await ledger.claim('n1', 1000)).state).toBe('busy');
    await ledger.release('n1', (a as { token: string }).token);
    const b = await ledger.claim('n1', 1000);
    expect(b.state).toBe('claimed');
    now += 1001;
    expect((await ledger.claim('n1', 1000)).state).toBe('claimed');
    await ledger.delivered('n1');
    expect((await ledger.claim('n1', 1000)).state).toBe('delivered');
  });
});

// ---------------------------------------------------------------- with fake storage

function message(over: Partial<MessageDto> = {}): MessageDto {
  return {
    id: 'm1',
    roomId: 'r1',
    seq: 5,
    senderId: 'alice',
    clientMsgId: 'c1',
    text: 'hello',
    replyTo: null,
    createdAt: new Date().toISOString(),
    editedAt: null,
    deletedAt: null,
    reactions: {},
    ...over,
  };
}

function fakeRepos(state: { members: Record<string, number>; usernames?: Record<string, string>; message?: MessageDto | null }): Repositories {
  return {
    memberships: {
      userIdsOf: async () => Object.keys(state.members),
      get: async (roomId: string, userId: string) => (userId in state.members ? { _id: `${roomId}:${userId}`, roomId, userId, role: 'member', joinedAt: new Date(), lastReadSeq: state.members[userId] } : null),
    },
    users: {
      findByUsernameKey: async (key: string) => (state.usernames?.[key] ? { _id: state.usernames[key] } : null),
    },
    messages: {
      findById: async () => (state.message === undefined ? { ...message(), _id: 'm1', createdAt: new Date(), editedAt: null, deletedAt: null } : state.message && { ...state.message, _id: state.message.id }),
    },
  } as unknown as Repositories;
}

describe('recipients', () => {
  const presence = (online: string[]) => ({ onlineOf: async (ids: string[]) => new Set(ids.filter((id) => online.includes(id))) });

  it('mentioned members (online or not) and offline members; never the sender or non-members', async () => {
    const repos = fakeRepos({ members: { alice: 5, bob: 0, carol: 0, dave: 0 }, usernames: { dave: 'dave', zed: 'zed', alice: 'alice' } });
    const got = await notificationRecipients({ repos, presence: presence(['carol', 'dave']) }, message({ text: 'hey @dave @zed @alice' }));
    expect(got).toEqual([
      { userId: 'dave', reason: 'mention' },
      { userId: 'bob', reason: 'offline' },
    ]);
  });

  it('nobody for a deleted message', async () => {
    const repos = fakeRepos({ members: { alice: 5, bob: 0 } });
    expect(await notificationRecipients({ repos, presence: presence([]) }, message({ deletedAt: new Date().toISOString(), text: '' }))).toEqual([]);
  });
});

describe('the notification job', () => {
  const job: NotificationJob = { id: 'ntf_1', messageId: 'm1', roomId: 'r1', seq: 5, userId: 'bob', reason: 'offline', createdAt: new Date().toISOString(), messageCreatedAt: new Date().toISOString() };
  const ctx = { id: job.id, queue: 'notifications' as const, attempt: 1, maxAttempts: 8, log };

  function setup(state: Parameters<typeof fakeRepos>[0], deliver: (n: Notification) => Promise<void> = async () => undefined) {
    const sent: Notification[] = [];
    const ledger = memoryDeliveryLedger();
    const handler = deliverNotificationJob({
      config,
      repos: fakeRepos(state),
      presence: { onlineOf: async () => new Set() },
      sink: { add: async () => undefined },
      ledger,
      metrics: createJobMetrics(new Registry()),
      notifications: {
        name: 'fake',
        deliver: async (n) => {
          await deliver(n);
          sent.push(n);
        },
      },
      events: null,
    });
    return { handler, sent, ledger };
  }

  it('skips a user who read past the seq, left the room, or whose message is gone', async () => {
    expect(await setup({ members: { bob: 5 } }).handler(job, ctx)).toBe('read');
    expect(await setup({ members: { bob: 9 } }).handler(job, ctx)).toBe('read');
    expect(await setup({ members: {} }).handler(job, ctx)).toBe('not_member');
    expect(await setup({ members: { bob: 4 }, message: null }).handler(job, ctx)).toBe('deleted');
    expect(await setup({ members: { bob: 4 }, message: message({ deletedAt: new Date().toISOString() }) }).handler(job, ctx)).toBe('deleted');
  });

  it('delivers once; a failed delivery frees the claim for the retry', async () => {
    let fail = true;
    const { handler, sent } = setup({ members: { bob: 4 } }, async () => {
      if (fail) throw new Error('provider down');
    });
    await expect(handler(job, ctx)).rejects.toThrow('provider down');
    fail = false;
    expect(await handler(job, { ...ctx, attempt: 2 })).toBe('delivered');
    expect(await handler(job, { ...ctx, attempt: 1 })).toBe('duplicate');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toEqual({ id: 'ntf_1', createdAt: job.createdAt, userId: 'bob', reason: 'offline', message: expect.objectContaining({ id: 'm1', seq: 5 }) });
  });
});
