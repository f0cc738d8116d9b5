// Job metrics (attempts, outcomes, dead letters, queue depth, delivery latency) and the
// small HTTP server that exposes them from the workers process.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ALL_QUEUES, type QueueName } from './queues';

export type QueueDepth = Record<QueueName, Record<string, number>>;

export interface JobMetrics {
  processed: Counter<'queue' | 'outcome'>;
  duration: Histogram<'queue'>;
  deadLetters: Counter<'queue'>;
  webhookRequests: Histogram<'target' | 'outcome'>;
  notificationDelay: Histogram<'reason'>;
}

/**
 * Registers the job metrics on `registry`. `depth`, when given, is read at scrape time
 * (BullMQ counts per state, or the in-process runtime's queues).
 */
export function createJobMetrics(registry: Registry, depth?: () => Promise<QueueDepth>): JobMetrics {
  if (depth) {
    new Gauge({
      name: 'chat_jobs_queue_depth',
      help: 'Jobs per queue and state (failed = dead letters)',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect() {
        const counts = await depth().catch(() => null);
        if (!counts) return;
        for (const queue of ALL_QUEUES) {
          for (const [state, n] of Object.entries(counts[queue] ?? {})) this.set({ queue, state }, n);
        }
      },
    });
  }
  return {
    processed: new Counter({
      name: 'chat_jobs_attempts_total',
      help: 'Job attempts by queue and outcome (delivered, skipped reasons, or error)',
      labelNames: ['queue', 'outcome'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'chat_jobs_attempt_seconds',
      help: 'Time one job attempt took',
      labelNames: ['queue'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'chat_jobs_dead_letters_total',
      help: 'Jobs that failed their last attempt (see `npm run jobs -- list-dead`)',
      labelNames: ['queue'],
      registers: [registry],
    }),
    webhookRequests: new Histogram({
      name: 'chat_webhook_request_seconds',
      help: 'Outbound webhook POSTs by target (notify, events) and outcome (2xx, status code, timeout, network)',
      labelNames: ['target', 'outcome'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    notificationDelay: new Histogram({
      name: 'chat_notification_delivery_seconds',
      help: 'From a message being stored to its notification being accepted by the provider',
      labelNames: ['reason'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
      registers: [registry],
    }),
  };
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** Serves GET /metrics (Prometheus text, optional bearer token) and GET /healthz. */
export function serveMetrics(registry: Registry, opts: { host: string; port: number; token: string | null }): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"code":"UNAUTHORIZED","message":"metrics token required"}}');
        return;
      }
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"NOT_FOUND","message":"not found"}}');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections?.();
        }),
      });
    });
  });
}
