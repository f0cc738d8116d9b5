// The OpenAPI 3.1 document of the REST API, served at GET /api/v1/openapi.json. Request
// bodies and query/path parameters come from the very ajv schemas the routes validate
// with (one source of truth); responses describe the contract's DTOs, and the REST tests
// check real responses against them.
import { logoutBody } from './routers/sessions.router';
import { messageDeliveredBody, messageHistoryQuery, messageRef, messageSendBody, threadHistoryQuery } from '../contracts/schemas/message.schemas';
import { loginBody, registerBody } from '../contracts/schemas/misc.schemas';
import { roomCreate, roomList, roomMembers, roomRef } from '../contracts/schemas/room.schemas';
import { profilePatch, userSearch } from '../contracts/schemas/user.schemas';
import { attachment } from '../contracts/schemas/attachment.schemas';
import { id } from '../contracts/schemas/common';
import { HTTP_STATUS, type ErrorCode } from '../errors';
import { moderationComponents, moderationPaths } from './openapi-moderation';

type Schema = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: Schema) => ({ anyOf: [schema, { type: 'null' }] });
const closed = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({ type: 'object', properties, required, additionalProperties: false });
const str = { type: 'string' };
const time = { type: 'string', format: 'date-time' };
const int = { type: 'integer', minimum: 0 };

const ROOM: Record<string, Schema> = {
  id: str,
  type: { enum: ['public', 'private', 'direct'] },
  name: str,
  createdBy: str,
  createdAt: time,
  lastSeq: int,
  memberCount: int,
};

const ERROR_CODES = Object.keys(HTTP_STATUS) as ErrorCode[];

/** The DTOs of the contract ("Objects"), closed so that an undocumented field fails the tests. */
const components: Record<string, Schema> = {
  User: closed(
    {
      id: str,
      username: str,
      displayName: str,
      createdAt: time,
      avatarUrl: { type: 'string', pattern: '^https://', description: 'extension (profiles): an https URL; absent when not set' },
      statusText: { type: 'string', description: 'extension (profiles): absent when not set' },
    },
    ['id', 'username', 'displayName', 'createdAt'],
  ),
  UserPage: closed({ items: { type: 'array', items: ref('User'), description: 'ascending lower-cased username' }, nextCursor: nullable(str) }),
  Room: closed(ROOM),
  RoomSummary: closed({
    ...ROOM,
    role: { enum: ['owner', 'admin', 'member'] },
    lastReadSeq: int,
    unreadCount: int,
    unreadMentions: { ...int, description: 'extension (mentions): unread messages that mention the caller' },
    lastMessage: nullable(ref('Message')),
  }),
  Message: closed(
    {
      id: str,
      roomId: str,
      seq: { type: 'integer', minimum: 1 },
      senderId: str,
      clientMsgId: str,
      text: str,
      replyTo: nullable(str),
      createdAt: time,
      editedAt: nullable(time),
      deletedAt: nullable(time),
      reactions: { type: 'object', additionalProperties: { type: 'array', items: str } },
      mentions: { type: 'array', items: str, minItems: 1, description: 'extension (mentions): ids of the members mentioned as @username at send time; absent when none' },
      threadOf: { ...str, description: "extension (threads): the parent's id; present on thread replies only" },
      alsoInRoom: { const: true, description: 'extension (threads): a thread reply also shown in the room timeline; absent otherwise' },
      threadReplyCount: { type: 'integer', minimum: 1, description: 'extension (threads): on a parent with replies' },
      threadLastReplyAt: { ...time, description: 'extension (threads): on a parent with replies' },
      threadParticipants: { type: 'array', items: str, description: "extension (threads): the parent's author, the repliers and the members mentioned in the thread" },
      attachments: { type: 'array', minItems: 1, maxItems: 10, items: ref('Attachment'), description: 'extension (attachments): absent when the message has none; cleared by a delete' },
    },
    ['id', 'roomId', 'seq', 'senderId', 'clientMsgId', 'text', 'replyTo', 'createdAt', 'editedAt', 'deletedAt', 'reactions'],
  ),
  Attachment: { ...attachment, description: 'extension (attachments): metadata of a file stored elsewhere; the server never fetches the URLs' },
  Member: closed({
    userId: str,
    role: { enum: ['owner', 'admin', 'member'] },
    joinedAt: time,
    online: { type: 'boolean' },
    lastReadSeq: { ...int, description: 'extension (delivery receipts): the member\'s read position' },
    lastDeliveredSeq: { ...int, description: 'extension (delivery receipts): highest seq delivered to a device of the member; never below lastReadSeq' },
  }),
  MemberPage: closed({ items: { type: 'array', items: ref('Member'), description: 'join order' }, nextCursor: nullable(str) }),
  Presence: closed({ userId: str, status: { enum: ['online', 'offline'] }, lastSeenAt: nullable(time) }),
  Session: closed({ user: ref('User'), token: { type: 'string', description: 'JWT; send it as `Authorization: Bearer <token>` and in the Socket.IO handshake `auth.token`' } }),
  HistoryPage: closed(
    {
      items: { type: 'array', items: ref('Message'), description: 'ascending seq' },
      hasMore: { type: 'boolean' },
      resumeSeq: { ...int, description: 'extension (threads), with excludeThreadReplies only: pass it as beforeSeq (afterSeq for an afterSeq page) for the next page' },
    },
    ['items', 'hasMore'],
  ),
  RoomPage: closed({ items: { type: 'array', items: ref('RoomSummary') }, nextCursor: nullable(str) }),
  ...moderationComponents,
  Error: closed({
    error: closed(
      {
        code: { enum: ERROR_CODES },
        message: str,
        details: {
          description:
            'VALIDATION_FAILED: a list of { path, message }; RATE_LIMITED: { retryAfterMs, limit? (login and registration: which limit) }; ' +
            'UNAVAILABLE when the node shed the request because of load: { retryAfterMs, reason: deadline | db | node-sends | room-sends | send-wait } (503 with a Retry-After header; retry with the same clientMsgId after retryAfterMs plus jitter); INTERNAL: { requestId }',
        },
      },
      ['code', 'message'],
    ),
  }),
};

const json = (schema: Schema) => ({ 'application/json': { schema } });

/** The error responses a route can give, by contract code. */
function errorResponses(codes: ErrorCode[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const code of codes) {
    const status = String(HTTP_STATUS[code]);
    const prev = out[status] as { description: string } | undefined;
    out[status] = { description: prev ? `${prev.description}, ${code}` : code, content: json(ref('Error')) };
  }
  return out;
}

const AUTHED: ErrorCode[] = ['VALIDATION_FAILED', 'UNAUTHORIZED', 'UNAVAILABLE', 'INTERNAL'];

/** Query or path parameters from one object schema (its properties and required list). */
function parameters(where: 'query' | 'path', schema: Schema, describe: Record<string, string> = {}) {
  const props = schema.properties as Record<string, Schema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: s,
    ...(describe[name] ? { description: describe[name] } : {}),
  }));
}

const body = (schema: Schema) => ({ required: true, content: json(schema) });
const ok = (status: number, description: string, schema: Schema) => ({ [status]: { description, content: json(schema) } });

const roomPath = parameters('path', roomRef.schema);
const SUSPENSION = closed({ userId: str, suspended: { type: 'boolean' } });
/** room:members without the roomId (it is in the path). */
const roomMembersQuery: Schema = (() => {
  const { roomId: _roomId, ...properties } = (roomMembers.schema as { properties: Record<string, Schema> }).properties;
  return { type: 'object', properties, required: [] };
})();
const HISTORY_DOC = {
  afterSeq: 'the oldest `limit` messages with seq > afterSeq',
  beforeSeq: 'the newest `limit` messages with seq < beforeSeq',
  limit: 'page size, 50 by default',
  excludeThreadReplies:
    'extension (threads): `true` leaves out thread replies not also shown in the room; the page may then hold fewer than `limit` items with hasMore true, continue from `resumeSeq`',
};

/** Builds the document (a plain object: serve it as JSON). */
export function buildOpenApi(version = '1.0.0'): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Chat backend REST API',
      version,
      description:
        'The REST side of the v1 client contract (docs/protocol.md). Real-time events go over Socket.IO on the same port; the typed SDK in client/ covers both.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [{ name: 'auth' }, { name: 'rooms' }, { name: 'messages' }, { name: 'users' }, { name: 'moderation' }, { name: 'operations' }],
    paths: {
      '/api/v1/auth/register': {
        post: {
          tags: ['auth'],
          summary: 'Create a user and get a token',
          security: [],
          requestBody: body(registerBody.schema),
          responses: { ...ok(201, 'the new user and a token', ref('Session')), ...errorResponses(['VALIDATION_FAILED', 'CONFLICT', 'RATE_LIMITED', 'UNAVAILABLE', 'INTERNAL']) },
        },
      },
      '/api/v1/auth/login': {
        post: {
          tags: ['auth'],
          summary: 'Exchange a username and password for a token',
          security: [],
          requestBody: body(loginBody.schema),
          responses: { ...ok(200, 'the user and a token', ref('Session')), ...errorResponses(['VALIDATION_FAILED', 'UNAUTHORIZED', 'RATE_LIMITED', 'UNAVAILABLE', 'INTERNAL']) },
        },
      },
      '/api/v1/auth/logout': {
        post: {
          tags: ['auth'],
          summary: 'Revoke this token, or with `everywhere` every token of the caller issued so far',
          requestBody: { required: false, content: json(logoutBody.schema) },
          responses: { ...ok(200, 'revoked', closed({})), ...errorResponses([...AUTHED, 'CONFLICT']) },
        },
      },
      '/api/v1/me': {
        get: { tags: ['users'], summary: 'The caller', responses: { ...ok(200, 'the caller', closed({ user: ref('User') })), ...errorResponses([...AUTHED, 'NOT_FOUND']) } },
      },
      '/api/v1/rooms': {
        get: {
          tags: ['rooms'],
          summary: "The caller's rooms, most recent activity first",
          parameters: parameters('query', roomList.schema, { cursor: 'opaque; the previous page\'s nextCursor', limit: 'page size' }),
          responses: { ...ok(200, 'one page', ref('RoomPage')), ...errorResponses(AUTHED) },
        },
        post: {
          tags: ['rooms'],
          summary: 'Create a room (the caller owns it; memberIds join at once)',
          requestBody: body(roomCreate.schema),
          responses: { ...ok(201, 'the room', ref('Room')), ...errorResponses([...AUTHED, 'NOT_FOUND', 'RATE_LIMITED']) },
        },
      },
      '/api/v1/rooms/{roomId}': {
        get: {
          tags: ['rooms'],
          summary: 'One room the caller can see',
          parameters: roomPath,
          responses: { ...ok(200, 'the room', ref('Room')), ...errorResponses([...AUTHED, 'FORBIDDEN', 'NOT_FOUND']) },
        },
      },
      '/api/v1/rooms/{roomId}/messages': {
        get: {
          tags: ['messages'],
          summary: 'A page of history, ascending seq (the newest page without afterSeq/beforeSeq)',
          parameters: [...roomPath, ...parameters('query', messageHistoryQuery.schema, HISTORY_DOC)],
          responses: { ...ok(200, 'one page', ref('HistoryPage')), ...errorResponses([...AUTHED, 'FORBIDDEN', 'NOT_FOUND']) },
        },
        post: {
          tags: ['messages'],
          summary: 'Send a message (idempotent per sender and clientMsgId), delivered to sockets like message:send',
          description:
            'Extensions: `threadOf` makes it a reply in that message\'s thread (NOT_FOUND with details.reason THREAD_PARENT_NOT_FOUND when the parent is not a message of this room; CONFLICT with THREAD_PARENT_DELETED or THREAD_PARENT_IS_REPLY), `alsoInRoom` (only with threadOf) shows it in the room timeline too; `@username` mentions of members are resolved into `mentions`. Also: text, up to 10 attachments (extension), or both; a message with neither is VALIDATION_FAILED. Attachment URLs are https with a public host name, no credentials.',
          parameters: roomPath,
          requestBody: body(messageSendBody.schema),
          responses: { ...ok(201, 'the stored message', ref('Message')), ...errorResponses([...AUTHED, 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'RATE_LIMITED', 'PAYLOAD_TOO_LARGE']) },
        },
      },
      '/api/v1/messages/{messageId}/thread': {
        get: {
          tags: ['messages'],
          summary: "A page of one thread's replies (extension; messageId is the parent's), the same keyset rules as room history",
          parameters: [...parameters('path', messageRef.schema), ...parameters('query', threadHistoryQuery.schema, HISTORY_DOC)],
          responses: { ...ok(200, 'one page', ref('HistoryPage')), ...errorResponses([...AUTHED, 'FORBIDDEN', 'NOT_FOUND']) },
        },
      },
      '/api/v1/rooms/{roomId}/delivered': {
        post: {
          tags: ['messages'],
          summary: "Acknowledge delivery of the room's messages up to seq (extension; as message:delivered)",
          description:
            'Forward only and clamped to the room\'s lastSeq: a lower seq changes nothing and answers the position held. Members of the room hear delivery:updated, at most one per room per DELIVERY_UPDATE_INTERVAL_MS.',
          parameters: roomPath,
          requestBody: body(messageDeliveredBody.schema),
          responses: { ...ok(200, 'the caller\'s delivered position now', closed({ lastDeliveredSeq: int })), ...errorResponses([...AUTHED, 'FORBIDDEN', 'NOT_FOUND']) },
        },
      },
      '/api/v1/rooms/{roomId}/members': {
        get: {
          tags: ['rooms'],
          summary: 'Members of a room with presence, read and delivered positions (extension; as room:members)',
          parameters: [...roomPath, ...parameters('query', roomMembersQuery, { cursor: "opaque; the previous page's nextCursor", limit: 'page size, 50 by default' })],
          responses: { ...ok(200, 'one page', ref('MemberPage')), ...errorResponses([...AUTHED, 'FORBIDDEN', 'NOT_FOUND']) },
        },
      },
      '/api/v1/users/me': {
        patch: {
          tags: ['users'],
          summary: "Change the caller's profile (extension); everyone sharing a room with the caller gets user:updated",
          description: 'displayName 1–64 characters after trimming; statusText at most 140 (blank or null removes it); avatarUrl an https URL of at most 2048 characters (null removes it). No control characters, line separators or bidirectional overrides.',
          requestBody: body(profilePatch.schema),
          responses: { ...ok(200, 'the updated caller', closed({ user: ref('User') })), ...errorResponses([...AUTHED, 'NOT_FOUND', 'RATE_LIMITED']) },
        },
      },
      '/api/v1/users/me/blocks': {
        get: {
          tags: ['users'],
          summary: 'The users the caller blocks (extension; same as user:list_blocks), in the order they were blocked',
          responses: { ...ok(200, 'the blocked user ids', closed({ userIds: { type: 'array', items: str } })), ...errorResponses(AUTHED) },
        },
      },
      '/api/v1/users/me/blocks/{userId}': {
        put: {
          tags: ['users'],
          summary: 'Block a user (extension; same as user:block; idempotent)',
          description:
            'The caller stops receiving the user\'s message:new, message:updated, typing and presence:updated on every node; the user can no longer open or send into the direct room with the caller (403 FORBIDDEN, details.reason "BLOCKED"). Blocking yourself is VALIDATION_FAILED; an unknown user NOT_FOUND; past MAX_BLOCKED_USERS CONFLICT.',
          parameters: [{ name: 'userId', in: 'path', required: true, schema: id }],
          responses: { ...ok(200, 'blocked (or already was)', closed({})), ...errorResponses([...AUTHED, 'NOT_FOUND', 'CONFLICT', 'RATE_LIMITED']) },
        },
        delete: {
          tags: ['users'],
          summary: 'Unblock a user (extension; same as user:unblock; idempotent)',
          parameters: [{ name: 'userId', in: 'path', required: true, schema: id }],
          responses: { ...ok(200, 'unblocked (or was not blocked)', closed({})), ...errorResponses([...AUTHED, 'RATE_LIMITED']) },
        },
      },
      '/api/v1/users': {
        get: {
          tags: ['users'],
          summary: 'Users whose username starts with a prefix, any case (extension; to start a DM)',
          parameters: parameters('query', userSearch.schema, { prefix: '3 to 32 characters of the username alphabet, matched case-insensitively', cursor: "opaque; the previous page's nextCursor", limit: 'page size, 20 by default, at most 50' }),
          responses: { ...ok(200, 'one page', ref('UserPage')), ...errorResponses([...AUTHED, 'RATE_LIMITED']) },
        },
      },
      '/api/v1/users/{userId}/presence': {
        get: {
          tags: ['users'],
          summary: "A user's presence",
          parameters: [{ name: 'userId', in: 'path', required: true, schema: id }],
          responses: { ...ok(200, 'presence', ref('Presence')), ...errorResponses([...AUTHED, 'NOT_FOUND']) },
        },
      },
      '/api/v1/admin/users/{userId}/suspension': {
        get: {
          tags: ['operations'],
          summary: 'Whether a user is suspended (operator; only when OPERATOR_TOKEN is set)',
          security: [{ operatorToken: [] }],
          parameters: [{ name: 'userId', in: 'path', required: true, schema: id }],
          responses: { ...ok(200, 'the suspension state', SUSPENSION), ...errorResponses(['VALIDATION_FAILED', 'UNAUTHORIZED', 'INTERNAL']) },
        },
        put: {
          tags: ['operations'],
          summary: "Suspend a user everywhere (operator): every node closes the user's sockets (session:expired) and refuses its tokens, handshakes and logins until lifted",
          security: [{ operatorToken: [] }],
          parameters: [{ name: 'userId', in: 'path', required: true, schema: id }],
          responses: { ...ok(200, 'suspended (or already was)', SUSPENSION), ...errorResponses(['VALIDATION_FAILED', 'UNAUTHORIZED', 'UNAVAILABLE', 'INTERNAL']) },
        },
        delete: {
          tags: ['operations'],
          summary: 'Lift a suspension (operator); tokens not otherwise revoked work again',
          security: [{ operatorToken: [] }],
          parameters: [{ name: 'userId', in: 'path', required: true, schema: id }],
          responses: { ...ok(200, 'not suspended', SUSPENSION), ...errorResponses(['VALIDATION_FAILED', 'UNAUTHORIZED', 'UNAVAILABLE', 'INTERNAL']) },
        },
      },
      '/api/v1/admin/users/{userId}/messages/purge': {
        post: {
          tags: ['operations'],
          summary: "Soft-delete every message of a user, through the workers (operator); each is announced as message:updated",
          security: [{ operatorToken: [] }],
          parameters: [{ name: 'userId', in: 'path', required: true, schema: id }],
          responses: { ...ok(202, 'queued', closed({ jobId: str })), ...errorResponses(['VALIDATION_FAILED', 'UNAUTHORIZED', 'UNAVAILABLE', 'INTERNAL']) },
        },
      },
      ...moderationPaths,
      '/api/v1/openapi.json': {
        get: { tags: ['operations'], summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } } },
      },
      '/healthz': {
        get: { tags: ['operations'], summary: 'Liveness', security: [], responses: ok(200, 'the process runs', closed({ status: { const: 'ok' } })) },
      },
      '/readyz': {
        get: {
          tags: ['operations'],
          summary: 'Readiness: MongoDB (and Redis) answer, the node is not draining and not shedding load',
          security: [],
          responses: {
            ...ok(200, 'ready', closed({ status: { const: 'ready' }, checks: { type: 'object', additionalProperties: { enum: ['ok', 'down'] } }, load: { const: 'ok' } })),
            ...ok(
              503,
              'not ready (load: shedding while the node refuses much of its load)',
              closed({ status: { enum: ['draining', 'unavailable'] }, checks: { type: 'object', additionalProperties: { enum: ['ok', 'down'] } }, load: { enum: ['ok', 'shedding'] } }),
            ),
          },
        },
      },
      '/metrics': {
        get: {
          tags: ['operations'],
          summary: 'Prometheus metrics (a bearer METRICS_TOKEN when configured)',
          security: [{}, { metricsToken: [] }],
          responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: str } } }, ...errorResponses(['UNAUTHORIZED']) },
        },
      },
    },
    components: {
      schemas: components,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'from register/login, or an external issuer sharing the key' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN' },
        operatorToken: { type: 'http', scheme: 'bearer', description: 'OPERATOR_TOKEN (operator routes; absent when it is not set)' },
      },
    },
  };
}
