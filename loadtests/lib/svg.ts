// Hand-written SVG charts (no charting dependency): latency percentiles per
// second on a log axis, and the latency histogram. Pure string builders.
import type { TimelinePoint } from './stats';

export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: Array<{ x: number; y: number }>;
}

const W = 900;
const H = 420;
const M = { left: 70, right: 160, top: 40, bottom: 50 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
const fmt = (v: number) => (v >= 1000 ? `${v / 1000}s` : v >= 1 ? `${v}ms` : `${v * 1000}µs`);

function frame(title: string, body: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    body,
    '</svg>',
  ].join('\n');
}

function legend(series: Array<{ name: string; color: string; dashed?: boolean }>): string {
  return series
    .map((s, i) => {
      const y = M.top + 10 + i * 20;
      const x = W - M.right + 15;
      return `<line x1="${x}" y1="${y}" x2="${x + 25}" y2="${y}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,4"' : ''}/><text x="${x + 32}" y="${y + 4}">${esc(s.name)}</text>`;
    })
    .join('\n');
}

/** Lines over time; y is logarithmic so p50 and max are readable on one chart. */
export function lineChartSvg(title: string, xLabel: string, series: Series[]): string {
  const all = series.flatMap((s) => s.points).filter((p) => p.y > 0);
  if (all.length === 0) return frame(title, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data</text>`);
  const xMax = Math.max(1, ...all.map((p) => p.x));
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...all.map((p) => p.y)))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all.map((p) => p.y)) * 1.0001)));
  const span = Math.max(1e-9, Math.log10(hi) - Math.log10(lo));
  const X = (x: number) => M.left + (x / xMax) * PW;
  const Y = (y: number) => M.top + PH - ((Math.log10(Math.max(y, lo)) - Math.log10(lo)) / span) * PH;
  const grid: string[] = [];
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    for (const k of [1, 2, 5]) {
      const v = d * k;
      if (v > hi * 1.0001) break;
      grid.push(`<line x1="${M.left}" y1="${Y(v)}" x2="${M.left + PW}" y2="${Y(v)}" stroke="#ddd"/><text x="${M.left - 6}" y="${Y(v) + 4}" text-anchor="end">${fmt(Number(v.toPrecision(3)))}</text>`);
    }
  }
  const xStep = Math.max(1, Math.ceil(xMax / 10));
  for (let x = 0; x <= xMax; x += xStep) grid.push(`<text x="${X(x)}" y="${M.top + PH + 18}" text-anchor="middle">${x}</text>`);
  const lines = series
    .filter((s) => s.points.some((p) => p.y > 0))
    .map((s) => {
      const d = s.points.filter((p) => p.y > 0).map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,4"' : ''} points="${d}"/>`;
    });
  const axes = `<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#888"/><text x="${M.left + PW / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`;
  return frame(title, [...grid, axes, ...lines, legend(series)].join('\n'));
}

/** Side-by-side bars per bucket (one colour per series); y is the share of samples. */
export function histogramSvg(title: string, boundsMs: Array<number | null>, series: Array<{ name: string; color: string; counts: number[] }>): string {
  const shares = series.map((s) => {
    const total = s.counts.reduce((a, b) => a + b, 0) || 1;
    return s.counts.map((c) => c / total);
  });
  const yMax = Math.max(0.01, ...shares.flat());
  const n = boundsMs.length;
  const slot = PW / n;
  const bw = (slot * 0.8) / Math.max(1, series.length);
  const Y = (v: number) => M.top + PH - (v / yMax) * PH;
  const parts: string[] = [`<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#888"/>`];
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    parts.push(`<line x1="${M.left}" y1="${Y(v)}" x2="${M.left + PW}" y2="${Y(v)}" stroke="#ddd"/><text x="${M.left - 6}" y="${Y(v) + 4}" text-anchor="end">${(v * 100).toFixed(0)}%</text>`);
  }
  boundsMs.forEach((b, i) => {
    const label = b === null ? `>${fmt(boundsMs[i - 1] ?? 0)}` : `≤${fmt(b)}`;
    parts.push(`<text x="${M.left + slot * (i + 0.5)}" y="${M.top + PH + 18}" text-anchor="middle" font-size="10">${esc(label)}</text>`);
    shares.forEach((sh, j) => {
      const x = M.left + slot * i + slot * 0.1 + bw * j;
      parts.push(`<rect x="${x.toFixed(1)}" y="${Y(sh[i]).toFixed(1)}" width="${bw.toFixed(1)}" height="${(M.top + PH - Y(sh[i])).toFixed(1)}" fill="${series[j].color}"/>`);
    });
  });
  parts.push(`<text x="${M.left + PW / 2}" y="${H - 12}" text-anchor="middle">latency bucket</text>`);
  return frame(title, [...parts, legend(series)].join('\n'));
}

/** p50/p95/p99/max per second from a timeline (delivery latency if any, else ack latency). */
export function percentileSeries(timeline: TimelinePoint[], which: 'delivery' | 'ack', prefix = '', dashed = false): Series[] {
  const colors = { p50: '#2b8a3e', p95: '#1971c2', p99: '#e8590c', max: '#c92a2a' };
  return (['p50', 'p95', 'p99', 'max'] as const).map((k) => ({
    name: `${prefix}${k}`,
    color: colors[k],
    dashed,
    points: timeline.map((p) => ({ x: p.t, y: p[which][k] })),
  }));
}
