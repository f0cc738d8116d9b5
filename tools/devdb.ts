// `npm run devdb`: builds (if needed) and runs the embedded database in the foreground.
import path from 'node:path';
import { startDevdb } from '../server/src/data/devdb';

const port = Number(process.env.DEVDB_PORT ?? 27017);
const dir = path.resolve(process.env.DEVDB_DIR ?? '.data/devdb');
const backend = process.env.DEVDB_BACKEND === 'postgresql' ? 'postgresql' : 'sqlite';

startDevdb({ port, dir, backend, postgresqlUrl: process.env.DEVDB_POSTGRESQL_URL ?? null })
  .then((db) => {
    process.stdout.write(`devdb: ${db.uri} (backend ${backend}${backend === 'sqlite' ? `, data in ${dir}` : ''}); Ctrl-C stops it\n`);
    const stop = () => void db.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    db.process.once('exit', (code) => process.exit(code ?? 1));
  })
  .catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
