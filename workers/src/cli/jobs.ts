// `npm run jobs -- <command>`: inspect queues and re-drive dead letters (see
// jobs.command.ts for the commands). Same variables as the server (REDIS_URL, QUEUE_PREFIX).
import { runJobsCommand } from './jobs.command';

runJobsCommand(process.argv.slice(2), process.env, { out: (l) => console.log(l), err: (l) => console.error(l) }).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`jobs: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
