// Process entry: read config → (embedded database if no MONGODB_URI) → createApp → listen → signals.
import { createLogger } from './logger';
import { createApp } from './app';
import { startDevdb, type Devdb } from './data/devdb';
import { exitOnSignals, loadConfigOrExit, runMain } from './process-lifecycle';
import { watchEcsTaskStop } from './cluster/ecs-task-stop';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.logLevel, { nodeId: config.nodeId });

  let devdb: Devdb | null = null;
  if (!config.mongodbUri) {
    log.info({ port: config.devdb.port, dir: config.devdb.dir, backend: config.devdb.backend }, 'MONGODB_URI not set: starting the embedded database');
    devdb = await startDevdb(config.devdb);
  }

  const app = await createApp(config, { log, mongodbUri: devdb?.uri });
  const port = await app.listen();
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  log.info({ port, redis: Boolean(config.redisUrl), database: devdb ? 'embedded' : 'MONGODB_URI' }, 'listening');
  process.stdout.write(`Chat server listening on http://${shownHost}:${port} (Socket.IO and REST; health at /healthz, readiness at /readyz)\n`);
  // pm2 (wait_ready) keeps the old process of a `pm2 reload` running until this arrives.
  process.send?.('ready');

  const shutdown = exitOnSignals(log, config.shutdownGraceMs, async () => {
    await app.close();
    await devdb?.stop();
  });
  if (config.ecs.drainOnTaskStop && config.ecs.metadataUri) {
    watchEcsTaskStop({ metadataUri: config.ecs.metadataUri, log, onStopping: () => shutdown('ECS task stopping') });
  }
}

runMain(main);
