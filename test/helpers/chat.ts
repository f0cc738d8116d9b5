// Black-box helpers for the chat integration tests: REST calls, registered
// users with sockets, strict ack/DTO assertions. Written from the client
// contract alone (shared PROTOCOL.md); nothing here imports server code.
import crypto from 'node:crypto';
import { expect } from 'vitest';
import { connect, request, waitFor, type Ack, type Client } from './clients';

// ---------------------------------------------------------------- wire types

export interface User {
  id: string;
  username: string;
  displayName: string;
  createdAt: string;
}

export type RoomType = 'public' | 'private' | 'direct';
export type Role = 'owner' | 'admin' | 'member';

export interface Room {
  id: string;
  type: RoomType;
  name: string;
  createdBy: string;
  createdAt: string;
  lastSeq: number;
  memberCount: number;
}

export interface Message {
  id: string;
  roomId: string;
  seq: number;
  senderId: string;
  clientMsgId: string;
  text: string;
  replyTo: string | null;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  reactions: Record<string, string[]>;
}

export interface RoomSummary extends Room {
  role: Role;
  lastReadSeq: number;
  unreadCount: number;
  /** Extension (mentions). */
  unreadMentions: number;
  lastMessage: Message | null;
}

export interface Member {
  userId: string;
  role: Role;
  joinedAt: string;
  online: boolean;
  /** Extension (delivery receipts). */
  lastReadSeq: number;
  lastDeliveredSeq: number;
}

export interface HistoryPage {
  items: Message[];
  hasMore: boolean;
}

export interface ErrorBody {
  code: string;
  message: string;
  details?: any;
}

export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'UNAVAILABLE',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const HTTP_STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

/**
 * The environment most chat test apps run with: limits high enough that a
 * test sending many messages or creating many rooms never trips them, short
 * typing/presence timers so those tests stay fast.
 */
export const CHAT_ENV: Record<string, string> = {
  RATE_LIMIT_MESSAGES: '100000',
  RATE_LIMIT_JOINS: '100000',
  RATE_LIMIT_PROFILE_UPDATES: '100000',
  RATE_LIMIT_USER_SEARCHES: '100000',
  RATE_LIMIT_BLOCKS: '100000',
  RATE_LIMIT_FLAGS: '100000',
  MAX_CONNECTIONS_PER_USER: '1000',
  TYPING_AUTO_STOP_MS: '500',
  TYPING_THROTTLE_MS: '0',
  PRESENCE_GRACE_MS: '300',
};

export const PASSWORD = 'correct-horse-battery';

// ---------------------------------------------------------------- small utils

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let counter = 0;
/** A fresh valid username (3–32 of [a-zA-Z0-9_.-]). */
export function uniqueName(prefix = 'u'): string {
  counter += 1;
  return `${prefix}_${counter.toString(36)}${crypto.randomBytes(4).toString('hex')}`.slice(0, 32);
}

/** A fresh clientMsgId. */
export function cmid(prefix = 'c'): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

/** An id that looks like a MongoDB ObjectId but names nothing. */
export function unknownObjectId(): string {
  return crypto.randomBytes(12).toString('hex');
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Asymmetric matcher for an ISO-8601 UTC timestamp as `Date#toISOString` writes it. */
export const isoDate = () => expect.stringMatching(ISO_RE);

/** `new Date(x).toISOString() === x`. */
export function expectIso(x: unknown): void {
  expect(typeof x, `timestamp ${JSON.stringify(x)} is a string`).toBe('string');
  expect(new Date(x as string).toISOString(), `timestamp ${JSON.stringify(x)} round-trips`).toBe(x);
}

// ---------------------------------------------------------------- REST

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

export interface ApiOptions {
  token?: string | null;
  body?: unknown;
  /** Sent verbatim instead of JSON.stringify(body). */
  rawBody?: string;
  headers?: Record<string, string>;
}

/** One REST call; the body is parsed as JSON when the server says it is JSON. */
export async function api<T = any>(url: string, method: string, path: string, opts: ApiOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: any = text;
  if ((res.headers.get('content-type') ?? '').includes('application/json') && text.length > 0) parsed = JSON.parse(text);
  return { status: res.status, body: parsed as T, headers: res.headers, text };
}

/** Asserts a REST error reply: fitting status, JSON body `{ error: { code, message, details? } }`. */
export function expectHttpError(res: ApiResponse, code: ErrorCode, status: number = HTTP_STATUS[code]): ErrorBody {
  expect({ status: res.status, body: res.body }, `HTTP ${code}`).toEqual({
    status,
    body: { error: expect.objectContaining({ code, message: expect.any(String) }) },
  });
  expect(res.headers.get('content-type') ?? '').toContain('application/json');
  const extra = Object.keys(res.body.error).filter((k) => !['code', 'message', 'details'].includes(k));
  expect(extra, 'error body has only code, message, details').toEqual([]);
  return res.body.error;
}

// ---------------------------------------------------------------- users

export interface TestUser {
  id: string;
  username: string;
  token: string;
  user: User;
}

/** Registers a user through POST /api/v1/auth/register (expects 201). */
export async function registerUser(url: string, name = uniqueName(), opts: { password?: string; displayName?: string } = {}): Promise<TestUser> {
  const body: Record<string, string> = { username: name, password: opts.password ?? PASSWORD };
  if (opts.displayName !== undefined) body.displayName = opts.displayName;
  const res = await api(url, 'POST', '/api/v1/auth/register', { body });
  if (res.status !== 201) throw new Error(`register ${name} failed: ${res.status} ${res.text}`);
  return { id: res.body.user.id, username: res.body.user.username, token: res.body.token, user: res.body.user };
}

const openClients = new Set<Client>();

/** Connects a socket for a registered user (tracked for closeClients). */
export async function connectUser(url: string, u: TestUser | string): Promise<Client> {
  const socket = await connect(url, typeof u === 'string' ? u : u.token);
  openClients.add(socket);
  socket.once('disconnect', () => openClients.delete(socket));
  return socket;
}

/** Closes every socket opened through connectUser. */
export function closeClients(): void {
  for (const s of openClients) s.close();
  openClients.clear();
}

export interface Person extends TestUser {
  socket: Client;
}

/** Registers a user and connects one socket for them. */
export async function newPerson(url: string, name?: string): Promise<Person> {
  const u = await registerUser(url, name);
  return { ...u, socket: await connectUser(url, u) };
}

// ---------------------------------------------------------------- acks

export class AckError extends Error {
  constructor(
    readonly event: string,
    readonly error: ErrorBody | undefined,
  ) {
    super(`${event} refused: ${JSON.stringify(error)}`);
  }
}

/** Sends a request and returns its data, throwing (with the error code) when refused. */
export async function ok<T = any>(socket: Client, event: string, payload?: unknown): Promise<T> {
  const ack = await request<T>(socket, event, payload);
  if (!ack || ack.ok !== true) throw new AckError(event, ack?.error);
  return ack.data as T;
}

/** Asserts an ack is exactly `{ ok: false, error: { code, message, details? } }` with `code`. */
export function expectAckError(ack: Ack, code: ErrorCode): ErrorBody {
  expect(ack, `expected ${code}`).toEqual({ ok: false, error: expect.objectContaining({ code, message: expect.any(String) }) });
  const extra = Object.keys(ack.error!).filter((k) => !['code', 'message', 'details'].includes(k));
  expect(extra, 'error has only code, message, details').toEqual([]);
  if (code === 'VALIDATION_FAILED') expect(ack.error!.details, 'VALIDATION_FAILED lists the problems in details').toBeDefined();
  if (code === 'RATE_LIMITED') expect(ack.error!.details?.retryAfterMs).toBeGreaterThan(0);
  return ack.error!;
}

/** Sends a request and asserts it is refused with `code`. */
export async function refused(socket: Client, event: string, payload: unknown, code: ErrorCode): Promise<ErrorBody> {
  return expectAckError(await request(socket, event, payload), code);
}

// ---------------------------------------------------------------- domain shortcuts

export function createRoom(socket: Client, payload: { type: 'public' | 'private'; name?: string; memberIds?: string[] }): Promise<Room> {
  return ok<Room>(socket, 'room:create', { name: uniqueName('room'), ...payload });
}

export function sendMessage(socket: Client, roomId: string, text: string, extra: { clientMsgId?: string; replyTo?: string } = {}): Promise<Message> {
  return ok<Message>(socket, 'message:send', { roomId, clientMsgId: extra.clientMsgId ?? cmid(), text, ...(extra.replyTo ? { replyTo: extra.replyTo } : {}) });
}

export function history(socket: Client, roomId: string, opts: { beforeSeq?: number; afterSeq?: number; limit?: number } = {}): Promise<HistoryPage> {
  return ok<HistoryPage>(socket, 'message:history', { roomId, ...opts });
}

/** Pages `afterSeq` from `from` until hasMore is false; returns every item in order. */
export async function pageAfter(socket: Client, roomId: string, from = 0, limit?: number): Promise<Message[]> {
  const out: Message[] = [];
  let after = from;
  for (let i = 0; i < 10_000; i++) {
    const page = await history(socket, roomId, { afterSeq: after, ...(limit ? { limit } : {}) });
    out.push(...page.items);
    if (page.items.length > 0) after = page.items[page.items.length - 1].seq;
    if (!page.hasMore) return out;
    if (page.items.length === 0) throw new Error('hasMore true with an empty page');
  }
  throw new Error('pageAfter did not finish');
}

/** Every room in the caller's room:list, following cursors. */
export async function listAll(socket: Client, limit?: number): Promise<RoomSummary[]> {
  const out: RoomSummary[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const page: { items: RoomSummary[]; nextCursor: string | null } = await ok(socket, 'room:list', {
      ...(cursor ? { cursor } : {}),
      ...(limit ? { limit } : {}),
    });
    out.push(...page.items);
    cursor = page.nextCursor;
    if (cursor === null) return out;
  }
  throw new Error('listAll did not finish');
}

/** Every member of a room, following cursors. */
export async function membersAll(socket: Client, roomId: string, limit?: number): Promise<Member[]> {
  const out: Member[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const page: { items: Member[]; nextCursor: string | null } = await ok(socket, 'room:members', {
      roomId,
      ...(cursor ? { cursor } : {}),
      ...(limit ? { limit } : {}),
    });
    out.push(...page.items);
    cursor = page.nextCursor;
    if (cursor === null) return out;
  }
  throw new Error('membersAll did not finish');
}

/** Sends `n` messages (texts `${prefix}${i}`), `parallel` at a time; returns the acked messages. */
export async function seedMessages(socket: Client, roomId: string, n: number, prefix = 'm', parallel = 10): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + parallel); j++) batch.push(sendMessage(socket, roomId, `${prefix}${j + 1}`));
    out.push(...(await Promise.all(batch)));
  }
  return out.sort((a, b) => a.seq - b.seq);
}

// ---------------------------------------------------------------- DTO shapes

/** Asserts the exact Room shape (every key, no extra ones); `expected` pins values. */
export function expectRoom(r: unknown, expected: Partial<Room> = {}): asserts r is Room {
  expect(r).toEqual({
    id: expect.any(String),
    type: expect.stringMatching(/^(public|private|direct)$/),
    name: expect.any(String),
    createdBy: expect.any(String),
    createdAt: isoDate(),
    lastSeq: expect.any(Number),
    memberCount: expect.any(Number),
    ...expected,
  });
  expectIso((r as Room).createdAt);
}

/** Asserts the exact Message shape; `expected` pins values. */
export function expectMessage(m: unknown, expected: Partial<Message> = {}): asserts m is Message {
  expect(m).toEqual({
    id: expect.any(String),
    roomId: expect.any(String),
    seq: expect.any(Number),
    senderId: expect.any(String),
    clientMsgId: expect.any(String),
    text: expect.any(String),
    replyTo: null,
    createdAt: isoDate(),
    editedAt: null,
    deletedAt: null,
    reactions: {},
    ...expected,
  });
  const msg = m as Message;
  expectIso(msg.createdAt);
  if (msg.editedAt !== null) expectIso(msg.editedAt);
  if (msg.deletedAt !== null) expectIso(msg.deletedAt);
  expect(Number.isInteger(msg.seq) && msg.seq >= 1).toBe(true);
}

/** Asserts the exact RoomSummary shape; `expected` pins values. */
export function expectSummary(s: unknown, expected: Partial<RoomSummary> = {}): asserts s is RoomSummary {
  expect(s).toEqual({
    id: expect.any(String),
    type: expect.stringMatching(/^(public|private|direct)$/),
    name: expect.any(String),
    createdBy: expect.any(String),
    createdAt: isoDate(),
    lastSeq: expect.any(Number),
    memberCount: expect.any(Number),
    role: expect.stringMatching(/^(owner|admin|member)$/),
    lastReadSeq: expect.any(Number),
    unreadCount: expect.any(Number),
    unreadMentions: expect.any(Number),
    lastMessage: (s as RoomSummary | null)?.lastMessage === null ? null : expect.any(Object),
    ...expected,
  });
  const sum = s as RoomSummary;
  expectIso(sum.createdAt);
  if (!('lastMessage' in expected) && sum.lastMessage !== null) expectMessage(sum.lastMessage);
}

/** Asserts the exact User shape. */
export function expectUser(u: unknown, expected: Partial<User> = {}): asserts u is User {
  expect(u).toEqual({ id: expect.any(String), username: expect.any(String), displayName: expect.any(String), createdAt: isoDate(), ...expected });
  expectIso((u as User).createdAt);
}

/** Decodes a JWT payload without verifying it. */
export function jwtPayload(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/**
 * A barrier for "nothing arrived" on a single node: `socket` sends into a private room of its
 * own and this resolves once that message:new reaches it. The server emits to one socket in
 * order, so whatever an earlier request made it emit to `socket` has arrived by then.
 */
export async function roundTrip(socket: Client): Promise<void> {
  const room = await createRoom(socket, { type: 'private' });
  const text = `marker-${cmid()}`;
  const got = waitFor<Message>(socket, 'message:new', (m) => m.roomId === room.id && m.text === text);
  await sendMessage(socket, room.id, text);
  await got;
}
