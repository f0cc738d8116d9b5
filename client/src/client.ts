// ChatClient: one logical connection over Socket.IO that survives reconnects and node
// deaths. It reconnects (rotating through the given URLs), refreshes the token before it
// expires, retries sends with the same clientMsgId, and delivers each followed room's
// messages exactly once in seq order, filling gaps from history.
import { io, type Socket } from 'socket.io-client';
import type { AttachmentDto, HistoryPage, MessageDto, Page, PresenceDto, ProfilePatch, ReadState, RoomDto, RoomSummaryDto, UserDto } from './contract/dto';
import type { ServerToClientEvents } from './contract/events';
import type { AckResponse } from './contract/ack';
import { backoffDelay, sleep, type BackoffOptions, DEFAULT_BACKOFF } from './backoff';
import { TypedEmitter } from './emitter';
import { clientErrors, isRetryable, toChatError, type ChatError, type Result } from './errors';
import { HistoryPager } from './history';
import type { RequestName, Requests } from './requests';
import { RoomStream } from './room-stream';
import { fetchToken, readClaims, refreshDelayMs, type TokenProvider } from './token';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface UnreadState {
  roomId: string;
  lastSeq: number;
  lastReadSeq: number;
  unreadCount: number;
}

/** Events the SDK adds to the server's own (which are re-emitted as they arrive). */
export interface SdkEvents {
  /** A followed room's next message: every seq once, in order, across reconnects. */
  message: (message: MessageDto) => void;
  state: (state: ConnectionState) => void;
  /** A room's unread count changed (new message, read mark here or on another device). */
  unread: (unread: UnreadState) => void;
  /** Users typing in a room changed. */
  typingChanged: (p: { roomId: string; userIds: string[] }) => void;
  /** Failures nobody awaits: a refused handshake, a failed token refresh. */
  error: (error: ChatError) => void;
}

export type ChatClientEvents = SdkEvents & ServerToClientEvents;

export interface ChatClientOptions {
  /** Server URL, or several nodes of one cluster: a lost connection moves to the next. */
  url: string | string[];
  /** A token, or a function that returns a fresh one (called on every connect and refresh). */
  token: TokenProvider;
  /** Socket.IO transports; WebSocket only by default (no sticky sessions needed). */
  transports?: Array<'websocket' | 'polling'>;
  /** How long one request waits for its ack (and for a connection), default 10 s. */
  requestTimeoutMs?: number;
  /** How long `send` keeps retrying before it gives up, default 60 s. */
  sendTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** Refresh at most this long before expiry (default 60 s, or a fifth of the token's life). */
  refreshMarginMs?: number;
  /**
   * Extension (delivery receipts): acknowledge every message that arrives (`message:new`, and
   * followed rooms' catch-up pages) with `markDelivered`. Off by default.
   */
  deliveryReceipts?: boolean;
}

interface FollowedRoom {
  stream: RoomStream;
  catchingUp: boolean;
  again: boolean;
}

const TYPING_RESEND_MS = 3000;
/** Receipts of a room within this window go out as one `message:delivered`, with the highest seq. */
const DELIVERY_BATCH_MS = 250;
const TYPING_IDLE_MS = 5000;
const TYPING_EXPIRE_MS = 8000;

function newClientMsgId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return c?.randomUUID ? c.randomUUID() : `m-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

export class ChatClient extends TypedEmitter<ChatClientEvents> {
  /** The signed-in user's id (from the token's `sub`), known once connected. */
  userId: string | null = null;
  private readonly urls: string[];
  private readonly opts: Required<Omit<ChatClientOptions, 'url' | 'token'>>;
  private socket: Socket | null = null;
  private stateValue: ConnectionState = 'idle';
  private urlIndex = 0;
  private closed = false;
  private loop: Promise<void> | null = null;
  private waiters = new Set<() => void>();
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly followed = new Map<string, FollowedRoom>();
  private readonly unread = new Map<string, { lastSeq: number; lastReadSeq: number }>();
  private readonly presence = new Map<string, PresenceDto>();
  private readonly typists = new Map<string, Map<string, ReturnType<typeof setTimeout>>>();
  private readonly myTyping = new Map<string, { sentAt: number; idle: ReturnType<typeof setTimeout> }>();
  /** Delivery receipts not sent yet (highest seq per room), and the highest the server acked. */
  private readonly deliveryPending = new Map<string, number>();
  private readonly deliveryAcked = new Map<string, number>();
  private deliveryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly options: ChatClientOptions) {
    super();
    this.urls = Array.isArray(options.url) ? [...options.url] : [options.url];
    if (this.urls.length === 0) throw new Error('ChatClient: at least one url');
    this.opts = {
      transports: options.transports ?? ['websocket'],
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      sendTimeoutMs: options.sendTimeoutMs ?? 60_000,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      refreshMarginMs: options.refreshMarginMs ?? 60_000,
      deliveryReceipts: options.deliveryReceipts ?? false,
    };
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  // ------------------------------------------------------------------ connection

  /**
   * Starts the connection loop and resolves once connected (or with the error that
   * stopped it: a token the server refuses twice, or the client closed).
   */
  async connect(): Promise<Result<void>> {
    if (this.closed) return { ok: false, error: clientErrors.closed() };
    this.loop ??= this.runLoop();
    let refused: ChatError | null = null;
    const off = this.on('error', (e) => {
      if (e.code === 'UNAUTHORIZED') refused = e;
    });
    try {
      while (!this.socket?.connected) {
        if (this.closed) return { ok: false, error: clientErrors.closed() };
        if (refused) return { ok: false, error: refused };
        await this.waitForChange(1000);
      }
      return { ok: true, data: undefined };
    } finally {
      off();
    }
  }

  /** Closes the connection for good; pending requests end with CLOSED. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.deliveryTimer) clearTimeout(this.deliveryTimer);
    for (const t of this.myTyping.values()) clearTimeout(t.idle);
    for (const room of this.typists.values()) for (const t of room.values()) clearTimeout(t);
    this.socket?.close();
    this.setState('closed');
  }

  private setState(state: ConnectionState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.notifyWaiters();
    this.emit('state', state);
  }

  private notifyWaiters(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves on the next state change or after `ms`. */
  private waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private async runLoop(): Promise<void> {
    let failures = 0;
    let refusals = 0;
    while (!this.closed) {
      this.setState('connecting');
      const url = this.urls[this.urlIndex % this.urls.length];
      let token: string;
      try {
        token = await fetchToken(this.options.token);
        this.userId = readClaims(token).sub;
      } catch (err) {
        this.emit('error', { code: 'UNAUTHORIZED', message: `token provider failed: ${(err as Error).message}` });
        await sleep(backoffDelay(++failures, undefined, this.opts.backoff));
        continue;
      }
      const socket = io(url, { auth: { token }, transports: this.opts.transports, reconnection: false, forceNew: true, timeout: this.opts.requestTimeoutMs });
      const outcome = await new Promise<true | { message: string; data?: { code?: string; message?: string } }>((resolve) => {
        socket.once('connect', () => resolve(true));
        socket.once('connect_error', (err) => resolve(err as { message: string; data?: { code?: string; message?: string } }));
      });
      if (this.closed) {
        socket.close();
        break;
      }
      if (outcome !== true) {
        socket.close();
        this.urlIndex++;
        if (outcome.message === 'UNAUTHORIZED') {
          // One refusal can be a token that just expired: ask the provider again once.
          if (++refusals >= 2 || typeof this.options.token === 'string') {
            this.emit('error', { code: 'UNAUTHORIZED', message: outcome.data?.message ?? 'handshake refused' });
            this.setState('disconnected');
            this.loop = null;
            return;
          }
          continue;
        }
        this.setState('disconnected');
        await sleep(backoffDelay(++failures, undefined, this.opts.backoff));
        continue;
      }
      failures = 0;
      refusals = 0;
      const gone = this.attach(socket, token);
      await gone;
      this.detach();
      if (this.closed) break;
      this.urlIndex++;
      this.setState('disconnected');
      // A short jittered pause, so that a dead node's clients do not all arrive at once.
      await sleep(backoffDelay(1, undefined, this.opts.backoff));
    }
  }

  /** Wires a connected socket; resolves when it disconnects. */
  private attach(socket: Socket, token: string): Promise<void> {
    this.socket = socket;
    const gone = new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));
    socket.on('message:new', (m: MessageDto) => {
      this.emit('message:new', m);
      this.onMessage(m);
      if (this.opts.deliveryReceipts && m.senderId !== this.userId) this.markDelivered(m.roomId, m.seq);
    });
    socket.on('read:updated', (p: { roomId: string; userId: string; lastReadSeq: number }) => {
      if (p.userId === this.userId) this.setRead(p.roomId, p.lastReadSeq);
      this.emit('read:updated', p);
    });
    socket.on('presence:updated', (p: PresenceDto) => {
      this.presence.set(p.userId, p);
      this.emit('presence:updated', p);
    });
    socket.on('typing', (p: { roomId: string; userId: string; typing: boolean }) => {
      this.onTyping(p.roomId, p.userId, p.typing);
      this.emit('typing', p);
    });
    const passThrough = ['message:updated', 'room:member_joined', 'room:member_left', 'room:invited', 'session:expired', 'server:draining', 'user:updated', 'delivery:updated'] as const;
    for (const event of passThrough) socket.on(event, (p: any) => (this.emit as (e: string, p: unknown) => void)(event, p));
    this.setState('connected');
    this.scheduleRefresh(token);
    // Whatever was sent while we were away: page every followed room from where it stands.
    for (const roomId of this.followed.keys()) void this.catchUp(roomId);
    return gone;
  }

  private detach(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    this.socket?.removeAllListeners();
    this.socket?.close();
    this.socket = null;
  }

  /** Refreshes the session before the token expires (only with a token function). */
  private scheduleRefresh(token: string): void {
    if (typeof this.options.token === 'string') return;
    const { exp } = readClaims(token);
    if (exp === null) return;
    const socket = this.socket;
    this.refreshTimer = setTimeout(async () => {
      if (this.socket !== socket || this.closed) return;
      try {
        const fresh = await fetchToken(this.options.token);
        const r = await this.request('auth:refresh', { token: fresh });
        if (r.ok) return this.scheduleRefresh(fresh);
        this.emit('error', r.error);
      } catch (err) {
        this.emit('error', { code: 'UNAUTHORIZED', message: `token provider failed: ${(err as Error).message}` });
      }
      // Try again soon; if the token runs out first, the server ends the session and we reconnect.
      if (this.socket === socket) this.refreshTimer = setTimeout(() => this.scheduleRefresh(token), 5000);
    }, refreshDelayMs(exp, Date.now(), this.opts.refreshMarginMs));
  }

  /** Resolves with the socket once connected, or null at the deadline or when closed. */
  private async connectedSocket(deadline: number): Promise<Socket | null> {
    for (;;) {
      if (this.closed) return null;
      if (this.socket?.connected) return this.socket;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await this.waitForChange(Math.min(left, 250));
    }
  }

  // ------------------------------------------------------------------ requests

  /** Sends one request and resolves with its ack as a Result (TIMEOUT when none comes). */
  async request<E extends RequestName>(event: E, payload: Requests[E]['payload'], opts: { timeoutMs?: number } = {}): Promise<Result<Requests[E]['data']>> {
    const timeoutMs = opts.timeoutMs ?? this.opts.requestTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const socket = await this.connectedSocket(deadline);
    if (!socket) return { ok: false, error: this.closed ? clientErrors.closed() : clientErrors.timeout(event, timeoutMs) };
    try {
      const ack = (await socket.timeout(Math.max(1, deadline - Date.now())).emitWithAck(event, payload)) as AckResponse<Requests[E]['data']>;
      return ack.ok ? { ok: true, data: ack.data } : { ok: false, error: toChatError(ack.error) };
    } catch {
      return { ok: false, error: this.closed ? clientErrors.closed() : clientErrors.timeout(event, timeoutMs) };
    }
  }

  /**
   * Sends a message, retrying with the same clientMsgId (so it is stored once) after
   * timeouts, reconnects, RATE_LIMITED and UNAVAILABLE, until acked or finally refused.
   */
  async send(
    roomId: string,
    text: string,
    opts: { clientMsgId?: string; replyTo?: string; threadOf?: string; alsoInRoom?: boolean; timeoutMs?: number; attachments?: AttachmentDto[] } = {},
  ): Promise<Result<MessageDto>> {
    // Extension (attachments): with at least one attachment, an empty text is left out.
    const withFiles = (opts.attachments?.length ?? 0) > 0;
    const payload = {
      roomId,
      clientMsgId: opts.clientMsgId ?? newClientMsgId(),
      ...(text !== '' || !withFiles ? { text } : {}),
      ...(opts.replyTo ? { replyTo: opts.replyTo } : {}),
      // Extension (threads): a reply in the thread of `threadOf`, optionally also shown in the room.
      ...(opts.threadOf ? { threadOf: opts.threadOf } : {}),
      ...(opts.threadOf && opts.alsoInRoom ? { alsoInRoom: true } : {}),
      ...(withFiles ? { attachments: opts.attachments } : {}),
    };
    const deadline = Date.now() + (opts.timeoutMs ?? this.opts.sendTimeoutMs);
    let last: ChatError | null = null;
    for (let attempt = 1; ; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) return { ok: false, error: last ?? clientErrors.timeout('message:send', opts.timeoutMs ?? this.opts.sendTimeoutMs) };
      const r = await this.request('message:send', payload, { timeoutMs: Math.min(left, this.opts.requestTimeoutMs) });
      if (r.ok) {
        this.onMessage(r.data);
        return r;
      }
      if (!isRetryable(r.error.code)) return r;
      last = r.error;
      await sleep(Math.min(backoffDelay(attempt, r.error.retryAfterMs, this.opts.backoff), Math.max(0, deadline - Date.now())));
    }
  }

  // ------------------------------------------------------------------ ordered rooms

  /**
   * Follows a room: the `message` event gets every message with seq > afterSeq exactly
   * once, in seq order, including those sent while disconnected. Returns once caught up.
   */
  async follow(roomId: string, afterSeq = 0): Promise<void> {
    if (!this.followed.has(roomId)) {
      this.followed.set(roomId, { stream: new RoomStream(roomId, afterSeq, (m) => this.emit('message', m)), catchingUp: false, again: false });
    }
    await this.catchUp(roomId);
  }

  unfollow(roomId: string): void {
    this.followed.delete(roomId);
  }

  /** The highest seq delivered for a followed room (null when not followed). */
  deliveredSeq(roomId: string): number | null {
    return this.followed.get(roomId)?.stream.highest ?? null;
  }

  private onMessage(m: MessageDto): void {
    const u = this.unread.get(m.roomId);
    // Rooms whose read mark is unknown (not listed yet) are not counted rather than guessed.
    if (u && m.seq > u.lastSeq) this.setUnread(m.roomId, m.seq, u.lastReadSeq);
    const room = this.followed.get(m.roomId);
    if (room && room.stream.ingest(m)) void this.catchUp(m.roomId);
  }

  /** Pages history after the highest delivered seq until nothing more is missing. */
  private async catchUp(roomId: string): Promise<void> {
    const room = this.followed.get(roomId);
    if (!room) return;
    if (room.catchingUp) {
      room.again = true;
      return;
    }
    room.catchingUp = true;
    try {
      for (let attempt = 1; !this.closed && this.followed.get(roomId) === room; ) {
        room.again = false;
        const r = await this.request('message:history', { roomId, afterSeq: room.stream.highest, limit: 100 });
        if (!r.ok) {
          if (r.error.code === 'CLOSED') return;
          if (!isRetryable(r.error.code)) {
            this.emit('error', r.error);
            return;
          }
          await sleep(backoffDelay(attempt++, r.error.retryAfterMs, this.opts.backoff));
          continue;
        }
        attempt = 1;
        for (const m of r.data.items) room.stream.ingest(m);
        const last = r.data.items[r.data.items.length - 1];
        if (this.opts.deliveryReceipts && last) this.markDelivered(roomId, last.seq);
        if (!r.data.hasMore && !room.again) return;
      }
    } finally {
      room.catchingUp = false;
    }
  }

  // ------------------------------------------------------------------ rooms, history

  /** One page of the caller's rooms (most recent activity first); records their unread counts. */
  async listRooms(opts: { cursor?: string; limit?: number } = {}): Promise<Result<{ items: RoomSummaryDto[]; nextCursor: string | null }>> {
    const r = await this.request('room:list', opts);
    if (r.ok) for (const s of r.data.items) this.setUnread(s.id, s.lastSeq, s.lastReadSeq);
    return r;
  }

  /** Every room of the caller, all pages. */
  async allRooms(): Promise<Result<RoomSummaryDto[]>> {
    const items: RoomSummaryDto[] = [];
    for (let cursor: string | undefined; ; ) {
      const r = await this.listRooms({ cursor, limit: 100 });
      if (!r.ok) return r;
      items.push(...r.data.items);
      if (!r.data.nextCursor) return { ok: true, data: items };
      cursor = r.data.nextCursor;
    }
  }

  createRoom(type: 'public' | 'private', name: string, memberIds?: string[]): Promise<Result<RoomDto>> {
    return this.request('room:create', { type, name, ...(memberIds ? { memberIds } : {}) });
  }

  joinRoom(roomId: string): Promise<Result<RoomDto>> {
    return this.request('room:join', { roomId });
  }

  /** The direct room with another user (the same one every time). */
  openDm(userId: string): Promise<Result<RoomDto>> {
    return this.request('dm:open', { userId });
  }

  /** A scroll-back pager: `older()` returns the newest page first, then each page before it. */
  history(roomId: string, limit = 50): HistoryPager {
    return new HistoryPager((payload) => this.request('message:history', payload), roomId, limit);
  }

  /** Pages forward from `afterSeq` to the newest message, one page per iteration. */
  async *pagesAfter(roomId: string, afterSeq = 0, limit = 100): AsyncGenerator<MessageDto[], Result<void>> {
    for (let after = afterSeq; ; ) {
      const r = await this.request('message:history', { roomId, afterSeq: after, limit });
      if (!r.ok) return r;
      if (r.data.items.length > 0) yield r.data.items;
      if (!r.data.hasMore || r.data.items.length === 0) return { ok: true, data: undefined };
      after = r.data.items[r.data.items.length - 1].seq;
    }
  }

  /** Extension (threads): one page of a thread's replies (the newest without a cursor), ascending seq. */
  threadPage(messageId: string, opts: { beforeSeq?: number; afterSeq?: number; limit?: number } = {}): Promise<Result<HistoryPage>> {
    return this.request('thread:history', { messageId, ...opts });
  }

  // ------------------------------------------------------------------ read state, unread

  /** Marks a room read up to `seq` (the server never moves the mark backwards). */
  async markRead(roomId: string, seq: number): Promise<Result<ReadState>> {
    const r = await this.request('message:read', { roomId, seq });
    if (r.ok) this.setRead(roomId, r.data.lastReadSeq);
    return r;
  }

  /**
   * Extension (delivery receipts): says messages of a room up to `seq` reached this device.
   * Batched: at most one `message:delivered` per room every 250 ms, with the highest seq;
   * a receipt that fails for a transient reason (timeout, reconnect, UNAVAILABLE) is sent again
   * with the next batch. Room-mates see it as `delivery:updated` and in member lists.
   */
  markDelivered(roomId: string, seq: number): void {
    if (this.closed || seq <= (this.deliveryAcked.get(roomId) ?? 0) || seq <= (this.deliveryPending.get(roomId) ?? 0)) return;
    this.deliveryPending.set(roomId, seq);
    this.deliveryTimer ??= setTimeout(() => void this.flushDelivered(), DELIVERY_BATCH_MS);
  }

  private async flushDelivered(): Promise<void> {
    this.deliveryTimer = null;
    const batch = [...this.deliveryPending];
    this.deliveryPending.clear();
    await Promise.all(
      batch.map(async ([roomId, seq]) => {
        const r = await this.request('message:delivered', { roomId, seq });
        if (r.ok) this.deliveryAcked.set(roomId, Math.max(this.deliveryAcked.get(roomId) ?? 0, r.data.lastDeliveredSeq, seq));
        else if (isRetryable(r.error.code)) this.markDelivered(roomId, seq);
      }),
    );
  }

  /** The unread count the client knows for a room (from listRooms and what arrived since). */
  unreadCount(roomId: string): number {
    const u = this.unread.get(roomId);
    return u ? Math.max(0, u.lastSeq - u.lastReadSeq) : 0;
  }

  private setRead(roomId: string, lastReadSeq: number): void {
    const u = this.unread.get(roomId);
    this.setUnread(roomId, Math.max(u?.lastSeq ?? 0, lastReadSeq), Math.max(u?.lastReadSeq ?? 0, lastReadSeq));
  }

  private setUnread(roomId: string, lastSeq: number, lastReadSeq: number): void {
    const before = this.unread.get(roomId);
    if (before && before.lastSeq === lastSeq && before.lastReadSeq === lastReadSeq) return;
    this.unread.set(roomId, { lastSeq, lastReadSeq });
    this.emit('unread', { roomId, lastSeq, lastReadSeq, unreadCount: Math.max(0, lastSeq - lastReadSeq) });
  }

  // ------------------------------------------------------------------ presence, typing

  /** Asks the server for users' presence (at most 100) and remembers the answers. */
  async getPresence(userIds: string[]): Promise<Result<PresenceDto[]>> {
    const r = await this.request('presence:get', { userIds });
    if (!r.ok) return r;
    for (const p of r.data.items) this.presence.set(p.userId, p);
    return { ok: true, data: r.data.items };
  }

  // ------------------------------------------------------------------ profiles (extension)

  /** Changes the caller's profile (`null` clears avatarUrl or statusText); room-mates get user:updated. */
  async updateProfile(patch: ProfilePatch): Promise<Result<UserDto>> {
    const r = await this.request('user:update', patch);
    return r.ok ? { ok: true, data: r.data.user } : r;
  }

  /** Users whose username starts with `prefix` (3+ characters, any case), one page at a time. */
  searchUsers(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<Result<Page<UserDto>>> {
    return this.request('user:search', { prefix, ...opts });
  }

  // ------------------------------------------------------------------ user blocks (extension)

  /**
   * Blocks a user: you stop receiving its messages, typing and presence, and it can no longer
   * open or write into your direct room (it gets FORBIDDEN with details.reason "BLOCKED").
   * History still holds its messages: hide them with listBlocks().
   */
  block(userId: string): Promise<Result<Record<string, never>>> {
    return this.request('user:block', { userId });
  }

  unblock(userId: string): Promise<Result<Record<string, never>>> {
    return this.request('user:unblock', { userId });
  }

  /** The ids of the users you block. */
  async listBlocks(): Promise<Result<string[]>> {
    const r = await this.request('user:list_blocks', {});
    return r.ok ? { ok: true, data: r.data.userIds } : r;
  }

  /** The last presence known for a user (from getPresence or presence:updated). */
  presenceOf(userId: string): PresenceDto | null {
    return this.presence.get(userId) ?? null;
  }

  /** Call on every keystroke: sends typing:start at most every 3 s, typing:stop after 5 s idle. */
  typing(roomId: string): void {
    const now = Date.now();
    const mine = this.myTyping.get(roomId);
    if (mine) clearTimeout(mine.idle);
    const sentAt = mine && now - mine.sentAt < TYPING_RESEND_MS ? mine.sentAt : now;
    if (sentAt === now) this.socket?.emit('typing:start', { roomId });
    this.myTyping.set(roomId, { sentAt, idle: setTimeout(() => this.stopTyping(roomId), TYPING_IDLE_MS) });
  }

  /** Says the user stopped typing (e.g. after sending). */
  stopTyping(roomId: string): void {
    const mine = this.myTyping.get(roomId);
    if (!mine) return;
    clearTimeout(mine.idle);
    this.myTyping.delete(roomId);
    this.socket?.emit('typing:stop', { roomId });
  }

  /** Who is typing in a room now (entries expire if a stop never comes). */
  typingIn(roomId: string): string[] {
    return [...(this.typists.get(roomId)?.keys() ?? [])];
  }

  private onTyping(roomId: string, userId: string, typing: boolean): void {
    let room = this.typists.get(roomId);
    if (!room) this.typists.set(roomId, (room = new Map()));
    clearTimeout(room.get(userId));
    if (typing) room.set(userId, setTimeout(() => this.onTyping(roomId, userId, false), TYPING_EXPIRE_MS));
    else if (!room.delete(userId)) return;
    this.emit('typingChanged', { roomId, userIds: [...room.keys()] });
  }
}

/** Creates a client and starts connecting; `await client.connect()` to wait for the first connection. */
export function createChatClient(options: ChatClientOptions): ChatClient {
  return new ChatClient(options);
}
