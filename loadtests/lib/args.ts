// Command-line parsing and the safety rule that load only ever goes to loopback
// hosts. Pure functions, so the rules are unit-tested.
import { parseArgs } from 'node:util';

export const SCENARIOS = ['connect', 'chat', 'fanout', 'history', 'cluster'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Options {
  scenario: ScenarioName;
  urls: string[];
  clients: number;
  rooms: number;
  /** Messages per second in total (chat/fanout/cluster); requests per second (history). */
  rate: number;
  /** Sending phase (chat/fanout/cluster/history) or idle hold after the ramp (connect). */
  durationS: number;
  /** New connections per second while connecting. */
  rampPerSec: number;
  json: string | null;
  svg: boolean;
  compare: boolean;
  secret: string | null;
  allowRemote: boolean;
  seed: number;
  mongoUri: string | null;
  pageLimit: number;
  /** history: one request in four asks for the page this many messages below the top (0: none). */
  deepBack: number;
  /** history: page this existing public room (seeded by an earlier run) instead of creating and seeding one. */
  room: string | null;
  drainS: number;
  ackTimeoutMs: number;
  connectTimeoutMs: number;
  textBytes: number;
  /**
   * Behave as docs/protocol.md asks a client to under load: a send refused with UNAVAILABLE or
   * RATE_LIMITED is retried with the same clientMsgId after retryAfterMs plus jitter, until
   * --ack-timeout has passed since its first attempt.
   */
  retry: boolean;
}

export class UsageError extends Error {}

// Defaults sized for the 2-core machine: big enough to show a trend, small
// enough that the generator is not the bottleneck.
const DEFAULTS: Record<ScenarioName, Pick<Options, 'clients' | 'rooms' | 'rate' | 'durationS'>> = {
  connect: { clients: 1000, rooms: 1, rate: 0, durationS: 10 },
  chat: { clients: 200, rooms: 10, rate: 200, durationS: 30 },
  cluster: { clients: 200, rooms: 10, rate: 200, durationS: 30 },
  fanout: { clients: 1000, rooms: 1, rate: 10, durationS: 30 },
  history: { clients: 4, rooms: 1, rate: 50, durationS: 20 },
};

// Hard ceilings keep every loop bounded in count and time, whatever is typed.
const LIMITS = { clients: 20_000, rooms: 10_000, rate: 100_000, durationS: 3_600, rampPerSec: 10_000, seed: 50_000_000 };

export const USAGE = `Usage: loadtest <${SCENARIOS.join('|')}> [options]
  --url URL[,URL...]     target node(s) (default http://127.0.0.1:3000; cluster: several)
  --clients N            sockets (fanout: receivers, plus one sender)
  --rooms R              rooms (chat/cluster)
  --rate N               messages/s in total (history: page requests/s)
  --duration S           sending time (connect: idle hold after the ramp)
  --ramp N               new connections per second (default 200)
  --json PATH            write the full result as JSON
  --svg                  write SVG charts next to the JSON
  --compare              run again against the bare baseline server and add ratios
  --secret SECRET        sign HS256 user tokens locally instead of registering users
  --seed N               history: messages to seed (default 1000000)
  --mongo-uri URI        history: database to seed (e.g. mongodb://127.0.0.1:27017/chat)
  --page-limit N         history: page size (default 50)
  --deep-back N          history: one request in four is the page N messages back (default 10000, 0: off)
  --room ID              history: reuse this public room (seeded by an earlier run; --seed is ignored)
  --drain S              wait for late deliveries after the last send (default 10)
  --ack-timeout MS       per-request ack timeout (default 10000)
  --connect-timeout MS   per-socket handshake timeout (default 20000)
  --text-bytes N         message text length (default 64)
  --retry                chat/cluster/fanout: retry refused sends (UNAVAILABLE, RATE_LIMITED) with the same
                         clientMsgId after retryAfterMs plus jitter, within --ack-timeout of the first attempt
  --allow-remote         allow non-loopback targets (never on shared machines)`;

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Parses argv (without node and script) into validated options. */
export function parseCli(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        clients: { type: 'string' },
        rooms: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        ramp: { type: 'string' },
        json: { type: 'string' },
        svg: { type: 'boolean' },
        compare: { type: 'boolean' },
        secret: { type: 'string' },
        seed: { type: 'string' },
        'mongo-uri': { type: 'string' },
        'page-limit': { type: 'string' },
        'deep-back': { type: 'string' },
        room: { type: 'string' },
        drain: { type: 'string' },
        'ack-timeout': { type: 'string' },
        'connect-timeout': { type: 'string' },
        'text-bytes': { type: 'string' },
        retry: { type: 'boolean' },
        'allow-remote': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (v.help) throw new UsageError('');
  if (positionals.length !== 1) throw new UsageError('expected exactly one scenario');
  const scenario = positionals[0] as ScenarioName;
  if (!SCENARIOS.includes(scenario)) throw new UsageError(`unknown scenario ${JSON.stringify(positionals[0])}`);
  const d = DEFAULTS[scenario];
  const urls = (v.url ?? 'http://127.0.0.1:3000').split(',').map((s) => s.trim().replace(/\/+$/, '')).filter(Boolean);
  if (urls.length === 0) throw new UsageError('--url: empty');
  const opts: Options = {
    scenario,
    urls,
    clients: int('clients', v.clients, d.clients, 1, LIMITS.clients),
    rooms: int('rooms', v.rooms, d.rooms, 1, LIMITS.rooms),
    rate: int('rate', v.rate, d.rate, 1, LIMITS.rate),
    durationS: int('duration', v.duration, d.durationS, 1, LIMITS.durationS),
    rampPerSec: int('ramp', v.ramp, 200, 1, LIMITS.rampPerSec),
    json: v.json ?? null,
    svg: Boolean(v.svg),
    compare: Boolean(v.compare),
    secret: v.secret ?? null,
    allowRemote: Boolean(v['allow-remote']),
    seed: int('seed', v.seed, 1_000_000, 0, LIMITS.seed),
    mongoUri: v['mongo-uri'] ?? null,
    pageLimit: int('page-limit', v['page-limit'], 50, 1, 100),
    deepBack: int('deep-back', v['deep-back'], 10_000, 0, LIMITS.seed),
    room: v.room ?? null,
    drainS: int('drain', v.drain, 10, 0, 600),
    ackTimeoutMs: int('ack-timeout', v['ack-timeout'], 10_000, 100, 600_000),
    connectTimeoutMs: int('connect-timeout', v['connect-timeout'], 20_000, 100, 600_000),
    textBytes: int('text-bytes', v['text-bytes'], 64, 40, 4000),
    retry: Boolean(v.retry),
  };
  if (scenario === 'connect' && v.rate !== undefined) throw new UsageError('connect: use --ramp for the connection rate');
  if (opts.rooms > opts.clients) throw new UsageError('--rooms: more rooms than clients');
  if (scenario !== 'cluster' && urls.length > 1 && scenario !== 'connect') {
    throw new UsageError('several --url values: use the cluster (or connect) scenario');
  }
  if (!opts.allowRemote) assertLoopback([...urls, ...(opts.mongoUri ? [opts.mongoUri] : [])]);
  return opts;
}

/** True for localhost, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Throws unless every URL points at this machine: load must never leave it by accident. */
export function assertLoopback(urls: string[]): void {
  for (const raw of urls) {
    let host: string;
    try {
      host = new URL(raw).hostname;
    } catch {
      throw new UsageError(`not a URL: ${JSON.stringify(raw)} (multi-host URIs need --allow-remote)`);
    }
    if (!isLoopbackHost(host)) throw new UsageError(`refusing non-loopback target ${raw}; pass --allow-remote if you really mean it`);
  }
}
