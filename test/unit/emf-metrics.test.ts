// The CloudWatch embedded-metric-format lines that ECS autoscaling and the alarms read.
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../server/src/http/metrics';
import { API_EMF_SOURCES, intervalP99, startEmfPublisher, WORKER_EMF_SOURCES } from '../../server/src/http/emf-metrics';
import { createJobMetrics } from '../../server/src/jobs/job-metrics';

describe('EMF publisher', () => {
  it('writes one EMF document per interval: gauges as is, counters and latency over the interval', async () => {
    const metrics = createMetrics({ node: 'n1' });
    metrics.messagesStored.inc(5); // before the publisher starts: not this interval's
    const lines: string[] = [];
    const emf = await startEmfPublisher(metrics.registry, API_EMF_SOURCES, { namespace: 'Chat', service: 'chat-api', intervalMs: 0, write: (l) => lines.push(l), now: () => 1_700_000_000_000 });
    try {
      metrics.connectedSockets.set(42);
      metrics.messagesStored.inc(3);
      for (let i = 0; i < 99; i++) metrics.ackLatency.observe({ event: 'message:send', outcome: 'ok' }, 0.004);
      metrics.ackLatency.observe({ event: 'message:send', outcome: 'ok' }, 0.2);
      metrics.ackLatency.observe({ event: 'message:history', outcome: 'ok' }, 2); // another event: not in SendAckLatencyP99
      // Block the event loop once for 60 ms: the interval's loop-delay p99 must show it.
      await new Promise((r) => setTimeout(r, 30));
      const until = Date.now() + 60;
      while (Date.now() < until) { /* busy */ }
      await new Promise((r) => setTimeout(r, 30));
      const doc = JSON.parse(await emf.publish());
      expect(lines).toHaveLength(1);
      expect(doc._aws).toEqual({
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [{
          Namespace: 'Chat',
          Dimensions: [['Service']],
          Metrics: [
            { Name: 'ConnectedSockets', Unit: 'Count' },
            { Name: 'SendAckLatencyP99', Unit: 'Milliseconds' },
            { Name: 'MessagesStored', Unit: 'Count' },
            { Name: 'EventLoopDelayP99', Unit: 'Milliseconds' },
          ],
        }],
      });
      expect(doc).toMatchObject({ Service: 'chat-api', ConnectedSockets: 42, MessagesStored: 3 });
      // 99 of 100 samples in the (2.5 ms, 5 ms] bucket: p99 is that bucket's upper bound.
      expect(doc.SendAckLatencyP99).toBe(5);
      expect(doc.EventLoopDelayP99).toBeGreaterThanOrEqual(50);
      // The overload counter does not exist yet: the metric is left out, not published as 0.
      expect(doc).not.toHaveProperty('ShedRequests');

      metrics.messagesStored.inc(2);
      const next = JSON.parse(await emf.publish());
      expect(next.MessagesStored).toBe(2);
      expect(next).not.toHaveProperty('SendAckLatencyP99'); // no sends this interval
    } finally {
      emf.stop();
    }
  });

  it('publishes ShedRequests once a chat_shed_requests_total counter exists', async () => {
    const metrics = createMetrics();
    const shed = new Counter({ name: 'chat_shed_requests_total', help: 'shed', labelNames: ['reason'], registers: [metrics.registry] });
    const emf = await startEmfPublisher(metrics.registry, API_EMF_SOURCES, { namespace: 'Chat', service: 'chat-api', intervalMs: 0, write: () => undefined });
    try {
      shed.inc({ reason: 'event-loop' }, 4);
      shed.inc({ reason: 'connections' }, 1);
      expect(JSON.parse(await emf.publish()).ShedRequests).toBe(5);
    } finally {
      emf.stop();
    }
  });

  it('publishes the workers backlog (waiting and prioritized jobs) and dead letters', async () => {
    const registry = new Registry();
    const jobs = createJobMetrics(registry, async () => ({
      notifications: { waiting: 7, active: 3, delayed: 50, failed: 2 },
      webhooks: { waiting: 1, prioritized: 2 },
    }) as never);
    const emf = await startEmfPublisher(registry, WORKER_EMF_SOURCES, { namespace: 'Chat', service: 'chat-workers', intervalMs: 0, write: () => undefined });
    try {
      jobs.deadLetters.inc({ queue: 'webhooks' });
      const doc = JSON.parse(await emf.publish());
      expect(doc).toMatchObject({ Service: 'chat-workers', QueueBacklog: 10, DeadLetters: 1 });
    } finally {
      emf.stop();
    }
  });

  it('interpolates the 99th percentile inside its bucket, over the interval only', () => {
    const cum = (pairs: Array<[number, number]>) => new Map(pairs);
    expect(intervalP99(cum([[0.01, 0], [0.1, 100], [Infinity, 100]]), undefined)).toBe(99.1);
    expect(intervalP99(cum([[0.01, 50], [0.1, 50], [Infinity, 150]]), cum([[0.01, 50], [0.1, 50], [Infinity, 50]]))).toBe(100);
    expect(intervalP99(cum([[0.01, 5], [Infinity, 5]]), cum([[0.01, 5], [Infinity, 5]]))).toBeNull();
  });
});
