// Workers process entry: read config → find the database → startWorkers → signals.
// Same variables as the server; REDIS_URL is required (the queues live there).
import { portAnswers } from '../../server/src/data/devdb';
import { createLogger } from '../../server/src/logger';
import { exitOnSignals, fail, loadConfigOrExit, runMain } from '../../server/src/process-lifecycle';
import { startWorkers } from './workers';

async function main(): Promise<void> {
  const config = loadConfigOrExit('workers');
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

  // Running jobs get the grace period; one still running after it is re-run elsewhere (stall recovery).
  exitOnSignals(log, config.shutdownGraceMs, () => workers.close());
}

runMain(main);
