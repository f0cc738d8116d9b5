// The machinery around the handlers: the in-process runtime's retries and dead letters,
// the producer's outbox, and the webhook client's idea of success and timeout.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config';
import { createOutboxEnqueuer } from '../../server/src/jobs/enqueue-outbox';
import type { DomainEvent } from '../../server/src/jobs/queues';
import { createLogger } from '../../server/src/logger';
import { createWebhookSender, signWebhook, WebhookError } from '../../server/src/jobs/delivery/webhook.client';
import { createJobMetrics } from '../../server/src/jobs/job-metrics';
import { PermanentJobError, type JobHandlers } from '../../server/src/jobs/runtime/job';
import { createInProcessRuntime } from '../../server/src/jobs/runtime/in-process.runtime';

const log = createLogger('silent');
const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), DATA_DIR: '.data/test', WEBHOOK_BACKOFF_MS: '20', WEBHOOK_MAX_ATTEMPTS: '4' });
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function handlers(notifications: JobHandlers['notifications']): JobHandlers {
  const idle = async () => 'nothing_to_do';
  return { 'domain-events': idle, notifications, webhooks: idle, retention: idle };
}

const job = (id: string) => ({ id, data: { id, messageId: 'm', roomId: 'r', seq: 1, userId: id, reason: 'offline' as const, createdAt: '', messageCreatedAt: '' } });

describe('in-process runtime', () => {
  it('retries with growing delays until success, then forgets the job', async () => {
    const runtime = createInProcessRuntime({ config, log, metrics: createJobMetrics(new Registry()) });
    const at: number[] = [];
    runtime.start(
      handlers(async () => {
        at.push(Date.now());
        if (at.length < 4) throw new Error('not yet');
        return 'delivered';
      }),
    );
    await runtime.add('notifications', [job('a')]);
    await runtime.idle();
    expect(at).toHaveLength(4);
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    expect(gaps[0]).toBeGreaterThanOrEqual(9);
    expect(gaps[2]).toBeGreaterThanOrEqual(39);
    expect(gaps[2]).toBeGreaterThan(gaps[0]);
    expect(runtime.depth().notifications).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0 });
    await runtime.close();
  });

  it('dead-letters after the last attempt, or at once for a permanent error; never queues an id twice', async () => {
    const runtime = createInProcessRuntime({ config, log, metrics: createJobMetrics(new Registry()) });
    const runs: Record<string, number> = {};
    runtime.start(
      handlers(async (data) => {
        runs[data.id] = (runs[data.id] ?? 0) + 1;
        if (data.id === 'bad') throw new PermanentJobError('malformed');
        throw new Error('receiver down');
      }),
    );
    await runtime.add('notifications', [job('down'), job('down'), job('bad')]);
    await runtime.add('notifications', [job('down')]);
    await runtime.idle();
    expect(runs).toEqual({ down: 4, bad: 1 });
    expect(runtime.deadLetters().map((d) => [d.id, d.attempts, d.error])).toEqual([
      ['bad', 1, 'malformed'],
      ['down', 4, 'receiver down'],
    ]);
    expect(runtime.depth().notifications.failed).toBe(2);
    await runtime.close();
  });
});

describe('enqueue outbox', () => {
  const event = (id: string): DomainEvent => ({ id, type: 'room.member_joined', createdAt: '', data: { roomId: 'r', userId: 'u' } });

  it('never fails the caller; holds events while Redis is away and adds them in order later', async () => {
    let down = true;
    const added: string[] = [];
    const outbox = createOutboxEnqueuer({
      add: async (e) => {
        if (down) throw new Error('Connection is closed');
        added.push(e.id);
      },
      log,
      registry: new Registry(),
      retryMs: 20,
    });
    await outbox.enqueue(event('e1'));
    await outbox.enqueue(event('e2'));
    expect(outbox.pending()).toBe(2);
    down = false;
    await outbox.enqueue(event('e3'));
    for (let i = 0; i < 50 && outbox.pending() > 0; i++) await sleep(10);
    expect(added).toEqual(['e1', 'e2', 'e3']);
    await outbox.enqueue(event('e4'));
    expect(added).toEqual(['e1', 'e2', 'e3', 'e4']);
    await outbox.close();
  });

  it('is bounded: the oldest event is dropped when full', async () => {
    const outbox = createOutboxEnqueuer({ add: async () => Promise.reject(new Error('down')), log, registry: new Registry(), limit: 2, retryMs: 10_000 });
    for (const id of ['e1', 'e2', 'e3']) await outbox.enqueue(event(id));
    expect(outbox.pending()).toBe(2);
    await outbox.close();
  });
});

describe('webhook client', () => {
  let server: http.Server;
  let url: string;
  const seen: http.IncomingHttpHeaders[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      const path = req.url ?? '';
      if (path === '/hang') return; // never answers
      if (path === '/redirect') return void res.writeHead(302, { location: '/ok' }).end();
      if (path === '/fail') return void res.writeHead(500).end();
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const sender = createWebhookSender({ timeoutMs: 200, metrics: createJobMetrics(new Registry()) });
  const envelope = { id: 'evt_1', type: 'message.created', createdAt: '2024-01-01T00:00:00.000Z', data: { x: 1 } };
  const outcome = (p: Promise<void>) => p.then(() => 'ok', (e: WebhookError) => e.outcome);

  it('posts the signed envelope; only a 2xx is success', async () => {
    expect(await outcome(sender.send({ name: 'events', url: `${url}/ok`, secret: 's'.repeat(16) }, envelope))).toBe('ok');
    const h = seen[seen.length - 1];
    expect(h['x-webhook-id']).toBe('evt_1');
    expect(h['content-type']).toBe('application/json');
    expect(h['x-webhook-signature']).toBe(signWebhook('s'.repeat(16), Number(h['x-webhook-timestamp']), JSON.stringify(envelope)));
    expect(await outcome(sender.send({ name: 'events', url: `${url}/fail`, secret: 's'.repeat(16) }, envelope))).toBe('500');
    expect(await outcome(sender.send({ name: 'events', url: `${url}/redirect`, secret: 's'.repeat(16) }, envelope))).toBe('302');
  });

  it('gives up on a receiver that does not answer within the timeout, or cannot be reached', async () => {
    const started = Date.now();
    expect(await outcome(sender.send({ name: 'events', url: `${url}/hang`, secret: 's'.repeat(16) }, envelope))).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await outcome(sender.send({ name: 'events', url: 'http://127.0.0.1:1/x', secret: 's'.repeat(16) }, envelope))).toBe('network');
  });
});
