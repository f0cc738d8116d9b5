// Process entry: read config → (embedded database if no MONGODB_URI) → createApp → listen → signals.
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger } from './logger';
import { createApp } from './app';
import { startDevdb, type Devdb } from './data/devdb';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Invalid configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
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

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down');
    // Force-quit a little after the grace period if something hangs.
    const force = setTimeout(() => {
      log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + 5000);
    force.unref();
    void app
      .close()
      .then(() => devdb?.stop())
      .then(
        () => {
          log.flush?.();
          process.exit(0);
        },
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`Fatal: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
