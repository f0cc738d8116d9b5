// The moderation part of the OpenAPI document (mutes, bans, slow mode, audit log, flags),
// from the same ajv schemas as the routes; merged into openapi.ts.
import { banBody, flagBody, muteBody, pageQuery, resolveBody, slowModeBody } from '../contracts/schemas/moderation.schemas';
import { id } from '../contracts/schemas/common';
import { HTTP_STATUS, type ErrorCode } from '../errors';

type Schema = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: Schema) => ({ anyOf: [schema, { type: 'null' }] });
const closed = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({ type: 'object', properties, required, additionalProperties: false });
const str = { type: 'string' };
const time = { type: 'string', format: 'date-time' };
const json = (schema: Schema) => ({ 'application/json': { schema } });
const body = (schema: Schema) => ({ required: true, content: json(schema) });
const ok = (status: number, description: string, schema: Schema) => ({ [status]: { description, content: json(schema) } });
const path = (name: string) => ({ name, in: 'path', required: true, schema: id });

function errorResponses(codes: ErrorCode[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const code of codes) {
    const status = String(HTTP_STATUS[code]);
    const prev = out[status] as { description: string } | undefined;
    out[status] = { description: prev ? `${prev.description}, ${code}` : code, content: json(ref('Error')) };
  }
  return out;
}

const BASE: ErrorCode[] = ['VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'UNAVAILABLE', 'INTERNAL'];
const query = (schema: Schema) =>
  Object.entries(schema.properties as Record<string, Schema>).map(([name, s]) => ({
    name,
    in: 'query',
    required: false,
    schema: s,
    description: name === 'cursor' ? "opaque; the previous page's nextCursor" : 'page size, 50 by default',
  }));
const tags = ['moderation'];

export const moderationComponents: Record<string, Schema> = {
  AuditEntry: closed({
    id: str,
    roomId: str,
    actorId: str,
    action: { enum: ['kick', 'ban', 'unban', 'mute', 'unmute', 'role_change', 'message_delete', 'slow_mode', 'flag_resolve'] },
    targetUserId: nullable(str),
    messageId: nullable(str),
    reason: nullable(str),
    details: { type: 'object', description: 'per action: until (mute, ban), from/role (role_change), seconds (slow_mode), resolution (flag_resolve)' },
    at: time,
  }),
  AuditPage: closed({ items: { type: 'array', items: ref('AuditEntry'), description: 'newest first' }, nextCursor: nullable(str) }),
  Flag: closed({
    messageId: str,
    roomId: str,
    senderId: str,
    status: { enum: ['open', 'resolved'] },
    reportCount: { type: 'integer', minimum: 1 },
    reports: { type: 'array', items: closed({ userId: str, reason: str, at: time }), description: 'the first 20 reports' },
    firstAt: time,
    lastAt: time,
    resolution: nullable(closed({ action: { enum: ['dismiss', 'delete', 'mute', 'ban'] }, by: str, at: time, note: nullable(str) })),
    message: nullable(ref('Message')),
  }),
  FlagPage: closed({ items: { type: 'array', items: ref('Flag'), description: 'oldest message first' }, nextCursor: nullable(str) }),
};

export const moderationPaths: Record<string, unknown> = {
  '/api/v1/rooms/{roomId}/mutes': {
    post: {
      tags,
      summary: 'Mute a member for durationSeconds: it can read, not send (owner/admin; only the owner mutes an admin)',
      parameters: [path('roomId')],
      requestBody: body(muteBody.schema),
      responses: { ...ok(200, 'when the mute ends', closed({ until: time })), ...errorResponses(BASE) },
    },
  },
  '/api/v1/rooms/{roomId}/mutes/{userId}': {
    delete: {
      tags,
      summary: 'Lift a mute (owner/admin); a member who is not muted stays so',
      parameters: [path('roomId'), path('userId')],
      responses: { ...ok(200, 'lifted', closed({})), ...errorResponses(BASE) },
    },
  },
  '/api/v1/rooms/{roomId}/bans': {
    post: {
      tags,
      summary: 'Ban a user (removed at once if a member), until durationSeconds pass or for good without it',
      parameters: [path('roomId')],
      requestBody: body(banBody.schema),
      responses: { ...ok(200, 'when the ban ends (null: until lifted)', closed({ until: nullable(time) })), ...errorResponses(BASE) },
    },
  },
  '/api/v1/rooms/{roomId}/bans/{userId}': {
    delete: {
      tags,
      summary: 'Lift a ban (owner/admin); the user may join again (a private room still needs an invitation)',
      parameters: [path('roomId'), path('userId')],
      responses: { ...ok(200, 'lifted', closed({})), ...errorResponses(BASE) },
    },
  },
  '/api/v1/rooms/{roomId}/slow-mode': {
    put: {
      tags,
      summary: 'Slow mode: one message per `seconds` per member, owners/admins exempt; 0 turns it off',
      parameters: [path('roomId')],
      requestBody: body(slowModeBody.schema),
      responses: { ...ok(200, 'the setting', closed({ seconds: { type: 'integer', minimum: 0 } })), ...errorResponses(BASE) },
    },
  },
  '/api/v1/rooms/{roomId}/audit': {
    get: {
      tags,
      summary: "The room's audit log of moderation actions, newest first (owner/admin)",
      parameters: [path('roomId'), ...query(pageQuery.schema)],
      responses: { ...ok(200, 'one page', ref('AuditPage')), ...errorResponses(BASE) },
    },
  },
  '/api/v1/rooms/{roomId}/flags': {
    get: {
      tags,
      summary: "The room's open flags, oldest message first (owner/admin)",
      parameters: [path('roomId'), ...query(pageQuery.schema)],
      responses: { ...ok(200, 'one page', ref('FlagPage')), ...errorResponses(BASE) },
    },
  },
  '/api/v1/rooms/{roomId}/flags/{messageId}/resolve': {
    post: {
      tags,
      summary: 'Resolve an open flag: dismiss, delete the message, or mute/ban its sender (durationSeconds: required to mute)',
      parameters: [path('roomId'), path('messageId')],
      requestBody: body(resolveBody.schema),
      responses: { ...ok(200, 'the resolved flag', ref('Flag')), ...errorResponses([...BASE, 'CONFLICT']) },
    },
  },
  '/api/v1/messages/{messageId}/flags': {
    post: {
      tags,
      summary: 'Flag a message of a room you are a member of, with a reason (again while open: no change)',
      parameters: [path('messageId')],
      requestBody: body(flagBody.schema),
      responses: { ...ok(201, 'flagged', closed({})), ...errorResponses([...BASE, 'CONFLICT', 'RATE_LIMITED']) },
    },
  },
};
