// A chat client that behaves as the contract asks a mobile app to: when its connection
// drops (or the node says server:draining) it connects to another node, pages
// `message:history afterSeq` for each room until hasMore is false, fills gaps when a seq
// jumps, dedupes by seq, and retries a send with the same clientMsgId until it is acked.
// It records everything the chaos run checks: acks, failures by code, duplicates, order.
import { io, type Socket } from 'socket.io-client';
import { RetryBudget } from '../lib/retry-budget';

export interface StoredMessage {
  id: string;
  roomId: string;
  seq: number;
  senderId: string;
  clientMsgId: string;
  text: string;
}

export interface AckedSend {
  clientMsgId: string;
  roomId: string;
  id: string;
  seq: number;
  attempts: number;
  ackedAt: number;
}

interface Ack {
  ok: boolean;
  data?: any;
  error?: { code: string; message: string };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Exponential backoff with full jitter, 200 ms to 5 s: retries must not pile onto a struggling node. */
const backoff = (attempt: number) => Math.random() * Math.min(5000, 200 * 2 ** Math.min(attempt, 10));

/** After the n-th refusal of one send: the server's retryAfterMs, but at least 100 ms doubling per refusal (to 5 s), × 1 to 1.5. */
export const retryAfterWait = (retryAfterMs: number, refusals: number) => Math.max(retryAfterMs, Math.min(5000, 100 * 2 ** (refusals - 1))) * (1 + Math.random() / 2);

/** One attempt of a send: when it started, how long until its answer, and the answer ('ok', an error code, 'timeout', 'disconnected'). */
export interface SendAttempt {
  at: number;
  ms: number;
  code: string;
}

export class ChaosClient {
  /** Every send attempt (the overload phase reads its latencies and timeouts from these). */
  readonly attempts: SendAttempt[] = [];
  socket: Socket | null = null;
  /** Per room: seq → message, merged from live events and history (deduped by seq). */
  readonly view = new Map<string, Map<number, StoredMessage>>();
  /** Error acks by code, for every failed attempt. */
  readonly failures = new Map<string, number>();
  /** Attempts that got no ack at all (connection lost, node gone): retried. */
  unanswered = 0;
  /** The same seq delivered twice on one connection. */
  sameSocketDuplicates = 0;
  /** A message:new older than one already received on the same connection. */
  outOfOrder = 0;
  /** A seq seen with two different message ids (a seq handed out twice). */
  conflicts = 0;
  /** A send repeated after its ack (same clientMsgId) that came back as another message. */
  ackMismatches = 0;
  reconnects = 0;
  readonly acked: AckedSend[] = [];
  private readonly retryBudget = new RetryBudget();
  private readonly rooms = new Set<string>();
  /** Per room: the highest contiguous seq found so far (scanning from 0 on every message made the generator the bottleneck). */
  private readonly contiguous = new Map<string, number>();
  private readonly recovering = new Map<string, Promise<boolean>>();
  private readonly recoverAgain = new Set<string>();
  private closed = false;
  private connecting: Promise<Socket> | null = null;
  private next: number;

  constructor(
    readonly userId: string,
    readonly token: string,
    private readonly urls: string[],
    start: number,
  ) {
    this.next = start;
  }

  get connected(): boolean {
    return Boolean(this.socket?.connected);
  }

  connect(): Promise<Socket> {
    this.connecting ??= this.open().finally(() => (this.connecting = null));
    return this.connecting;
  }

  async follow(roomId: string): Promise<void> {
    this.rooms.add(roomId);
    if (!this.view.has(roomId)) this.view.set(roomId, new Map());
    await this.recover(roomId);
  }

  followed(): string[] {
    return [...this.rooms];
  }

  /** Highest seq held with nothing missing below it (views only grow, so it resumes where it stopped). */
  highest(roomId: string): number {
    const view = this.view.get(roomId);
    let seq = this.contiguous.get(roomId) ?? 0;
    while (view?.has(seq + 1)) seq += 1;
    this.contiguous.set(roomId, seq);
    return seq;
  }

  async request(event: string, payload: unknown, timeoutMs = 3000): Promise<Ack> {
    const socket = this.socket?.connected ? this.socket : await this.connect();
    return (await socket.timeout(timeoutMs).emitWithAck(event, payload)) as Ack;
  }

  /** Sends until acked (same clientMsgId on every attempt); gives up after `giveUpMs`. */
  async send(roomId: string, text: string, giveUpMs = 120_000): Promise<AckedSend | null> {
    const clientMsgId = `chaos-${this.userId.slice(-6)}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const deadline = Date.now() + giveUpMs;
    this.retryBudget.earn();
    for (let attempts = 1; !this.closed && Date.now() < deadline; attempts++) {
      let ack: Ack | null = null;
      const at = Date.now();
      try {
        ack = await this.request('message:send', { roomId, clientMsgId, text });
        this.attempts.push({ at, ms: Date.now() - at, code: ack.ok ? 'ok' : ack.error?.code ?? 'MALFORMED' });
      } catch (err) {
        this.unanswered += 1;
        this.attempts.push({ at, ms: Date.now() - at, code: /timed out|timeout/i.test((err as Error).message) ? 'timeout' : 'disconnected' });
      }
      if (ack?.ok) {
        const m = ack.data as StoredMessage;
        // Now and then the app retries a send that was in fact acked: it must get the same message.
        if (Math.random() < 0.1) {
          const again = await this.request('message:send', { roomId, clientMsgId, text }).catch(() => null);
          if (again?.ok && (again.data.id !== m.id || again.data.seq !== m.seq)) this.ackMismatches += 1;
        }
        const done: AckedSend = { clientMsgId, roomId, id: m.id, seq: m.seq, attempts, ackedAt: Date.now() };
        this.acked.push(done);
        this.record(m);
        return done;
      }
      if (ack) this.failures.set(ack.error?.code ?? 'MALFORMED', (this.failures.get(ack.error?.code ?? 'MALFORMED') ?? 0) + 1);
      // A refusal is retried only within the client's retry budget: past it the send is given up
      // (it was answered), so that an overloaded node is not asked again and again for the same sends.
      if (ack && !this.retryBudget.spend()) return null;
      const retryAfter = (ack?.error as { details?: { retryAfterMs?: number } } | undefined)?.details?.retryAfterMs;
      // The server's retryAfterMs, at least doubling with each refusal of this send (a send refused
      // again and again must not keep the node at its limit), plus up to half again (jitter: refused
      // clients must not all come back at once).
      await sleep(retryAfter !== undefined ? retryAfterWait(retryAfter, attempts) : backoff(attempts));
    }
    return null;
  }

  /**
   * Pages history after the highest contiguous seq until hasMore is false (retries across
   * outages). One recovery per room at a time: a gap noticed while one runs makes it run
   * once more afterwards, instead of starting a second pager (a history storm).
   */
  recover(roomId: string, giveUpMs = 120_000): Promise<boolean> {
    const running = this.recovering.get(roomId);
    if (running) {
      this.recoverAgain.add(roomId);
      return running;
    }
    const run = (async () => {
      let ok = await this.page(roomId, giveUpMs);
      while (ok && this.recoverAgain.delete(roomId)) ok = await this.page(roomId, giveUpMs);
      return ok;
    })().finally(() => this.recovering.delete(roomId));
    this.recovering.set(roomId, run);
    return run;
  }

  private async page(roomId: string, giveUpMs: number): Promise<boolean> {
    const deadline = Date.now() + giveUpMs;
    let failures = 0;
    while (!this.closed && Date.now() < deadline) {
      try {
        // Pages on from the last item seen, so that a hole in seq cannot loop forever.
        let after = this.highest(roomId);
        for (;;) {
          const ack = await this.request('message:history', { roomId, afterSeq: after, limit: 100 });
          if (!ack.ok) throw new Error(ack.error?.code);
          const items = ack.data.items as StoredMessage[];
          for (const m of items) this.record(m);
          if (!ack.data.hasMore) return true;
          if (items.length === 0) throw new Error('hasMore with an empty page');
          after = items[items.length - 1].seq;
        }
      } catch {
        failures += 1;
        await sleep(backoff(failures));
      }
    }
    return false;
  }

  /** Every stored message of a room, paged from the start (independent of what was received). */
  async readAll(roomId: string): Promise<StoredMessage[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        const out: StoredMessage[] = [];
        let after = 0;
        for (;;) {
          const ack = await this.request('message:history', { roomId, afterSeq: after, limit: 100 });
          if (!ack.ok) throw new Error(ack.error?.code);
          const items = ack.data.items as StoredMessage[];
          out.push(...items);
          if (!ack.data.hasMore) return out;
          after = items[items.length - 1].seq;
        }
      } catch (err) {
        if (attempt >= 20) throw err;
        await sleep(500);
      }
    }
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
  }

  private record(m: StoredMessage): void {
    const view = this.view.get(m.roomId);
    if (!view) return;
    const held = view.get(m.seq);
    if (held && held.id !== m.id) this.conflicts += 1;
    if (!held) view.set(m.seq, { id: m.id, roomId: m.roomId, seq: m.seq, senderId: m.senderId, clientMsgId: m.clientMsgId, text: m.text });
  }

  private async open(): Promise<Socket> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new Error('client closed');
      const url = this.urls[this.next++ % this.urls.length];
      try {
        const socket = await this.tryConnect(url);
        this.socket = socket;
        return socket;
      } catch {
        await sleep(Math.min(100 * (attempt + 1), 1000));
      }
    }
  }

  private tryConnect(url: string): Promise<Socket> {
    const socket = io(url, { auth: { token: this.token }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 3000 });
    const seenHere = new Map<string, Set<number>>();
    const lastHere = new Map<string, number>();
    socket.on('message:new', (m: StoredMessage) => {
      if (!this.rooms.has(m.roomId)) return;
      const seen = seenHere.get(m.roomId) ?? new Set<number>();
      if (seen.has(m.seq)) this.sameSocketDuplicates += 1;
      seen.add(m.seq);
      seenHere.set(m.roomId, seen);
      if (m.seq < (lastHere.get(m.roomId) ?? 0)) this.outOfOrder += 1;
      lastHere.set(m.roomId, Math.max(m.seq, lastHere.get(m.roomId) ?? 0));
      const jump = m.seq > this.highest(m.roomId) + 1;
      this.record(m);
      if (jump) void this.recover(m.roomId);
    });
    socket.on('server:draining', ({ reconnectInMs }: { reconnectInMs: number }) => {
      setTimeout(() => {
        if (this.socket === socket) socket.close();
        void this.afterDisconnect(socket);
      }, Math.min(reconnectInMs, 5000));
    });
    socket.on('disconnect', () => void this.afterDisconnect(socket));
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (err) => {
        socket.close();
        reject(err);
      });
    });
  }

  private async afterDisconnect(socket: Socket): Promise<void> {
    if (this.closed || this.socket !== socket) return;
    this.socket = null;
    this.reconnects += 1;
    try {
      await this.connect();
      await Promise.all([...this.rooms].map((r) => this.recover(r)));
    } catch {
      // closed meanwhile
    }
  }
}
