// prom-client registry per app (no global registry, so several apps can share a test process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  connectedSockets: Gauge;
  eventsHandled: Counter<'event' | 'outcome'>;
  ackLatency: Histogram<'event' | 'outcome'>;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  messagesStored: Counter;
  broadcasts: Counter<'event'>;
  /** Database commands sent, by command name: the send path's database budget. */
  dbCommands: Counter<'command'>;
  historyPages: Counter<'source'>;
}

/** Creates the registry with default process metrics plus the socket/event metrics. */
export function createMetrics(labels: Record<string, string> = {}): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    connectedSockets: new Gauge({ name: 'chat_connected_sockets', help: 'Socket.IO sockets connected to this node', registers: [registry] }),
    eventsHandled: new Counter({
      name: 'chat_socket_events_total',
      help: 'Client socket events handled, by event and outcome (ok or error code)',
      labelNames: ['event', 'outcome'],
      registers: [registry],
    }),
    ackLatency: new Histogram({
      name: 'chat_ack_latency_seconds',
      help: 'Time from receiving a socket request to sending its ack',
      labelNames: ['event', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'chat_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    messagesStored: new Counter({ name: 'chat_messages_stored_total', help: 'Messages durably stored by this node', registers: [registry] }),
    broadcasts: new Counter({ name: 'chat_broadcasts_total', help: 'Server-to-client broadcasts emitted by this node', labelNames: ['event'], registers: [registry] }),
    dbCommands: new Counter({ name: 'chat_db_commands_total', help: 'MongoDB commands sent by this node, by command', labelNames: ['command'], registers: [registry] }),
    historyPages: new Counter({
      name: 'chat_history_pages_total',
      help: 'History pages served, by source: cache (newest page from memory), range (one range query) or points (_id lookups)',
      labelNames: ['source'],
      registers: [registry],
    }),
  };
}
