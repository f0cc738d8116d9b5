// The jobs CLI as a function (argv and environment in, exit code out), so tests can run
// it in-process; jobs.ts is the process wrapper.
import { ConfigError, loadConfig } from '../../../server/src/config';
import { createRedis, redisReady } from '../../../server/src/data/redis';
import { ALL_QUEUES, type QueueName } from '../../../server/src/jobs/queues';
import { createLogger } from '../../../server/src/logger';
import { listDeadLetters, retryAllDeadLetters, retryDeadLetter } from '../dead-letters';
import { openQueues, queueDepth } from '../runtime/bullmq.runtime';

export const USAGE = `usage: npm run jobs -- <command>
  list-dead [--queue <name>] [--limit <n>] [--json]   dead-lettered jobs, newest first
  retry-dead <id> [--queue <name>]                    put a dead letter back with fresh attempts
  retry-dead --all [--queue <name>]                   re-drive every dead letter
  stats [--json]                                      jobs per queue and state
queues: ${ALL_QUEUES.join(', ')}`;

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

class UsageError extends Error {}

function parse(argv: string[]) {
  const flags: Record<string, string | true> = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) args.push(a);
    else if (['--queue', '--limit'].includes(a)) flags[a.slice(2)] = argv[++i] ?? '';
    else flags[a.slice(2)] = true;
  }
  return { command: args[0], args: args.slice(1), flags };
}

/** Runs one command; resolves the exit code (0 ok, 1 failed or not found, 2 usage). */
export async function runJobsCommand(argv: string[], env: NodeJS.ProcessEnv, io: Output): Promise<number> {
  try {
    return await run(argv, env, io);
  } catch (err) {
    if (err instanceof UsageError) {
      if (err.message) io.err(err.message);
      io.err(USAGE);
      return 2;
    }
    io.err(`jobs: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

async function run(argv: string[], env: NodeJS.ProcessEnv, io: Output): Promise<number> {
  const { command, args, flags } = parse(argv);
  if (!command || flags.help) throw new UsageError('');
  const queue = flags.queue as QueueName | undefined;
  if (queue !== undefined && !ALL_QUEUES.includes(queue)) throw new UsageError(`unknown queue "${String(queue)}"`);
  if (!['list-dead', 'retry-dead', 'stats'].includes(command)) throw new UsageError(`unknown command "${command}"`);
  const limit = flags.limit === undefined ? 100 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
  if (command === 'retry-dead' && !flags.all && !args[0]) throw new UsageError('retry-dead needs a job id (see list-dead) or --all');

  let config;
  try {
    config = loadConfig(env, 'cli');
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`Invalid configuration: ${err.message}`);
    throw err;
  }
  if (!config.redisUrl) {
    io.err('REDIS_URL not set: queues and dead letters exist only with Redis (in zero-config mode the server logs dead letters instead).');
    return 1;
  }
  const log = createLogger('silent');
  const redis = createRedis(config.redisUrl, log, 'jobs-cli');
  try {
    await redisReady(redis).catch(() => {
      throw new Error(`Redis did not answer at ${config.redisUrl}`);
    });
    const queues = openQueues(redis, config, log);
    try {
      if (command === 'list-dead') {
        const dead = await listDeadLetters(queues, { queue, limit });
        if (flags.json) io.out(JSON.stringify(dead, null, 2));
        else if (dead.length === 0) io.out('no dead letters');
        else for (const d of dead) io.out([d.queue, d.id, `attempts=${d.attempts}`, d.failedAt ?? '-', d.summary, `reason="${d.reason}"`].filter(Boolean).join('  '));
        return 0;
      }
      if (command === 'retry-dead') {
        if (flags.all) {
          io.out(`re-driven: ${await retryAllDeadLetters(queues, { queue })}`);
          return 0;
        }
        const done = await retryDeadLetter(queues, args[0], { queue });
        if (done.length === 0) {
          io.err(`no dead letter with id ${args[0]}`);
          return 1;
        }
        for (const d of done) io.out(`re-driven: ${d.queue} ${d.id}`);
        return 0;
      }
      const depth = await queueDepth(queues);
      if (flags.json) io.out(JSON.stringify(depth, null, 2));
      else for (const q of ALL_QUEUES) io.out(`${q.padEnd(14)} ${Object.entries(depth[q]).map(([s, n]) => `${s}=${n}`).join(' ')}`);
      return 0;
    } finally {
      await Promise.all(Object.values(queues).map((q) => q.close().catch(() => undefined)));
    }
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}
