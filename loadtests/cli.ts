// The load-test CLI: `npx tsx loadtests/cli.ts <scenario> [options]`, or
// `npm run loadtest -- <scenario> [options]`. Runs one scenario (and with
// --compare the same one against the bare baseline), prints a summary table on
// stdout and optionally writes JSON and SVG. Progress goes to stderr.
import crypto from 'node:crypto';
import path from 'node:path';
import { parseCli, USAGE, UsageError, type Options } from './lib/args';
import { startBaselineProcess } from './lib/baseline-process';
import { Progress } from './lib/progress';
import { RunRecorder, type FinalResult, type RunResult } from './lib/recorder';
import { ratios, summaryTable, writeFiles } from './lib/report';
import { startCostSampler } from './lib/server-cost';
import { isBaselineServer } from './lib/target';
import { scenarios } from './scenarios';

let stopping = false;

async function runOnce(opts: Options, urls: string[], server: 'target' | 'baseline', users: 'sign' | 'register'): Promise<RunResult> {
  const rec = new RunRecorder();
  const progress = new Progress(rec, server === 'baseline' ? '[baseline]' : '[ours]');
  // The real server's database commands and CPU per message (the baseline has no database).
  const cost = server === 'target' ? startCostSampler(urls) : null;
  try {
    const runId = crypto.randomBytes(3).toString('hex');
    const result = await scenarios[opts.scenario]({ opts, urls, server, users, runId, rec, progress, stopped: () => stopping });
    const serverCost = await cost?.stop(rec.measureStart, rec.measureEnd ?? rec.measureStart + result.measuredMs, result.delivered);
    return serverCost ? { ...result, serverCost } : result;
  } finally {
    progress.stop();
    await cost?.stop(0, 0, 0).catch(() => null);
  }
}

function warnings(opts: Options, r: RunResult): string[] {
  const w: string[] = [];
  if (r.generator.eventLoopP99Ms > 50 || r.generator.pacerMaxLagMs > 100) {
    w.push(`${r.server}: the generator was saturated (loop p99 ${r.generator.eventLoopP99Ms} ms, pacer lag ${r.generator.pacerMaxLagMs} ms): latencies include generator delay`);
  }
  if (opts.scenario === 'cluster' && opts.urls.length < 2 && r.server === 'target') w.push('cluster with a single --url measures no cross-node delivery');
  return w;
}

async function main(): Promise<number> {
  let opts: Options;
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message ? `loadtest: ${err.message}\n\n` : ''}${USAGE}\n`);
    return err.message ? 2 : 0;
  }
  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write('\nstopping: finishing with a partial result (Ctrl-C again to quit at once)\n');
  });

  const isBaseline = await isBaselineServer(opts.urls[0]);
  const sendsPerUserPerSec = opts.scenario === 'fanout' ? opts.rate : opts.rate / opts.clients;
  if (!isBaseline && opts.scenario !== 'connect' && opts.scenario !== 'history' && sendsPerUserPerSec > 2) {
    process.stderr.write(`note: ${sendsPerUserPerSec.toFixed(1)} msg/s per sender exceeds the server's default per-user limit (20 per 10 s); start it with a higher RATE_LIMIT_MESSAGES or expect RATE_LIMITED acks\n`);
  }
  const ours = await runOnce(opts, opts.urls, isBaseline ? 'baseline' : 'target', opts.secret ? 'sign' : 'register');
  let result: FinalResult = ours;
  if (opts.compare && !stopping) {
    const baseline = await startBaselineProcess();
    try {
      // The baseline is one node: a cluster comparison runs all clients against it.
      const base = await runOnce(opts, [baseline.url], 'baseline', 'sign');
      result = { ...ours, baseline: base, ratio: ratios(ours, base) };
    } finally {
      await baseline.stop();
    }
  }
  for (const w of [...warnings(opts, ours), ...(result.baseline ? warnings(opts, result.baseline) : [])]) process.stderr.write(`warning: ${w}\n`);
  process.stdout.write(summaryTable(result));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const jsonPath = opts.json ?? (opts.svg ? path.join('loadtests', 'results', `${opts.scenario}-${stamp}.json`) : null);
  if (jsonPath) for (const f of writeFiles(result, path.resolve(jsonPath), opts.svg)) process.stderr.write(`wrote ${f}\n`);
  return 0;
}

main().then(
  // Exit explicitly once stdout is flushed: a stray handle must not keep a finished run alive.
  (code) => process.stdout.write('', () => process.exit(code)),
  (err: unknown) => {
    process.stderr.write(`loadtest: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
