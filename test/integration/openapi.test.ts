// The OpenAPI 3.1 document: valid by an OpenAPI validator, built from the route's own
// ajv schemas, and true to the server: real responses of every route, success and
// error, match the schema the document gives for their status.
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageHistoryQuery, messageSendBody, threadHistoryQuery, messageDeliveredBody } from '../../server/src/contracts/schemas/message.schemas';
import { loginBody, registerBody } from '../../server/src/contracts/schemas/misc.schemas';
import { roomCreate, roomList } from '../../server/src/contracts/schemas/room.schemas';
import { profilePatch, userSearch } from '../../server/src/contracts/schemas/user.schemas';
import { startTestApp, type TestApp } from '../helpers/app';
import { CHAT_ENV } from '../helpers/chat';
import { OpenApiResponses } from '../helpers/openapi';

const OPERATOR_TOKEN = 'operator-token-0123456789abcdef';

describe('OpenAPI document', () => {
  let t: TestApp;
  let spec: OpenApiResponses;
  beforeAll(async () => {
    t = await startTestApp({ ...CHAT_ENV, OPERATOR_TOKEN });
    spec = await OpenApiResponses.fetch(t.url);
  });
  afterAll(() => t.close());

  /** One REST call; its response is checked against the document. */
  async function call(method: string, template: string, opts: { path?: string; token?: string; body?: unknown } = {}) {
    const res = await fetch(t.url + (opts.path ?? template), {
      method,
      headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    });
    const body: any = (res.headers.get('content-type') ?? '').includes('json') ? await res.json() : await res.text();
    if (typeof body === 'object') spec.expectResponse(method, template, res.status, body);
    return { status: res.status, body };
  }

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(spec.doc as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('takes request bodies and parameters from the schemas the routes validate with', () => {
    const paths = spec.doc.paths as Record<string, Record<string, any>>;
    const bodyOf = (p: string, m: string) => paths[p][m].requestBody.content['application/json'].schema;
    expect(bodyOf('/api/v1/auth/register', 'post')).toEqual(registerBody.schema);
    expect(bodyOf('/api/v1/auth/login', 'post')).toEqual(loginBody.schema);
    expect(bodyOf('/api/v1/rooms', 'post')).toEqual(roomCreate.schema);
    expect(bodyOf('/api/v1/rooms/{roomId}/messages', 'post')).toEqual(messageSendBody.schema);
    expect(bodyOf('/api/v1/users/me', 'patch')).toEqual(profilePatch.schema);
    expect(bodyOf('/api/v1/rooms/{roomId}/delivered', 'post')).toEqual(messageDeliveredBody.schema);
    const query = (p: string) => Object.fromEntries(paths[p].get.parameters.filter((x: any) => x.in === 'query').map((x: any) => [x.name, x.schema]));
    expect(query('/api/v1/rooms')).toEqual((roomList.schema as any).properties);
    expect(query('/api/v1/rooms/{roomId}/messages')).toEqual((messageHistoryQuery.schema as any).properties);
    expect(query('/api/v1/users')).toEqual((userSearch.schema as any).properties);
    expect(query('/api/v1/messages/{messageId}/thread')).toEqual((threadHistoryQuery.schema as any).properties);
  });

  it('every route answers as documented, on success and on error', async () => {
    const name = () => `u${Math.random().toString(36).slice(2, 10)}`;
    const alice = await call('POST', '/api/v1/auth/register', { body: { username: name(), password: 'correct-horse-battery', displayName: 'Alice' } });
    expect(alice.status).toBe(201);
    const bob = await call('POST', '/api/v1/auth/register', { body: { username: name(), password: 'correct-horse-battery' } });
    expect((await call('POST', '/api/v1/auth/register', { body: { username: alice.body.user.username, password: 'correct-horse-battery' } })).status).toBe(409);
    expect((await call('POST', '/api/v1/auth/register', { body: { username: 'x', password: 1 } })).status).toBe(400);
    expect((await call('POST', '/api/v1/auth/login', { body: { username: alice.body.user.username, password: 'correct-horse-battery' } })).status).toBe(200);
    expect((await call('POST', '/api/v1/auth/login', { body: { username: alice.body.user.username, password: 'wrong-pass' } })).status).toBe(401);
    const a = alice.body.token as string;
    const b = bob.body.token as string;

    expect((await call('GET', '/api/v1/me', { token: a })).status).toBe(200);
    expect((await call('GET', '/api/v1/me')).status).toBe(401);

    const room = await call('POST', '/api/v1/rooms', { token: a, body: { type: 'public', name: 'spec room' } });
    expect(room.status).toBe(201);
    const priv = await call('POST', '/api/v1/rooms', { token: a, body: { type: 'private', name: 'spec private' } });
    expect((await call('POST', '/api/v1/rooms', { token: a, body: { type: 'secret', name: '' } })).status).toBe(400);
    const roomPath = `/api/v1/rooms/${room.body.id}`;
    expect((await call('GET', '/api/v1/rooms/{roomId}', { path: roomPath, token: a })).status).toBe(200);
    expect((await call('GET', '/api/v1/rooms/{roomId}', { path: '/api/v1/rooms/nope', token: a })).status).toBe(404);
    expect([403, 404]).toContain((await call('GET', '/api/v1/rooms/{roomId}', { path: `/api/v1/rooms/${priv.body.id}`, token: b })).status);

    const msgs = '/api/v1/rooms/{roomId}/messages';
    for (let i = 1; i <= 3; i++) {
      expect((await call('POST', msgs, { path: `${roomPath}/messages`, token: a, body: { clientMsgId: `c${i}`, text: `hello ${i}` } })).status).toBe(201);
    }
    expect((await call('POST', msgs, { path: `${roomPath}/messages`, token: a, body: { clientMsgId: 'c9', text: 7 } })).status).toBe(400);
    expect([403, 404]).toContain((await call('POST', msgs, { path: `/api/v1/rooms/${priv.body.id}/messages`, token: b, body: { clientMsgId: 'x', text: 'hi' } })).status);
    const page = await call('GET', msgs, { path: `${roomPath}/messages?afterSeq=1&limit=1`, token: a });
    expect(page.body).toMatchObject({ items: [{ seq: 2 }], hasMore: true });
    expect((await call('GET', msgs, { path: `${roomPath}/messages?limit=0`, token: a })).status).toBe(400);

    // Extensions (threads, mentions): a reply mentioning its author, the parent's summary, the thread page, the timeline flag.
    const parent = page.body.items[0];
    const threadReply = await call('POST', msgs, { path: `${roomPath}/messages`, token: a, body: { clientMsgId: 't1', text: `@${alice.body.user.username} hi`, threadOf: parent.id, alsoInRoom: true } });
    expect(threadReply.body).toMatchObject({ threadOf: parent.id, alsoInRoom: true, mentions: [alice.body.user.id] });
    expect((await call('POST', msgs, { path: `${roomPath}/messages`, token: a, body: { clientMsgId: 't2', text: 'nested', threadOf: threadReply.body.id } })).status).toBe(409);
    const timeline = await call('GET', msgs, { path: `${roomPath}/messages?excludeThreadReplies=true`, token: a });
    expect(timeline.body.items.find((m: { id: string }) => m.id === parent.id)).toMatchObject({ threadReplyCount: 1 });
    expect(timeline.body.resumeSeq).toEqual(expect.any(Number));
    const thread = '/api/v1/messages/{messageId}/thread';
    const threadPath = `/api/v1/messages/${encodeURIComponent(parent.id)}/thread`;
    expect((await call('GET', thread, { path: `${threadPath}?limit=5`, token: a })).body).toMatchObject({ items: [{ id: threadReply.body.id }], hasMore: false });
    expect((await call('GET', thread, { path: `${threadPath}?limit=x`, token: a })).status).toBe(400);
    expect((await call('GET', thread, { path: `/api/v1/messages/${encodeURIComponent(`${room.body.id}:999`)}/thread`, token: a })).status).toBe(404);

    const list = await call('GET', '/api/v1/rooms', { path: '/api/v1/rooms?limit=1', token: a });
    expect(list.status).toBe(200);
    expect(list.body.nextCursor).toEqual(expect.any(String));
    expect((await call('GET', '/api/v1/rooms', { path: `/api/v1/rooms?cursor=${encodeURIComponent(list.body.nextCursor)}`, token: a })).status).toBe(200);

    expect((await call('GET', '/api/v1/users/{userId}/presence', { path: `/api/v1/users/${bob.body.user.id}/presence`, token: a })).status).toBe(200);
    expect((await call('GET', '/api/v1/users/{userId}/presence', { path: '/api/v1/users/nope/presence', token: a })).status).toBe(404);

    const me = await call('PATCH', '/api/v1/users/me', { token: a, body: { displayName: 'Alice L.', avatarUrl: 'https://example.com/a.png', statusText: 'here' } });
    expect(me.status).toBe(200);
    expect((await call('PATCH', '/api/v1/users/me', { token: a, body: { avatarUrl: 'javascript:alert(1)' } })).status).toBe(400);
    const prefix = alice.body.user.username.slice(0, 4);
    const found = await call('GET', '/api/v1/users', { path: `/api/v1/users?prefix=${prefix}&limit=1`, token: b });
    expect(found.status).toBe(200);
    expect(found.body.items).toContainEqual(me.body.user);
    expect((await call('GET', '/api/v1/users', { path: '/api/v1/users?prefix=a', token: b })).status).toBe(400);

    // Extensions: attachments, delivery receipts and member lists.
    const withFile = await call('POST', msgs, { path: `${roomPath}/messages`, token: a, body: { clientMsgId: 'att', attachments: [{ type: 'file', url: 'https://files.example.com/a.pdf', mime: 'application/pdf', size: 3, name: 'a.pdf' }] } });
    expect(withFile.status).toBe(201);
    expect((await call('POST', msgs, { path: `${roomPath}/messages`, token: a, body: { clientMsgId: 'att2', attachments: [{ type: 'file', url: 'http://x.example.com/a', mime: 'a/b', size: 3, name: 'a' }] } })).status).toBe(400);
    const deliveredPath = '/api/v1/rooms/{roomId}/delivered';
    expect((await call('POST', deliveredPath, { path: `${roomPath}/delivered`, token: a, body: { seq: 2 } })).body).toEqual({ lastDeliveredSeq: 2 });
    expect((await call('POST', deliveredPath, { path: `${roomPath}/delivered`, token: a, body: { seq: -2 } })).status).toBe(400);
    expect((await call('POST', deliveredPath, { path: `${roomPath}/delivered`, token: b, body: { seq: 2 } })).status).toBe(403);
    const membersPath = '/api/v1/rooms/{roomId}/members';
    const members = await call('GET', membersPath, { path: `${roomPath}/members?limit=10`, token: a });
    // The sender has read and received its own messages, up to the last one it sent.
    expect(members.body.items).toEqual([expect.objectContaining({ userId: alice.body.user.id, lastReadSeq: withFile.body.seq, lastDeliveredSeq: withFile.body.seq })]);
    expect((await call('GET', membersPath, { path: `${roomPath}/members`, token: b })).status).toBe(403);

    const blockPath = `/api/v1/users/me/blocks/${bob.body.user.id}`;
    expect((await call('PUT', '/api/v1/users/me/blocks/{userId}', { path: blockPath, token: a })).status).toBe(200);
    expect((await call('PUT', '/api/v1/users/me/blocks/{userId}', { path: `/api/v1/users/me/blocks/${alice.body.user.id}`, token: a })).status).toBe(400);
    expect((await call('PUT', '/api/v1/users/me/blocks/{userId}', { path: '/api/v1/users/me/blocks/nope', token: a })).status).toBe(404);
    const blocked = await call('GET', '/api/v1/users/me/blocks', { token: a });
    expect(blocked.body).toEqual({ userIds: [bob.body.user.id] });
    expect((await call('DELETE', '/api/v1/users/me/blocks/{userId}', { path: blockPath, token: a })).status).toBe(200);
    expect((await call('GET', '/api/v1/users/me/blocks', { token: a })).body).toEqual({ userIds: [] });

    const suspension = '/api/v1/admin/users/{userId}/suspension';
    const suspensionPath = `/api/v1/admin/users/${bob.body.user.id}/suspension`;
    expect((await call('GET', suspension, { path: suspensionPath, token: OPERATOR_TOKEN })).body).toEqual({ userId: bob.body.user.id, suspended: false });
    expect((await call('GET', suspension, { path: suspensionPath, token: a })).status).toBe(401);
    expect((await call('PUT', suspension, { path: suspensionPath, token: OPERATOR_TOKEN })).status).toBe(200);
    expect((await call('DELETE', suspension, { path: suspensionPath, token: OPERATOR_TOKEN })).status).toBe(200);
    expect((await call('PUT', suspension, { path: `/api/v1/admin/users/${'x'.repeat(129)}/suspension`, token: OPERATOR_TOKEN })).status).toBe(400);
    const purge = '/api/v1/admin/users/{userId}/messages/purge';
    expect((await call('POST', purge, { path: `/api/v1/admin/users/${bob.body.user.id}/messages/purge`, token: OPERATOR_TOKEN })).status).toBe(202);
    expect((await call('POST', purge, { path: `/api/v1/admin/users/${bob.body.user.id}/messages/purge` })).status).toBe(401);

    expect((await call('GET', '/healthz')).status).toBe(200);
    expect((await call('GET', '/readyz')).status).toBe(200);
    expect((await call('POST', '/api/v1/auth/logout', { token: b, body: { everywhere: true } })).status).toBe(200);
    expect((await call('GET', '/api/v1/me', { token: b })).status).toBe(401);
  });

  it('the moderation routes answer as documented, on success and on error', async () => {
    const name = () => `m${Math.random().toString(36).slice(2, 10)}`;
    const reg = async () => (await call('POST', '/api/v1/auth/register', { body: { username: name(), password: 'correct-horse-battery' } })).body;
    const [owner, alice, bob] = [await reg(), await reg(), await reg()];
    const room = await call('POST', '/api/v1/rooms', { token: owner.token, body: { type: 'public', name: 'moderated', memberIds: [alice.user.id, bob.user.id] } });
    const r = `/api/v1/rooms/${room.body.id}`;
    const sent = await call('POST', '/api/v1/rooms/{roomId}/messages', { path: `${r}/messages`, token: bob.token, body: { clientMsgId: 'f1', text: 'flag me' } });
    const m = encodeURIComponent(sent.body.id);

    expect((await call('POST', '/api/v1/messages/{messageId}/flags', { path: `/api/v1/messages/${m}/flags`, token: alice.token, body: { reason: 'rude' } })).status).toBe(201);
    expect((await call('POST', '/api/v1/messages/{messageId}/flags', { path: `/api/v1/messages/${m}/flags`, token: alice.token, body: {} })).status).toBe(400);
    const flags = await call('GET', '/api/v1/rooms/{roomId}/flags', { path: `${r}/flags?limit=10`, token: owner.token });
    expect(flags.body.items).toHaveLength(1);
    expect((await call('GET', '/api/v1/rooms/{roomId}/flags', { path: `${r}/flags`, token: alice.token })).status).toBe(403);
    const resolve = '/api/v1/rooms/{roomId}/flags/{messageId}/resolve';
    expect((await call('POST', resolve, { path: `${r}/flags/${m}/resolve`, token: owner.token, body: { action: 'dismiss', note: 'fine' } })).status).toBe(200);
    expect((await call('POST', resolve, { path: `${r}/flags/${m}/resolve`, token: owner.token, body: { action: 'dismiss' } })).status).toBe(409);

    expect((await call('POST', '/api/v1/rooms/{roomId}/mutes', { path: `${r}/mutes`, token: owner.token, body: { userId: alice.user.id, durationSeconds: 60 } })).status).toBe(200);
    expect((await call('POST', '/api/v1/rooms/{roomId}/mutes', { path: `${r}/mutes`, token: alice.token, body: { userId: bob.user.id, durationSeconds: 60 } })).status).toBe(403);
    expect((await call('DELETE', '/api/v1/rooms/{roomId}/mutes/{userId}', { path: `${r}/mutes/${alice.user.id}`, token: owner.token })).status).toBe(200);
    expect((await call('POST', '/api/v1/rooms/{roomId}/bans', { path: `${r}/bans`, token: owner.token, body: { userId: bob.user.id, durationSeconds: 60, reason: 'x' } })).status).toBe(200);
    expect((await call('POST', '/api/v1/rooms/{roomId}/bans', { path: `${r}/bans`, token: owner.token, body: { userId: 'nobody' } })).status).toBe(404);
    expect((await call('DELETE', '/api/v1/rooms/{roomId}/bans/{userId}', { path: `${r}/bans/${bob.user.id}`, token: owner.token })).status).toBe(200);
    expect((await call('PUT', '/api/v1/rooms/{roomId}/slow-mode', { path: `${r}/slow-mode`, token: owner.token, body: { seconds: 5 } })).status).toBe(200);
    expect((await call('PUT', '/api/v1/rooms/{roomId}/slow-mode', { path: `${r}/slow-mode`, token: owner.token, body: { seconds: -1 } })).status).toBe(400);
    const audit = await call('GET', '/api/v1/rooms/{roomId}/audit', { path: `${r}/audit?limit=2`, token: owner.token });
    expect(audit.body.nextCursor).toEqual(expect.any(String));
    expect((await call('GET', '/api/v1/rooms/{roomId}/audit', { path: `${r}/audit?cursor=${encodeURIComponent(audit.body.nextCursor)}`, token: owner.token })).status).toBe(200);
    expect((await call('GET', '/api/v1/rooms/{roomId}/audit', { path: `/api/v1/rooms/nope/audit`, token: owner.token })).status).toBe(404);
  });

  it('every documented operation was exercised with its success status', () => {
    const ops: string[] = [];
    for (const [path, methods] of Object.entries(spec.doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const success = Object.keys(op.responses).find((s) => s.startsWith('2'));
        if (path === '/metrics' || path === '/api/v1/openapi.json') continue; // not JSON / fetched in beforeAll
        ops.push(`${method.toUpperCase()} ${path} ${success}`);
      }
    }
    expect(ops.filter((op) => !spec.checked.has(op))).toEqual([]);
  });
});
