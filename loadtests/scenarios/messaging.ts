// The engine behind chat, cluster and fanout: members in rooms, senders on an
// open-loop schedule, every message:new checked against the DeliveryTracker.
import { now } from '../lib/clock';
import { request, type ClientSocket } from '../lib/clients';
import { DeliveryTracker } from '../lib/delivery';
import { runPaced } from '../lib/pacer';
import { paramsOf, type RunResult } from '../lib/recorder';
import { RetryBudget } from '../lib/retry-budget';
import { LatencyStats, tally } from '../lib/stats';
import { closeAll, connectAll, prepareUsers, setupRoom, waitUntil } from './setup';
import type { ScenarioContext } from './types';

export interface Layout {
  rooms: number;
  members: number;
  /** Room and slot (index within the room) of member i. */
  place(i: number): { room: number; slot: number };
  /** Indexes of the members that send, in turn. */
  senders: number[];
}

interface Member {
  room: number;
  slot: number;
  url: string;
  socket: ClientSocket | null;
  joined: boolean;
  lastSeq: number;
}

interface Incoming {
  clientMsgId?: unknown;
  seq?: unknown;
}

export async function runMessaging(ctx: ScenarioContext, layout: Layout): Promise<RunResult> {
  const { opts, rec, urls, runId } = ctx;
  const users = await prepareUsers(ctx, layout.members);
  const members: Member[] = users.map((_, i) => {
    const { room, slot } = layout.place(i);
    // Node by slot, not by member index: every room then spans all nodes, so cluster runs measure cross-node delivery.
    return { room, slot, url: urls[slot % urls.length], socket: null, joined: false, lastSeq: 0 };
  });
  const byRoom: Member[][] = Array.from({ length: layout.rooms }, () => []);
  for (const m of members) byRoom[m.room][m.slot] = m;

  const tracker = new DeliveryTracker();
  const sameNode = new LatencyStats();
  const crossNode = new LatencyStats();
  let foreign = 0;
  let lastDeliveryAt = 0;
  let closing = false;

  const onMessage = (m: Member, msg: Incoming) => {
    const at = now();
    if (typeof msg?.clientMsgId !== 'string' || !msg.clientMsgId.startsWith(`${runId}-`)) {
      foreign++;
      return;
    }
    const r = tracker.recordReceipt(msg.clientMsgId, m.room, m.slot, at);
    if (typeof msg.seq === 'number' && r.kind !== 'duplicate') {
      // The contract: each socket gets a room's messages in seq order. Gaps are only counted, lost covers them.
      if (msg.seq <= m.lastSeq) rec.ordering.outOfOrder++;
      else if (m.lastSeq > 0 && msg.seq > m.lastSeq + 1) rec.ordering.seqGaps++;
      m.lastSeq = Math.max(m.lastSeq, msg.seq);
    }
    if (r.kind !== 'delivery') return;
    rec.received++;
    lastDeliveryAt = at;
    rec.onDelivery(r.latencyMs, at);
    (byRoom[r.room][r.sender].url === m.url ? sameNode : crossNode).record(r.latencyMs);
  };

  const connected = await connectAll(ctx, members.map((m, i) => ({ url: m.url, token: users[i].token })), false, (socket, i) => {
    const m = members[i];
    m.socket = socket;
    socket.on('message:new', (msg: Incoming) => onMessage(m, msg));
    socket.on('disconnect', (reason: string) => {
      m.joined = false;
      if (!closing) rec.error(`disconnect:${reason}`);
    });
  });

  let roomsDone = 0;
  ctx.progress.phase('rooms', layout.rooms, () => roomsDone);
  const roomIds: Array<string | null> = [];
  for (let r = 0; r < layout.rooms && !ctx.stopped(); r++) {
    const setup = await setupRoom(ctx, `lt-${runId}-r${r}`, byRoom[r].map((m) => m.socket));
    roomIds[r] = setup.roomId;
    setup.joined.forEach((j, slot) => (byRoom[r][slot].joined = j));
    roomsDone++;
  }
  if (!roomIds.some(Boolean)) throw new Error(`no room could be set up (errors: ${JSON.stringify(rec.errorKinds)})`);

  const total = Math.round(opts.rate * opts.durationS);
  const text = (sentAt: number) => `lt ${runId} t=${sentAt.toFixed(3)} `.padEnd(opts.textBytes, '.');
  let acksPending = 0;
  // Refused attempts by code (each retry's too), retries made, sends given up at their deadline (--retry).
  const shedAttempts: Record<string, number> = {};
  let retries = 0;
  let gaveUp = 0;
  const sendToAck = new LatencyStats();
  // One retry budget per sending client (--retry).
  const budgets = new Map<object, RetryBudget>();
  const budgetOf = (m: object) => budgets.get(m) ?? budgets.set(m, new RetryBudget()).get(m)!;
  rec.startMeasuring();
  ctx.progress.phase('send', total, () => rec.sent + rec.notSent);
  const pacer = await runPaced({
    ratePerSec: opts.rate,
    total,
    maxDurationMs: opts.durationS * 1000 + 5000,
    shouldStop: ctx.stopped,
    fire: (i) => {
      const sender = members[layout.senders[i % layout.senders.length]];
      const roomId = roomIds[sender.room];
      if (!sender.joined || !sender.socket || !roomId) {
        rec.notSent++;
        return;
      }
      const id = `${runId}-${i}`;
      const sentAt = now();
      const room = byRoom[sender.room];
      tracker.recordSend(id, sender.room, sender.slot, room.length, (s) => room[s].joined, sentAt);
      rec.onSent(sentAt);
      acksPending++;
      budgetOf(sender).earn();
      const payload = { roomId, clientMsgId: id, text: text(sentAt) };
      // Every attempt, the retries too, must be answered before the send's deadline.
      const deadline = sentAt + opts.ackTimeoutMs;
      const attempt = (n: number, startedAt: number) => {
        void request(sender.socket!, 'message:send', payload, Math.max(1, deadline - startedAt), startedAt).then((a) => {
          if (a.code === 'UNAVAILABLE' || a.code === 'RATE_LIMITED') {
            tally(shedAttempts, a.code);
            if (opts.retry) {
              // The same clientMsgId after retryAfterMs, at least doubling with each refusal of this
              // send (100 ms, 200 ms, ... 5 s), plus up to half again (jitter), while the deadline allows.
              const floor = Math.min(5000, 100 * 2 ** Math.min(n - 1, 10));
              const wait = Math.max(a.retryAfterMs ?? 2 * floor, floor) * (1 + Math.random() / 2);
              // A retry is worth making only with time left for an answer (else it is given up, as a client would).
              // And only within the sender's retry budget (about 20 % of its sends, chaos/client.ts).
              if (deadline - (now() + wait) >= Math.min(1000, opts.ackTimeoutMs / 4) && sender.socket?.connected && budgetOf(sender).spend()) {
                retries++;
                setTimeout(() => attempt(n + 1, now()), wait);
                return;
              }
              gaveUp++;
            }
          }
          acksPending--;
          rec.onAck(a.code, a.ms);
          if (a.code === 'ok') sendToAck.record(now() - sentAt);
          tracker.recordAck(id, a.code);
        });
      };
      attempt(1, sentAt);
    },
  });
  rec.pacerMaxLagMs = pacer.maxLagMs;
  rec.notSent += total - pacer.issued;
  rec.measureEnd = pacer.endedAt;

  ctx.progress.phase('drain', opts.drainS * 1000, () => Math.min(opts.drainS * 1000, now() - pacer.endedAt));
  const drainWaitMs = await waitUntil(() => acksPending === 0 && tracker.outstanding() === 0, opts.drainS * 1000, ctx.stopped);
  closing = true;
  closeAll(members.map((m) => m.socket));

  const c = tracker.counts();
  const windowS = Math.max(lastDeliveryAt, pacer.endedAt) - pacer.startedAt;
  const perNode: Record<string, number> = {};
  members.forEach((m, i) => (perNode[m.url] = (perNode[m.url] ?? 0) + (connected[i].socket ? 1 : 0)));
  return rec.finish({
    scenario: opts.scenario,
    server: ctx.server,
    urls,
    params: paramsOf(opts, ctx.users),
    delivered: c.delivered,
    expectedDeliveries: c.expected,
    lost: c.lost,
    duplicates: c.duplicates,
    echoes: c.echoes,
    throughputPerSec: windowS > 0 ? Math.round((c.delivered / windowS) * 1000 * 10) / 10 : 0,
    details: {
      rooms: layout.rooms,
      members: layout.members,
      senders: layout.senders.length,
      messagesStored: c.stored,
      unresolved: c.unresolved,
      unexpected: c.unexpected,
      misrouted: c.misrouted,
      unknown: c.unknown,
      foreign,
      drainWaitMs: Math.round(drainWaitMs),
      shedAttempts,
      ...(opts.retry ? { retries, gaveUp, firstAttemptToAckMs: sendToAck.summary() } : {}),
      connectedPerNode: perNode,
      ...(urls.length > 1 ? { sameNodeDeliveryMs: sameNode.summary(), crossNodeDeliveryMs: crossNode.summary() } : {}),
    },
  });
}
