// Zero-config mode (no REDIS_URL): the server runs the job handlers itself, in memory,
// with the same attempts and backoff as the workers process. Built by
// server/src/jobs/domain-events.ts; there is no separate process to start.
import type { Connection } from 'mongoose';
import type { Registry } from 'prom-client';
import type { Config } from '../config';
import { defineModels } from '../data/models';
import { createRepositories } from '../data/repositories';
import type { Logger } from '../logger';
import type { DocLock } from '../data/doc-lock';
import type { MessageUpdatesChannel } from '../data/message-updates.channel';
import { memoryDeliveryLedger } from './delivery/delivery.ledger';
import { deliveriesFromConfig } from './delivery/delivery.config';
import type { NotificationProvider } from './delivery/notification.provider';
import { createJobHandlers } from './handlers';
import { createJobMetrics } from './job-metrics';
import type { PresenceReader } from './notifications/recipients';
import { createInProcessRuntime, type InProcessRuntime } from './runtime/in-process.runtime';

export interface InProcessJobsDeps {
  config: Config;
  log: Logger;
  db: Connection;
  /** The server's registry: job metrics appear on its /metrics. */
  registry: Registry;
  /** The server's own presence store: in one process it is the whole truth. */
  presence: PresenceReader;
  provider?: NotificationProvider;
  /** The server's own: purges announce to this process and lock like its edits. */
  messageUpdates?: Pick<MessageUpdatesChannel, 'publish'>;
  docLock?: DocLock;
}

export function startInProcessJobs(deps: InProcessJobsDeps): InProcessRuntime {
  const log = deps.log.child({ component: 'jobs' });
  // Same schema objects as the server's: mongoose returns the models already compiled on this connection.
  const repos = createRepositories(defineModels(deps.db));
  let runtime: InProcessRuntime | null = null;
  const metrics = createJobMetrics(deps.registry, async () => runtime!.depth());
  runtime = createInProcessRuntime({ config: deps.config, log, metrics });
  const deliveries = deliveriesFromConfig(deps.config, metrics, log, deps.provider);
  const handlers = createJobHandlers({
    config: deps.config,
    repos,
    presence: deps.presence,
    sink: runtime,
    ledger: memoryDeliveryLedger(),
    metrics,
    ...deliveries,
    messageUpdates: deps.messageUpdates,
    docLock: deps.docLock,
  });
  runtime.start(handlers);
  log.info('REDIS_URL not set: jobs run in-process (in memory; lost on restart)');
  return runtime;
}
