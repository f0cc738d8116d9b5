// Per-command cost of the embedded database (tools/devdb), measured with the
// MongoDB driver: _id lookups and updates, inserts, and a history page of 51
// _id point lookups, at the given collection sizes; then insertOne throughput
// with 1 and 8 writes in flight (the medianMs column holds inserts/s there).
//
//   npx tsx loadtests/devdb-ops.ts [--docs 20000,100000] [--backend sqlite|postgresql]
//                                   [--uri mongodb://127.0.0.1:PORT] [--iterations 200] [--pages 20]
//
// Without --uri it starts its own devdb (fresh data directory, or a fresh
// PostgreSQL database for --backend postgresql) on a free port and stops it at
// the end. With --uri it uses that server and a fresh database on it (dropped
// at the end). Prints one table per collection size; --json PATH writes them.
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient, type Collection } from 'mongodb';
import { startDevdb, type Devdb } from '../server/src/data/devdb';
import { freePort } from '../test/helpers/ports';

interface Doc {
  _id: string;
  roomId: string;
  seq: number;
  senderId: string;
  text: string;
  createdAt: Date;
  editedAt: Date | null;
}

interface Options {
  docs: number[];
  backend: 'sqlite' | 'postgresql';
  uri: string | null;
  iterations: number;
  pages: number;
  json: string | null;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { docs: [20_000, 100_000], backend: 'sqlite', uri: null, iterations: 200, pages: 20, json: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--docs') opts.docs = value.split(',').map(Number);
    else if (flag === '--backend' && (value === 'sqlite' || value === 'postgresql')) opts.backend = value;
    else if (flag === '--uri') opts.uri = value;
    else if (flag === '--iterations') opts.iterations = Number(value);
    else if (flag === '--pages') opts.pages = Number(value);
    else if (flag === '--json') opts.json = value;
    else throw new Error(`unknown option ${flag} ${value}`);
  }
  if (opts.docs.some((n) => !Number.isInteger(n) || n < 100)) throw new Error('--docs takes integers >= 100');
  if (!Number.isInteger(opts.iterations) || opts.iterations < 10) throw new Error('--iterations takes an integer >= 10');
  if (!Number.isInteger(opts.pages) || opts.pages < 1) throw new Error('--pages takes an integer >= 1');
  return opts;
}

const ROOMS = 100;
const TEXT = 'x'.repeat(64);

function makeDoc(i: number): Doc {
  const roomId = `room${i % ROOMS}`;
  const seq = Math.floor(i / ROOMS) + 1;
  return { _id: `${roomId}:${seq}`, roomId, seq, senderId: `u${i % 1000}`, text: TEXT, createdAt: new Date(), editedAt: null };
}

async function seed(coll: Collection<Doc>, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 1000) {
    const docs: Doc[] = [];
    for (let j = i; j < Math.min(to, i + 1000); j++) docs.push(makeDoc(j));
    await coll.insertMany(docs, { ordered: false });
  }
}

interface Stat {
  op: string;
  n: number;
  medianMs: number;
  p95Ms: number;
  meanMs: number;
}

async function time(op: string, n: number, fn: (i: number) => Promise<unknown>): Promise<Stat> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  samples.sort((a, b) => a - b);
  process.stderr.write(`  ${op}: median ${samples[Math.floor(samples.length / 2)].toFixed(2)} ms (${n} runs)\n`);
  const pick = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  const round = (x: number) => Math.round(x * 100) / 100;
  return { op, n, medianMs: round(pick(0.5)), p95Ms: round(pick(0.95)), meanMs: round(samples.reduce((a, b) => a + b, 0) / n) };
}

/** insertOne for THROUGHPUT_SECONDS with `inFlight` outstanding: writes/s, as meanMs = 1000 / rate. */
const THROUGHPUT_SECONDS = 6;
async function throughput(coll: Collection<Doc>, inFlight: number, fresh: () => Doc): Promise<Stat> {
  let n = 0;
  const t0 = Date.now();
  const end = t0 + THROUGHPUT_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (Date.now() < end) {
        await coll.insertOne(fresh());
        n++;
      }
    }),
  );
  const rate = n / ((Date.now() - t0) / 1000);
  const op = `insertOne/s, ${inFlight} in flight`;
  process.stderr.write(`  ${op}: ${rate.toFixed(0)}\n`);
  return { op, n, medianMs: Math.round(rate), p95Ms: NaN, meanMs: Math.round((1000 / rate) * 100) / 100 };
}

async function measure(coll: Collection<Doc>, total: number, iterations: number, pages: number): Promise<Stat[]> {
  const randomId = () => makeDoc(crypto.randomInt(total))._id;
  let extra = 0;
  const fresh = () => ({ ...makeDoc(total + extra), _id: `bench:${extra++}` });
  const page = (i: number) => {
    const roomId = `room${i % ROOMS}`;
    const top = Math.floor(total / ROOMS) - (i % 5) * 51;
    return Array.from({ length: 51 }, (_, k) => `${roomId}:${top - k}`);
  };
  const stats: Stat[] = [
    await time('findOne by _id', iterations, () => coll.findOne({ _id: randomId() })),
    await time('updateOne by _id', iterations, () => coll.updateOne({ _id: randomId() }, { $set: { editedAt: new Date() } })),
    await time('insertOne', iterations, () => coll.insertOne(fresh())),
    await time('insertMany of 20', Math.max(10, Math.floor(iterations / 4)), () =>
      coll.insertMany(Array.from({ length: 20 }, fresh), { ordered: true }),
    ),
    await time('page of 51 _id lookups, sequential', pages, async (i) => {
      for (const id of page(i)) await coll.findOne({ _id: id });
    }),
    await time('page of 51 _id lookups, concurrent', pages, (i) => Promise.all(page(i).map((id) => coll.findOne({ _id: id })))),
  ];
  stats.push(await throughput(coll, 1, fresh), await throughput(coll, 8, fresh));
  // The added documents leave the count as it was for the next size.
  await coll.deleteMany({ _id: { $regex: /^bench:/ } });
  return stats;
}

/** The shared PostgreSQL server (trust auth); the benchmark uses its own database there. */
function psql(sql: string): void {
  const res = spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql], { stdio: 'inherit' });
  if (res.status !== 0) throw new Error(`psql failed: ${sql}`);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  let devdb: Devdb | null = null;
  let dir: string | null = null;
  let uri = opts.uri;
  let dropPg: string | null = null;
  if (!uri) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devdb-ops-'));
    const pgDb = `devdb_ops_${crypto.randomBytes(4).toString('hex')}`;
    if (opts.backend === 'postgresql') psql(`CREATE DATABASE ${pgDb}`);
    dropPg = opts.backend === 'postgresql' ? pgDb : null;
    devdb = await startDevdb({
      port: await freePort(),
      dir,
      backend: opts.backend,
      postgresqlUrl: opts.backend === 'postgresql' ? `postgres://postgres@127.0.0.1:5432/${pgDb}` : null,
      stdio: 'inherit',
    });
    uri = devdb.uri;
  }
  const client = new MongoClient(uri, { maxPoolSize: 100 });
  const dbName = `devdb_ops_${crypto.randomBytes(4).toString('hex')}`;
  const results: Record<string, Stat[]> = {};
  try {
    await client.connect();
    const coll = client.db(dbName).collection<Doc>('messages');
    let seeded = 0;
    for (const total of [...opts.docs].sort((a, b) => a - b)) {
      const t0 = Date.now();
      await seed(coll, seeded, total);
      seeded = total;
      process.stderr.write(`seeded ${total} documents (${((Date.now() - t0) / 1000).toFixed(1)} s); load ${os.loadavg()[0].toFixed(2)}\n`);
      results[String(total)] = await measure(coll, total, opts.iterations, opts.pages);
      console.log(`\n${total} documents (${opts.backend}${opts.uri ? `, ${opts.uri}` : ''}), load average ${os.loadavg()[0].toFixed(2)}`);
      console.table(results[String(total)]);
    }
    await client.db(dbName).dropDatabase();
  } finally {
    await client.close();
    await devdb?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (dropPg) psql(`DROP DATABASE ${dropPg}`);
  }
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ options: opts, results }, null, 2));
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
