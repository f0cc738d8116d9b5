// Admission control: bounds the work one node holds (requests waiting for an answer per
// socket, sends queued per room and per node, database operations in flight) and refuses
// at once, with a time to come back, what it cannot serve in time. A request that waited
// past its budget is dropped before it reaches the database (budget.ts). Also keeps the
// figures /metrics and /readyz report. See docs/operations.md, "Overload", for sizing.
import { performance } from 'node:perf_hooks';
import type { AppError } from '../errors';
import { shedError, withBudget, type ShedReason } from './budget';

export interface AdmissionConfig {
  /** A request not at the database after this long is dropped (0: no budget). */
  budgetMs: number;
  /** Requests of one socket waiting for their ack; beyond: RATE_LIMITED. */
  maxPendingPerSocket: number;
  /** Sends of one room in progress on this node (waiting for the room's turn or storing). */
  maxSendsPerRoom: number;
  /** Sends in progress on this node. */
  maxSendsPerNode: number;
  /**
   * Sends of one user in progress on this node (waiting behind that user's earlier sends, which
   * keep their order, or storing); beyond: RATE_LIMITED. A user's burst up to this always passes.
   */
  maxSendsPerSender: number;
  /** The adaptive send limit never goes below this: a burst of this many sends on a slow node still passes. */
  sendLimitFloor: number;
  /** A room's expected-wait check applies only past this many sends ahead: a burst of this many into one room always passes. */
  roomSendBurst: number;
  /**
   * Target time for a send, admission to answer (0: off). The node's send limit adapts to it:
   * it shrinks by a tenth (at most every 100 ms) while sends take longer, and grows back by
   * one per limit's worth of sends that are faster, between sendLimitFloor and maxSendsPerNode. Self-sizing: the queue stays at what
   * the node clears in this time, whatever its capacity, where the count bounds are set by hand.
   * A room refuses a new send when the sends ahead of it, at the time a send holds the room
   * lately, would take longer (only past roomSendBurst sends ahead: shorter bursts always pass).
   */
  maxSendWaitMs: number;
  /**
   * The least target for the median send time, admission to answer (0: off). The target is
   * this or three times the node's usual median (its median while it takes all it is offered),
   * whichever is higher. When the median of the sends finished in a 100 ms interval is above
   * it, a queue stands on the node (one room's burst does not move the median while other
   * rooms' sends are fast), and the send limit is cut to the sends in progress × target ÷
   * median (between ×0.5 and ×0.9), so the queue drains toward the target within a few
   * intervals. An empty node forgets the cut.
   */
  sendQueueTargetMs: number;
  /** Database operations in flight (waiting for a pooled connection or running); beyond, new requests are refused. */
  maxDbInFlight: number;
  /** /readyz answers 503 while at least this share of the last 2 s of requests was shed (0: never). */
  readyShedRatio: number;
}

const WINDOW_BUCKETS = 4;
const BUCKET_MS = 500;
/** Fewer requests than this in the window never make the node "shedding hard". */
const MIN_WINDOW_REQUESTS = 20;
/** The limit shrinks at most once per this interval (one shrink per round of slow answers, not one per answer). */
const SHRINK_EVERY_MS = 100;
/** The standing-queue check looks at the median send of each interval this long... */
const QUEUE_INTERVAL_MS = 100;
/** ...once at least this many sends finished in it (fewer say nothing about a queue). */
const QUEUE_MIN_SAMPLES = 8;
/** The target is at least this × the usual median: a node whose sends take 25 ms at capacity (insert batches over many rooms, where more sends in progress make bigger batches and more throughput) is not cut at 60. */
const USUAL_MEDIAN_TOLERANCE = 3;
/** Weight of one interval in the usual median (100 ms intervals: it follows over ~10 s). */
const USUAL_ALPHA = 0.01;
/** No cut before the usual median is known from this many intervals (until then MAX_SEND_WAIT_MS alone bounds the queue). */
const USUAL_MIN_INTERVALS = 10;
/** Weight of the newest send in the moving means of send time. */
const ALPHA = 0.2;
/** A moving mean's next value (0: none yet, so the first value is taken whole). */
const follow = (mean: number, value: number): number => (mean === 0 ? value : mean + ALPHA * (value - mean));

export interface AdmissionStats {
  sendsInProgress: number;
  /** The most sends any one room has in progress. */
  busiestRoomSends: number;
  pendingAcks: number;
  dbInFlight: number;
  /** Moving mean of how long recent sends took, admission to answer (ms). */
  sendMs: number;
  /** The adaptive limit on sends in progress (maxSendWaitMs). */
  sendLimit: number;
  /** The most sends any one sender has in progress. */
  busiestSenderSends: number;
  /** The median send time the node holds under overload now (SEND_QUEUE_TARGET_MS or three times its usual median; 0: off or not known yet). */
  sendTargetMs: number;
  shed: Record<ShedReason, number>;
}

export type Admission = ReturnType<typeof createAdmission>;

export function createAdmission(cfg: AdmissionConfig, now: () => number = () => performance.now()) {
  const pendingBySocket = new WeakMap<object, number>();
  let pendingAcks = 0;
  // Per room with sends in progress: how many, and the moving mean of the time one send holds
  // the room (a room's sends are stored one after another: a send took (sends ahead + 1) × that).
  const roomSends = new Map<string, { n: number; turnMs: number }>();
  let sendsInProgress = 0;
  // Sends in progress per sender (a user's sends are stored one after another, in order).
  const senderSends = new Map<string, number>();
  // Moving mean of the interval between two sends finishing (ms): how fast the node drains its queue.
  let lastDone = -Infinity;
  let doneEveryMs = 0;
  let dbInFlight = 0;
  const shed: Record<ShedReason, number> = { deadline: 0, db: 0, 'node-sends': 0, 'room-sends': 0, 'send-wait': 0, 'socket-pending': 0, 'sender-sends': 0 };
  // Moving means of how long an admitted send took (from admission to its answer), and of a database command.
  let sendMs = 0;
  // The adaptive limit on sends in progress (AIMD on send time, see maxSendWaitMs).
  let sendLimit = cfg.maxSendsPerNode;
  let lastShrink = -Infinity;
  // The times of the sends finished in the current standing-queue interval (sendQueueTargetMs).
  let intervalStart = -Infinity;
  let intervalTook: number[] = [];
  // Whether the send limit refused a send in the current interval: then the interval's median
  // is the node under overload, not its usual median.
  let limitHit = false;
  // Moving mean of the interval medians of intervals the limit did not bind, and how many there were.
  let usualMs = 0;
  let usualIntervals = 0;
  let dbMs = 2;
  // Admitted and shed requests per 500 ms bucket, for readiness.
  const window = Array.from({ length: WINDOW_BUCKETS }, () => ({ at: 0, admitted: 0, shed: 0 }));
  let hard = false;
  const onShed: Array<(reason: ShedReason) => void> = [];

  const bucket = () => {
    const at = Math.floor(now() / BUCKET_MS);
    const b = window[at % WINDOW_BUCKETS];
    if (b.at !== at) Object.assign(b, { at, admitted: 0, shed: 0 });
    return b;
  };


  /** How long the node takes to clear the sends it holds now, at the pace it finished sends lately. */
  const drainMs = () => Math.max(sendMs, sendsInProgress * doneEveryMs);
  /**
   * When to come back: when the queue that refused the request will have drained (`base`, by
   * default the node's), stretched by 1 ÷ the share of requests the node admits lately (shedding
   * 90 %: ×10), so that refused clients come back at about the rate the node takes them rather
   * than as a second flood; 100 ms to 10 s. Clients add jitter and back off further on each refusal.
   */
  const retryAfterMs = (base = drainMs()) => Math.min(10_000, Math.max(100, base / (1 - Math.min(0.95, shedRatio()))));
  const tooSlow = (ms: number) => cfg.maxSendWaitMs > 0 && ms > cfg.maxSendWaitMs;
  /** The median send time the node holds under overload (sendQueueTargetMs or 3× its usual median). */
  const queueTarget = () => Math.max(cfg.sendQueueTargetMs, USUAL_MEDIAN_TOLERANCE * usualMs);
  /** The target is on, and the usual median known well enough to cut by it. */
  const targetKnown = () => cfg.sendQueueTargetMs > 0 && usualIntervals >= USUAL_MIN_INTERVALS;
  /**
   * Notes a finished send; at the end of an interval whose median send took longer than the
   * target, answers the share of the sends in progress to keep (0.5 to 0.9), else null.
   */
  function standingQueue(took: number, at: number): number | null {
    if (cfg.sendQueueTargetMs <= 0) return null;
    if (intervalStart === -Infinity) intervalStart = at;
    intervalTook.push(took);
    if (at - intervalStart < QUEUE_INTERVAL_MS || intervalTook.length < QUEUE_MIN_SAMPLES) return null;
    const median = intervalTook.sort((a, b) => a - b)[intervalTook.length >> 1];
    intervalStart = at;
    intervalTook = [];
    const target = queueTarget();
    const stood = targetKnown() && median > target;
    // Only what the node does while it takes all it is offered teaches it its usual median
    // (the first interval of an overload moves it by a hundredth; the cut then binds).
    if (!limitHit) {
      // A plain mean of the first intervals (weight 1 for the first), then a moving one.
      usualMs += Math.max(USUAL_ALPHA, 1 / (usualIntervals + 1)) * (median - usualMs);
      usualIntervals += 1;
    }
    limitHit = false;
    return stood ? Math.min(0.9, Math.max(0.5, target / median)) : null;
  }

  /** Share of the requests of the last 2 s that were shed (0 with too few to say). */
  function shedRatio(): number {
    const cur = Math.floor(now() / BUCKET_MS);
    let admitted = 0;
    let refused = 0;
    for (const b of window) {
      if (cur - b.at >= WINDOW_BUCKETS) continue;
      admitted += b.admitted;
      refused += b.shed;
    }
    const total = admitted + refused;
    return total >= MIN_WINDOW_REQUESTS ? refused / total : 0;
  }

  function refuse(reason: ShedReason, base?: number): AppError {
    shed[reason] += 1;
    bucket().shed += 1;
    for (const f of onShed) f(reason);
    return shedError(reason, retryAfterMs(base));
  }

  return {
    config: cfg,

    /**
     * Takes one ack slot of a socket and checks the node's database pressure; returns the
     * release (told whether the request was shed later on), or throws the refusal.
     * `touchesDb: false` (typing, token refresh) skips the database check.
     */
    enter(socket: object, touchesDb = true): (shedLater: boolean) => void {
      const pending = pendingBySocket.get(socket) ?? 0;
      if (pending >= cfg.maxPendingPerSocket) throw refuse('socket-pending');
      if (touchesDb && dbInFlight >= cfg.maxDbInFlight) throw refuse('db', dbMs * dbInFlight);
      pendingBySocket.set(socket, pending + 1);
      pendingAcks += 1;
      let released = false;
      return (shedLater) => {
        if (released) return;
        released = true;
        // Counted for readiness once its fate is known: a send refused by its room's bound is not "admitted".
        if (!shedLater) bucket().admitted += 1;
        pendingAcks -= 1;
        const left = (pendingBySocket.get(socket) ?? 1) - 1;
        if (left > 0) pendingBySocket.set(socket, left);
        else pendingBySocket.delete(socket);
      };
    },

    /** A REST request: the database check only (HTTP has no per-connection queue of ours). */
    enterHttp(): void {
      if (dbInFlight >= cfg.maxDbInFlight) throw refuse('db', dbMs * dbInFlight);
      bucket().admitted += 1;
    },

    /** Runs fn with the request budget: past it, checkBudget() throws the deadline refusal. */
    withBudget<T>(fn: () => T): T {
      return withBudget(cfg.budgetMs, () => refuse('deadline'), fn);
    },

    /** Runs one send of `senderId` within the sender's, the room's and the node's bounds, or refuses it at once. */
    async send<T>(roomId: string, senderId: string, fn: () => Promise<T>): Promise<T> {
      const room = roomSends.get(roomId) ?? { n: 0, turnMs: 0 };
      const ahead = room.n;
      const mine = senderSends.get(senderId) ?? 0;
      // One user's backlog is that user's doing: RATE_LIMITED, back in about the time a send takes now.
      if (mine >= cfg.maxSendsPerSender) throw refuse('sender-sends', sendMs);
      if (sendsInProgress >= cfg.maxSendsPerNode) throw refuse('node-sends');
      if (ahead >= cfg.maxSendsPerRoom) throw refuse('room-sends', ahead * room.turnMs);
      // The room's queue: this send would wait for the `ahead` sends before it.
      if (ahead >= cfg.roomSendBurst && tooSlow((ahead + 1) * room.turnMs)) throw refuse('send-wait', (ahead + 1) * room.turnMs);
      // Nothing in progress: no queue stands, so a cut from an earlier overload no longer applies.
      if (sendsInProgress === 0) sendLimit = cfg.maxSendsPerNode;
      if ((cfg.maxSendWaitMs > 0 || cfg.sendQueueTargetMs > 0) && sendsInProgress >= sendLimit) {
        limitHit = true;
        throw refuse('send-wait');
      }
      room.n += 1;
      roomSends.set(roomId, room);
      senderSends.set(senderId, mine + 1);
      sendsInProgress += 1;
      const started = now();
      try {
        return await fn();
      } finally {
        const took = now() - started;
        const turn = took / (ahead + 1);
        room.turnMs = follow(room.turnMs, turn);
        sendMs = follow(sendMs, took);
        const at = now();
        const keep = standingQueue(took, at);
        if (keep !== null) {
          // Cut from what is in progress, not from a ceiling the node never reached: the cut bites at once.
          lastShrink = at;
          sendLimit = Math.max(cfg.sendLimitFloor, Math.min(sendLimit, sendsInProgress) * keep);
        } else if (tooSlow(took)) {
          // Only sends admitted after the last shrink count: those before it were admitted under the old limit.
          if (started - lastShrink > SHRINK_EVERY_MS) {
            lastShrink = at;
            sendLimit = Math.max(cfg.sendLimitFloor, sendLimit * 0.9);
          }
        } else if (!(cfg.sendQueueTargetMs > 0 && took > queueTarget())) sendLimit = Math.min(cfg.maxSendsPerNode, sendLimit + 1 / sendLimit);
        // The pace only while busy (another send was in progress): an idle gap is not a slow drain.
        if (sendsInProgress > 1 && lastDone > -Infinity) doneEveryMs = follow(doneEveryMs, at - lastDone);
        lastDone = at;
        sendsInProgress -= 1;
        const left = (senderSends.get(senderId) ?? 1) - 1;
        if (left > 0) senderSends.set(senderId, left);
        else senderSends.delete(senderId);
        room.n -= 1;
        // No send left: no queue either, so the next burst starts from a clean slate.
        if (room.n === 0) roomSends.delete(roomId);
      }
    },

    /** Database operation accounting (driver pool and command events: signals.ts). */
    dbStarted(): void {
      dbInFlight += 1;
    },
    dbFinished(): void {
      dbInFlight = Math.max(0, dbInFlight - 1);
    },
    dbCommandTook(ms: number): void {
      dbMs += 0.05 * (ms - dbMs);
    },

    /** Called with the reason of every refusal (metrics). */
    onShed(f: (reason: ShedReason) => void): void {
      onShed.push(f);
    },

    /**
     * True while the node sheds a large share of what it is asked (the load balancer should
     * send new connections elsewhere); with hysteresis, so readiness does not flap.
     */
    sheddingHard(): boolean {
      if (cfg.readyShedRatio <= 0) return false;
      bucket();
      const ratio = shedRatio();
      hard = hard ? ratio >= cfg.readyShedRatio / 2 : ratio >= cfg.readyShedRatio;
      return hard;
    },

    stats(): AdmissionStats {
      let busiest = 0;
      for (const r of roomSends.values()) busiest = Math.max(busiest, r.n);
      let busiestSender = 0;
      for (const n of senderSends.values()) busiestSender = Math.max(busiestSender, n);
      return { sendsInProgress, busiestRoomSends: busiest, busiestSenderSends: busiestSender, pendingAcks, dbInFlight, sendMs: Math.round(sendMs), sendLimit: Math.round(sendLimit), sendTargetMs: targetKnown() ? Math.round(queueTarget()) : 0, shed: { ...shed } };
    },
  };
}
