// history: seed one room with --seed messages, then request random history
// pages at --rate per second, alternating socket (message:history) and REST
// (GET /rooms/:id/messages); newest-page and any-page latency per transport.
import { now } from '../lib/clock';
import { request, type ClientSocket } from '../lib/clients';
import { pageIsExact, pickPage, prng, type PageQuery } from '../lib/pages';
import { runPaced } from '../lib/pacer';
import { paramsOf, type RunResult } from '../lib/recorder';
import { LatencyStats } from '../lib/stats';
import { seedBaseline, seedMongo, type SeedResult } from './history-seed';
import { closeAll, connectAll, prepareUsers, setupRoom, waitUntil } from './setup';
import type { ScenarioContext } from './types';

/** Every socket joins an existing public room (an earlier run's seeded room). */
async function joinRoom(roomId: string, sockets: Array<ClientSocket | null>, timeoutMs: number): Promise<{ roomId: string | null }> {
  for (const s of sockets) {
    if (!s) continue;
    const r = await request(s, 'room:join', { roomId }, timeoutMs);
    if (r.code !== 'ok') throw new Error(`history: room:join ${roomId}: ${r.code}`);
  }
  return { roomId };
}

type Page = { items: Array<{ seq?: unknown }>; hasMore: boolean };

async function restPage(url: string, token: string, roomId: string, q: PageQuery, limit: number, timeoutMs: number): Promise<{ code: string; ms: number; data?: Page }> {
  const started = now();
  const qs = new URLSearchParams({ limit: String(limit) });
  if (q.beforeSeq !== undefined) qs.set('beforeSeq', String(q.beforeSeq));
  if (q.afterSeq !== undefined) qs.set('afterSeq', String(q.afterSeq));
  try {
    const res = await fetch(`${url}/api/v1/rooms/${encodeURIComponent(roomId)}/messages?${qs}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json()) as Page & { error?: { code?: string } };
    const ms = now() - started;
    return res.ok ? { code: 'ok', ms, data: body } : { code: body.error?.code ?? `HTTP_${res.status}`, ms };
  } catch (err) {
    return { code: (err as Error).name === 'TimeoutError' ? 'timeout' : 'NETWORK', ms: now() - started };
  }
}

export async function history(ctx: ScenarioContext): Promise<RunResult> {
  const { opts, rec, urls, runId } = ctx;
  const url = urls[0];
  const users = await prepareUsers(ctx, opts.clients);
  const sockets: Array<ClientSocket | null> = users.map(() => null);
  await connectAll(ctx, users.map((u) => ({ url, token: u.token })), false, (s, i) => (sockets[i] = s));
  const { roomId } = opts.room ? await joinRoom(opts.room, sockets, opts.ackTimeoutMs) : await setupRoom(ctx, `lt-${runId}-history`, sockets);
  if (!roomId) throw new Error(`history: room setup failed (errors: ${JSON.stringify(rec.errorKinds)})`);
  const owner = sockets.findIndex((s) => s !== null);

  let seeded: SeedResult = { inserted: 0, ms: 0, roomUpdated: true };
  if (opts.seed > 0 && !opts.room) {
    let done = 0;
    ctx.progress.phase('seed', opts.seed, () => done);
    if (ctx.server === 'baseline') seeded = await seedBaseline(url, roomId, opts.seed);
    else if (!opts.mongoUri) throw new Error('history: --mongo-uri is required to seed the server database (or --seed 0)');
    else seeded = await seedMongo(opts.mongoUri, roomId, users[owner].userId, opts.seed, (n) => (done = n), ctx.stopped);
  }
  // A live send after seeding must continue the sequence: this checks the seed mapping.
  const probe = await request<{ seq: number }>(sockets[owner]!, 'message:send', { roomId, clientMsgId: `${runId}-probe`, text: 'probe after seeding' }, opts.ackTimeoutMs);
  const top = probe.code === 'ok' && typeof probe.data?.seq === 'number' ? probe.data.seq : seeded.inserted;

  // One page alone first: if the server needs seconds per page, the paced phase would only queue
  // minutes of work on it (it keeps working after our acks time out). Refuse that instead.
  // The server may cache the newest page: the estimate weighs a second (warm) newest page and a
  // deep page by the request mix (a quarter newest, the rest pages inside the room).
  const single = await request<Page>(sockets[owner]!, 'message:history', { roomId, limit: opts.pageLimit }, opts.ackTimeoutMs);
  const warm = await request<Page>(sockets[owner]!, 'message:history', { roomId, limit: opts.pageLimit }, opts.ackTimeoutMs);
  const deepSeq = top > opts.deepBack ? top - opts.deepBack : Math.max(2, Math.floor(top / 2));
  const inside = await request<Page>(sockets[owner]!, 'message:history', { roomId, limit: opts.pageLimit, beforeSeq: deepSeq }, opts.ackTimeoutMs);
  const perPageMs = warm.ms / 4 + (inside.ms * 3) / 4;
  const queuedS = (perPageMs * opts.rate * opts.durationS) / 1000;
  if (single.code !== 'ok' || inside.code !== 'ok' || queuedS > 10 * opts.durationS) {
    throw new Error(
      `history: one newest page took ${Math.round(single.ms)} ms (${single.code}), again ${Math.round(warm.ms)} ms, one page inside ${Math.round(inside.ms)} ms (${inside.code}); ${opts.rate * opts.durationS} requests would queue about ${Math.round(queuedS)} s of work on the server. Lower --rate/--duration/--seed.`,
    );
  }

  const lat = {
    socket: { newest: new LatencyStats(), deep: new LatencyStats(), any: new LatencyStats() },
    rest: { newest: new LatencyStats(), deep: new LatencyStats(), any: new LatencyStats() },
    both: { newest: new LatencyStats(), deep: new LatencyStats() },
  };
  const rand = prng(0x5eed);
  const live = sockets.map((s, i) => ({ s, token: users[i].token })).filter((c) => c.s !== null);
  let pending = 0;
  let pageErrors = 0;
  let okPages = 0;
  const total = Math.round(opts.rate * opts.durationS);
  rec.startMeasuring();
  ctx.progress.phase('pages', total, () => rec.sent);
  const pacer = await runPaced({
    ratePerSec: opts.rate,
    total,
    maxDurationMs: opts.durationS * 1000 + 5000,
    shouldStop: ctx.stopped,
    fire: (i) => {
      const c = live[i % live.length];
      // Requests alternate transports; counting pairs gives both transports the same page mix.
      const q = pickPage(Math.floor(i / 2), rand, top, opts.deepBack);
      const transport = i % 2 === 0 ? 'socket' : 'rest';
      rec.onSent();
      pending++;
      const reply =
        transport === 'socket'
          ? request<Page>(c.s!, 'message:history', { roomId, limit: opts.pageLimit, ...(q.beforeSeq !== undefined ? { beforeSeq: q.beforeSeq } : {}), ...(q.afterSeq !== undefined ? { afterSeq: q.afterSeq } : {}) }, opts.ackTimeoutMs)
          : restPage(url, c.token, roomId, q, opts.pageLimit, opts.ackTimeoutMs);
      void reply.then((r) => {
        pending--;
        rec.onAck(r.code, r.ms);
        if (r.code !== 'ok') return;
        okPages++;
        rec.received++;
        lat[transport].any.record(r.ms);
        if (q.kind === 'newest' || q.kind === 'deep') {
          lat[transport][q.kind].record(r.ms);
          lat.both[q.kind].record(r.ms);
        }
        if (!Array.isArray(r.data?.items) || !pageIsExact(q, r.data.items, opts.pageLimit, top)) pageErrors++;
      });
    },
  });
  rec.pacerMaxLagMs = pacer.maxLagMs;
  rec.notSent += total - pacer.issued;
  await waitUntil(() => pending === 0, opts.ackTimeoutMs + 1000, ctx.stopped);
  rec.measureEnd = now();
  closeAll(sockets);

  const windowMs = rec.measureEnd - pacer.startedAt;
  return rec.finish({
    scenario: 'history',
    server: ctx.server,
    urls,
    params: paramsOf(opts, ctx.users),
    throughputPerSec: windowMs > 0 ? Math.round((okPages / windowMs) * 1000 * 10) / 10 : 0,
    details: {
      seeded: seeded.inserted,
      seedMs: seeded.ms,
      seedPerSec: seeded.ms > 0 ? Math.round((seeded.inserted / seeded.ms) * 1000) : null,
      roomSeqUpdated: seeded.roomUpdated,
      probeAck: probe.code,
      seqContinues: opts.room ? null : probe.code === 'ok' && top === seeded.inserted + 1,
      pageErrors,
      singlePageMs: Math.round(single.ms * 100) / 100,
      secondNewestPageMs: Math.round(warm.ms * 100) / 100,
      singleInsidePageMs: Math.round(inside.ms * 100) / 100,
      reusedRoom: opts.room,
      deepBack: opts.deepBack,
      // Both transports together: the figures the targets are stated in.
      newestMs: lat.both.newest.summary(),
      deepMs: lat.both.deep.summary(),
      socket: { newestMs: lat.socket.newest.summary(), deepMs: lat.socket.deep.summary(), anyPageMs: lat.socket.any.summary() },
      rest: { newestMs: lat.rest.newest.summary(), deepMs: lat.rest.deep.summary(), anyPageMs: lat.rest.any.summary() },
    },
  });
}
