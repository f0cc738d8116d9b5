// `npm run admin -- <command> <userId>`: operator controls (suspend, lift, status,
// purge-messages; see admin.command.ts). Same variables as the server (REDIS_URL, REDIS_KEY_PREFIX, QUEUE_PREFIX).
import { runAdminCommand } from './admin.command';

runAdminCommand(process.argv.slice(2), process.env, { out: (l) => console.log(l), err: (l) => console.error(l) }).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`admin: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
