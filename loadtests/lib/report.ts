// The summary table on stdout, and the JSON and SVG files.
import fs from 'node:fs';
import path from 'node:path';
import type { FinalResult, RunResult } from './recorder';
import type { LatencySummary } from './stats';
import { histogramSvg, lineChartSvg, percentileSeries } from './svg';

/** The scenario's main latency: delivery where messages are delivered, else the request/handshake ack. */
export const mainLatency = (r: RunResult): LatencySummary => (r.deliveryMs.count > 0 ? r.deliveryMs : r.ackMs);

export function ratios(ours: RunResult, base: RunResult): { throughput: number; p99: number } {
  const q = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : 0);
  return { throughput: q(ours.throughputPerSec, base.throughputPerSec), p99: q(mainLatency(ours).p99, mainLatency(base).p99) };
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const lat = (s: LatencySummary) => (s.count === 0 ? '-' : `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)} / ${ms(s.max)}`);
const codes = (c: Record<string, number>) => Object.entries(c).map(([k, v]) => `${k}:${v}`).join(' ') || '-';

type Row = [string, (x: RunResult) => string];
const d = (x: RunResult) => x.details as Record<string, any>;
const mib = (b: unknown) => (typeof b === 'number' ? `${(b / 1048576).toFixed(1)} MiB` : '-');

/** Scenario-specific rows, read from `details`. */
function detailRows(r: RunResult): Row[] {
  if (r.scenario === 'connect') {
    return [
      ['failures / dropped while idle', (x) => `${d(x).failures} / ${d(x).droppedWhileIdle}`],
      ['server RSS before → after', (x) => `${mib(d(x).memoryBefore?.rssBytes)} → ${mib(d(x).memoryAfter?.rssBytes)}`],
      ['server RSS / heap per socket', (x) => `${d(x).rssPerSocketBytes ?? '-'} B / ${d(x).heapPerSocketBytes ?? '-'} B`],
    ];
  }
  if (r.scenario === 'history') {
    return [
      ['seeded (ms)', (x) => `${d(x).seeded} (${d(x).seedMs} ms)`],
      ['seq continues / page errors', (x) => `${d(x).seqContinues} / ${d(x).pageErrors}`],
      ['newest page ms (both transports)', (x) => lat(d(x).newestMs)],
      ['deep page ms (both transports)', (x) => (d(x).deepMs ? `${d(x).deepBack} back: ${lat(d(x).deepMs)}` : '-')],
      ['socket newest page ms', (x) => lat(d(x).socket.newestMs)],
      ['socket any page ms', (x) => lat(d(x).socket.anyPageMs)],
      ['REST newest page ms', (x) => lat(d(x).rest.newestMs)],
      ['REST any page ms', (x) => lat(d(x).rest.anyPageMs)],
    ];
  }
  const rows: Row[] = [
    ['refused attempts by code (shed)', (x) => codes(d(x).shedAttempts ?? {})],
    ['retries / gave up (--retry)', (x) => (d(x).retries === undefined ? '-' : `${d(x).retries} / ${d(x).gaveUp}`)],
    ['first attempt → ok ack ms (--retry)', (x) => (d(x).firstAttemptToAckMs ? lat(d(x).firstAttemptToAckMs) : '-')],
    ['unresolved (timed out, never seen)', (x) => String(d(x).unresolved)],
    ['unexpected / misrouted / unknown', (x) => `${d(x).unexpected} / ${d(x).misrouted} / ${d(x).unknown}`],
  ];
  if (r.details.crossNodeDeliveryMs) {
    rows.push(
      ['same-node delivery ms', (x) => (d(x).sameNodeDeliveryMs ? lat(d(x).sameNodeDeliveryMs) : '-')],
      ['cross-node delivery ms', (x) => (d(x).crossNodeDeliveryMs ? lat(d(x).crossNodeDeliveryMs) : '-')],
    );
  }
  return rows;
}

export function summaryTable(r: FinalResult): string {
  const cols: RunResult[] = r.baseline ? [r, r.baseline] : [r];
  const ackLabel = r.scenario === 'connect' ? 'handshake ms p50/p95/p99/max' : r.scenario === 'history' ? 'page ms p50/p95/p99/max' : 'ack ms p50/p95/p99/max';
  const rows: Row[] = [
    ['server', (x) => `${x.server} ${x.urls.join(',')}`],
    ['connected', (x) => String(x.connected)],
    [r.scenario === 'connect' ? 'attempted' : 'sent', (x) => String(x.sent) + (x.notSent ? ` (+${x.notSent} not sent)` : '')],
    ['acks', (x) => codes(x.acks)],
    [ackLabel, (x) => lat(x.ackMs)],
  ];
  if (r.deliveryMs.count > 0 || r.expectedDeliveries > 0) {
    rows.push(
      ['delivered / expected', (x) => `${x.delivered} / ${x.expectedDeliveries}`],
      ['lost / duplicates', (x) => `${x.lost} / ${x.duplicates}`],
      ['out of order / seq gaps', (x) => `${x.ordering.outOfOrder} / ${x.ordering.seqGaps}`],
      ['delivery ms p50/p95/p99/max', (x) => lat(x.deliveryMs)],
    );
  }
  rows.push(...detailRows(r));
  if (r.serverCost) {
    rows.push(
      ['server db commands / message', (x) => (x.serverCost ? `${x.serverCost.dbCommandsPerMessage ?? '-'} (${x.serverCost.dbCommands} / ${x.serverCost.messagesStored})` : '-')],
      ['server CPU ms / delivery', (x) => (x.serverCost ? String(x.serverCost.cpuMsPerDelivered ?? '-') : '-')],
    );
  }
  const unit = r.scenario === 'connect' ? 'connections/s' : r.scenario === 'history' ? 'pages/s' : 'deliveries/s';
  rows.push(
    [`throughput (${unit})`, (x) => String(x.throughputPerSec)],
    ['errors', (x) => codes(x.errors)],
    ['generator lag max / loop p99 ms', (x) => `${x.generator.pacerMaxLagMs} / ${x.generator.eventLoopP99Ms}`],
  );
  const head = ['', 'target', ...(r.baseline ? ['baseline (--compare)'] : [])];
  const table = [head, ...rows.map(([label, f]) => [label, ...cols.map(f)])];
  if (r.ratio) table.push(['ratio ours/baseline', `throughput ×${r.ratio.throughput}, p99 ×${r.ratio.p99}`]);
  const widths = head.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  const title = `${r.scenario}: ${Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(' ')}`;
  return [title, ...table.map((row) => row.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd())].join('\n') + '\n';
}

/** Writes the JSON and, with svg, `<name>.latency.svg` and `<name>.histogram.svg` beside it. */
export function writeFiles(r: FinalResult, jsonPath: string, svg: boolean): string[] {
  fs.mkdirSync(path.dirname(jsonPath), { recursive: true });
  fs.writeFileSync(jsonPath, JSON.stringify(r, null, 2) + '\n');
  const written = [jsonPath];
  if (!svg) return written;
  const stem = jsonPath.replace(/\.json$/i, '');
  const which = r.histogram.of;
  const label = which === 'delivery' ? 'delivery latency' : r.scenario === 'connect' ? 'handshake latency' : r.scenario === 'history' ? 'page latency' : 'ack latency';
  const series = percentileSeries(r.timeline, which);
  if (r.baseline) {
    const p99 = percentileSeries(r.baseline.timeline, which, 'baseline ', true).find((s) => s.name.endsWith('p99'));
    if (p99) series.push({ ...p99, color: '#495057' });
  }
  fs.writeFileSync(`${stem}.latency.svg`, lineChartSvg(`${r.scenario}: ${label} per second`, 'seconds since the measured phase started', series));
  const bars = [{ name: r.server === 'baseline' ? 'baseline' : 'ours', color: '#1971c2', counts: r.histogram.counts }];
  if (r.baseline) bars.push({ name: 'baseline', color: '#adb5bd', counts: r.baseline.histogram.counts });
  fs.writeFileSync(`${stem}.histogram.svg`, histogramSvg(`${r.scenario}: ${label} histogram`, r.histogram.boundsMs, bars));
  written.push(`${stem}.latency.svg`, `${stem}.histogram.svg`);
  return written;
}
