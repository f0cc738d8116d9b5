// The operator CLI as a function (argv and environment in, exit code out), so tests can run it
// in-process; admin.ts is the process wrapper. Suspensions and purges need Redis: that is
// where every node hears of a suspension, and where the workers take their jobs from (a single
// node without Redis is operated through its OPERATOR_TOKEN routes instead).
import os from 'node:os';
import { ConfigError, loadConfig } from '../../../server/src/config';
import { userBlockTarget } from '../../../server/src/contracts/schemas/user.schemas';
import { createRedis, redisReady } from '../../../server/src/data/redis';
import { createRevocation } from '../../../server/src/data/revocation.store';
import { createOperatorService } from '../../../server/src/domain/admin/operator.service';
import { AppError } from '../../../server/src/errors';
import { purgeJobId, QUEUES } from '../../../server/src/jobs/queues';
import { createLogger } from '../../../server/src/logger';
import { openQueues } from '../runtime/bullmq.runtime';
import type { Output } from './jobs.command';

export const ADMIN_USAGE = `usage: npm run admin -- <command> <userId>
  suspend <userId>          refuse the user's tokens and logins on every node, disconnect its sockets, until lifted
  lift <userId>             lift a suspension (tokens not otherwise revoked work again)
  status <userId>           whether the user is suspended
  purge-messages <userId>   soft-delete every message the user sent (queued for the workers)`;

const COMMANDS = ['suspend', 'lift', 'status', 'purge-messages'];

/** Runs one command; resolves the exit code (0 ok, 1 failed, 2 usage). */
export async function runAdminCommand(argv: string[], env: NodeJS.ProcessEnv, io: Output): Promise<number> {
  const [command, userIdArg, ...rest] = argv;
  const usage = (message: string) => {
    if (message) io.err(message);
    io.err(ADMIN_USAGE);
    return 2;
  };
  if (!command || command === '--help' || !COMMANDS.includes(command)) return usage(command && command !== '--help' ? `unknown command "${command}"` : '');
  if (rest.length > 0) return usage(`unexpected arguments: ${rest.join(' ')}`);
  let userId: string;
  try {
    userId = userBlockTarget({ userId: userIdArg }).userId;
  } catch (err) {
    if (err instanceof AppError) return usage('a user id (1 to 128 characters) is required');
    throw err;
  }
  let config;
  try {
    config = loadConfig(env, 'cli');
  } catch (err) {
    if (err instanceof ConfigError) return usage(`Invalid configuration: ${err.message}`);
    throw err;
  }
  if (!config.redisUrl) {
    io.err('REDIS_URL not set: without Redis use the operator routes of the node (OPERATOR_TOKEN, docs/operations.md).');
    return 1;
  }
  const log = createLogger('silent');
  const redis = createRedis(config.redisUrl, log, 'admin-cli');
  // The same key prefix as the API's revocation store (server/src/app.ts).
  const revocation = createRevocation({ redis, log, keyPrefix: `${config.redisKeyPrefix}chat:revoked` });
  const queues = openQueues(redis, config, log);
  const by = `cli:${os.userInfo().username}`;
  try {
    await redisReady(redis).catch(() => {
      throw new Error(`Redis did not answer at ${config.redisUrl}`);
    });
    const operator = createOperatorService({
      suspensions: revocation,
      purges: {
        async enqueuePurge(job) {
          const id = purgeJobId(job);
          await queues[QUEUES.retention].add('purge-user-messages', job, { jobId: id });
          return id;
        },
      },
      log,
    });
    if (command === 'status') {
      // Reads every stored suspension (and revocation) once.
      await revocation.start();
      io.out(JSON.stringify(operator.status(userId)));
    } else if (command === 'suspend') {
      io.out(JSON.stringify(await operator.suspend(userId, by)));
    } else if (command === 'lift') {
      io.out(JSON.stringify(await operator.lift(userId, by)));
    } else {
      io.out(JSON.stringify(await operator.purgeMessages(userId, by)));
    }
    return 0;
  } catch (err) {
    io.err(`admin: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await revocation.close();
    await Promise.all(Object.values(queues).map((q) => q.close().catch(() => undefined)));
    await redis.quit().catch(() => redis.disconnect());
  }
}
