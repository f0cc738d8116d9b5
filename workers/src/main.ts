// Workers process entry: read config → find the database → startWorkers → signals.
// Same variables as the server; REDIS_URL is required (the queues live there).
import net from 'node:net';
import { ConfigError, loadConfig, type Config } from '../../server/src/config';
import { createLogger } from '../../server/src/logger';
import { startWorkers } from './workers';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(`Invalid configuration: ${err.message}`);
    throw err;
  }
  if (!config.redisUrl) {
    fail('REDIS_URL not set: the workers need Redis for their queues. Without REDIS_URL the server runs notifications, webhooks and retention in-process; there is nothing to start.');
  }
  // Zero-config development: the server started the embedded database; use the same one.
  let mongodbUri = config.mongodbUri;
  if (!mongodbUri) {
    if (!(await portAnswers(config.devdb.port))) {
      fail(`MONGODB_URI not set and no embedded database answers on 127.0.0.1:${config.devdb.port}: start the server first (npm start starts it) or set MONGODB_URI.`);
    }
    mongodbUri = `mongodb://127.0.0.1:${config.devdb.port}/chat`;
  }

  const log = createLogger(config.logLevel, { nodeId: config.nodeId, role: 'workers' });
  const workers = await startWorkers(config, { log, mongodbUri });
  process.stdout.write(`Workers running (queues under "${config.workers.queuePrefix}"; metrics on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${workers.metricsPort}/metrics)\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down');
    // Running jobs get the grace period; one still running after it is re-run elsewhere (stall recovery).
    const force = setTimeout(() => {
      log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + 5000);
    force.unref();
    workers.close().then(
      () => process.exit(0),
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
