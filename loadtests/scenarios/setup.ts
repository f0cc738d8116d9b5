// Setup steps shared by the scenarios: identities, paced connection ramp,
// rooms, teardown. Setup is not measured, except by the connect scenario.
import { now, sleep } from '../lib/clock';
import { openSocket, request, type ClientSocket, type ConnectResult } from '../lib/clients';
import { mapLimit } from '../lib/limit';
import { runPaced } from '../lib/pacer';
import { registerUsers, signUsers, type LoadUser } from '../lib/users';
import type { ScenarioContext } from './types';

/** The baseline accepts any token; signing one costs nothing and keeps its run free of REST setup. */
const BASELINE_SECRET = 'baseline-accepts-any-token';

export async function prepareUsers(ctx: ScenarioContext, count: number): Promise<LoadUser[]> {
  const ttlS = ctx.opts.durationS + ctx.opts.drainS + 3600;
  if (ctx.users === 'sign') return signUsers(count, ctx.runId, ctx.opts.secret ?? BASELINE_SECRET, ttlS);
  let done = 0;
  ctx.progress.phase('register', count, () => done);
  return registerUsers(ctx.urls, count, ctx.runId, () => done++);
}

export interface Target {
  url: string;
  token: string;
}

/**
 * Opens one socket per target at the ramp rate (open loop). `measured`: handshakes
 * count as acks (connect scenario); otherwise failures are setup errors.
 */
export async function connectAll(ctx: ScenarioContext, targets: Target[], measured: boolean, onOpen?: (socket: ClientSocket, i: number) => void): Promise<ConnectResult[]> {
  const { rec, opts } = ctx;
  const results = new Array<ConnectResult>(targets.length);
  const pending: Promise<void>[] = [];
  let settled = 0;
  ctx.progress.phase('connect', targets.length, () => settled);
  const pacer = await runPaced({
    ratePerSec: opts.rampPerSec,
    total: targets.length,
    maxDurationMs: (targets.length / opts.rampPerSec) * 1000 + 60_000,
    shouldStop: ctx.stopped,
    fire: (i) => {
      if (measured) rec.onSent();
      pending.push(
        openSocket(targets[i].url, targets[i].token, opts.connectTimeoutMs).then((r) => {
          results[i] = r;
          settled++;
          if (r.socket) {
            rec.connected++;
            onOpen?.(r.socket, i);
          }
          if (measured) rec.onAck(r.code, r.ms);
          else if (!r.socket) rec.error(`connect:${r.code}`);
        }),
      );
    },
  });
  rec.pacerMaxLagMs = Math.max(rec.pacerMaxLagMs, pacer.maxLagMs);
  await Promise.all(pending);
  for (let i = 0; i < targets.length; i++) results[i] ??= { socket: null, code: 'not-attempted', ms: 0 };
  return results;
}

export interface RoomSetup {
  roomId: string | null;
  /** Per member: true once its join (or create) was acked ok. */
  joined: boolean[];
}

/** The first connected member creates a public room, the others join it (bounded concurrency). */
/** A setup request, retried after a refusal for load (UNAVAILABLE, RATE_LIMITED) as the contract asks: setup is not what a run measures. */
async function setupRequest<T>(socket: ClientSocket, event: string, payload: unknown, timeoutMs: number): ReturnType<typeof request<T>> {
  for (let attempt = 1; ; attempt++) {
    const r = await request<T>(socket, event, payload, timeoutMs);
    if ((r.code !== 'UNAVAILABLE' && r.code !== 'RATE_LIMITED') || attempt >= 10) return r;
    await sleep((r.retryAfterMs ?? 200 * attempt) * (1 + Math.random() / 2));
  }
}

export async function setupRoom(ctx: ScenarioContext, name: string, sockets: Array<ClientSocket | null>): Promise<RoomSetup> {
  const joined = sockets.map(() => false);
  const owner = sockets.findIndex((s) => s !== null);
  if (owner < 0) return { roomId: null, joined };
  const created = await setupRequest<{ id: string }>(sockets[owner]!, 'room:create', { type: 'public', name }, ctx.opts.ackTimeoutMs);
  if (created.code !== 'ok' || typeof created.data?.id !== 'string') {
    ctx.rec.error(`room:create:${created.code}`);
    return { roomId: null, joined };
  }
  const roomId = created.data.id;
  joined[owner] = true;
  await mapLimit(sockets, 32, async (socket, i) => {
    if (!socket || i === owner || ctx.stopped()) return;
    const r = await setupRequest(socket, 'room:join', { roomId }, ctx.opts.ackTimeoutMs);
    if (r.code === 'ok') joined[i] = true;
    else ctx.rec.error(`room:join:${r.code}`);
  });
  return { roomId, joined };
}

/** Waits until done() or the deadline, polling; returns how long it waited. */
export async function waitUntil(done: () => boolean, maxMs: number, stopped: () => boolean): Promise<number> {
  const start = now();
  while (!done() && now() - start < maxMs && !stopped()) await sleep(50);
  return now() - start;
}

export function closeAll(sockets: Array<ClientSocket | null | undefined>): void {
  for (const s of sockets) s?.disconnect();
}
