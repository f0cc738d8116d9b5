// Property-based fuzzing of every REST endpoint: generated bodies (wrong types, missing
// and extra fields, operators, prototype keys, deep and huge values), raw bodies that are
// not JSON or not UTF-8, odd content types and encodings, query strings with operators and
// repeated keys, path parameters with broken percent-encoding, and unknown routes. Every
// answer is a contract status with the `{ error }` body (never a 500), an invalid body is
// 400 VALIDATION_FAILED, and nothing is stored.
// Longer soak: FUZZ_SOAK=1 npx vitest run test/integration/fuzz-rest.test.ts
import crypto from 'node:crypto';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signToken, startTestApp, type TestApp } from '../helpers/app';
import { CHAT_ENV, closeClients, createRoom, ERROR_CODES, HTTP_STATUS, newPerson, ok, sendMessage, type ErrorCode, type Message, type Person, type Room } from '../helpers/chat';
import { describe as show, jsonSize, judgeSpec, mutations, OPERATORS, fuzzTimeout, printable, PROFILE_FIELDS, report, runs, seed, settledHeap, type EventSpec, ATTACHMENT, storedSnapshot } from '../helpers/fuzz';

interface Reply {
  status: number;
  text: string;
  type: string;
}

async function call(url: string, method: string, path: string, init: { token?: string | null; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(`${url}${path}`, { method, headers, body: init.body });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
}

/** The contract's error reply: a listed status, JSON `{ error: { code, message, details? } }` matching it. */
function errorProblem(r: Reply): string | null {
  if (r.status < 400) return null;
  if (r.status >= 500 && r.status !== 503) return `status ${r.status}: ${r.text.slice(0, 200)}`;
  if (!r.type.includes('application/json')) return `status ${r.status} without a JSON body: ${r.text.slice(0, 100)}`;
  let body: any;
  try {
    body = JSON.parse(r.text);
  } catch {
    return `unparseable error body ${r.text.slice(0, 100)}`;
  }
  const code = body?.error?.code as ErrorCode;
  if (!(ERROR_CODES as readonly string[]).includes(code)) return `unknown code ${code}`;
  if (HTTP_STATUS[code] !== r.status) return `code ${code} with status ${r.status}`;
  if (Object.keys(body).length !== 1 || typeof body.error.message !== 'string') return `malformed error body ${r.text.slice(0, 200)}`;
  if (Object.keys(body.error).some((k) => !['code', 'message', 'details'].includes(k))) return 'extra error keys';
  return null;
}

/** The REST routes of the contract (docs/protocol.md), `:p` standing for one path segment. */
const CONTRACT_ROUTES = [
  'POST /api/v1/auth/register',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/logout',
  'GET /api/v1/me',
  'GET /api/v1/rooms',
  'POST /api/v1/rooms',
  'GET /api/v1/rooms/:p',
  'GET /api/v1/rooms/:p/messages',
  'POST /api/v1/rooms/:p/messages',
  'GET /api/v1/users/:p/presence',
  'PATCH /api/v1/users/me',
  'GET /api/v1/users',
  'GET /api/v1/messages/:p/thread',
  'GET /api/v1/users/me/blocks',
  'PUT /api/v1/users/me/blocks/:p',
  'DELETE /api/v1/users/me/blocks/:p',
  // Operator routes (OPERATOR_TOKEN is set for this suite).
  'GET /api/v1/admin/users/:p/suspension',
  'PUT /api/v1/admin/users/:p/suspension',
  'DELETE /api/v1/admin/users/:p/suspension',
  'POST /api/v1/admin/users/:p/messages/purge',
  // Extensions (moderation).
  'POST /api/v1/rooms/:p/mutes',
  'DELETE /api/v1/rooms/:p/mutes/:p',
  'POST /api/v1/rooms/:p/bans',
  'DELETE /api/v1/rooms/:p/bans/:p',
  'PUT /api/v1/rooms/:p/slow-mode',
  'GET /api/v1/rooms/:p/audit',
  'GET /api/v1/rooms/:p/flags',
  'POST /api/v1/rooms/:p/flags/:p/resolve',
  'POST /api/v1/messages/:p/flags',
  // Extension (delivery receipts).
  'POST /api/v1/rooms/:p/delivered',
  'GET /api/v1/rooms/:p/members',
];
const OPERATOR_TOKEN = 'operator-token-0123456789abcdef';

/** Whether a (normalized) path names a contract route; literals match case-insensitively and a trailing slash is ignored, as Express routes do. */
function isContractRoute(method: string, pathname: string): boolean {
  const segs = pathname.replace(/\/$/, '').split('/');
  return CONTRACT_ROUTES.some((route) => {
    const [m, p] = route.split(' ');
    const want = p.split('/');
    return m === method && want.length === segs.length && want.every((w, i) => (w === ':p' ? segs[i].length > 0 : w.toLowerCase() === segs[i].toLowerCase()));
  });
}

function decodable(path: string): boolean {
  try {
    for (const seg of path.split('/')) decodeURIComponent(seg);
    return true;
  } catch {
    return false;
  }
}

const str = (min: number, max: number, stored = true) => ({ t: 'str', min, max, stored }) as const;
/** Request bodies of the contract, as EventSpecs for the shared mutation generator. */
const BODIES: Record<string, { spec: EventSpec; base: () => Record<string, unknown> }> = {};

describe('fuzz: REST endpoints', () => {
  let t: TestApp;
  let actor: Person;
  let room: Room;
  let msg: Message;
  let before: unknown;
  let requests = 0;
  let memberId = '';

  const stored = () => storedSnapshot(t);

  beforeAll(async () => {
    t = await startTestApp({ ...CHAT_ENV, OPERATOR_TOKEN });
    actor = await newPerson(t.url);
    room = await createRoom(actor.socket, { type: 'public', name: 'rest fuzz' });
    msg = await sendMessage(actor.socket, room.id, 'target');
    BODIES['POST /api/v1/auth/register'] = {
      spec: { fields: { username: { t: 'str', min: 3, max: 32 }, password: str(8, 128), displayName: str(1, 100) }, required: ['username', 'password'], writes: true },
      base: () => ({ username: `fz_${crypto.randomBytes(4).toString('hex')}`, password: 'long-enough-password', displayName: 'Fuzz' }),
    };
    BODIES['POST /api/v1/auth/login'] = {
      spec: { fields: { username: str(1, 64, false), password: str(1, 128, false) }, required: ['username', 'password'], writes: false },
      base: () => ({ username: actor.username, password: 'wrong-password' }),
    };
    BODIES['POST /api/v1/rooms'] = {
      spec: { fields: { type: { t: 'enum', values: ['public', 'private'] }, name: str(1, 100), memberIds: { t: 'ids', max: 100 } }, required: ['type', 'name'], writes: true },
      base: () => ({ type: 'private', name: 'fuzzed', memberIds: [] }),
    };
    BODIES[`POST /api/v1/rooms/:roomId/messages`] = {
      spec: { fields: { clientMsgId: str(1, 64), text: str(1, 4000), replyTo: { t: 'id' }, threadOf: { t: 'id' }, alsoInRoom: { t: 'bool' }, attachments: { t: 'attachments' } }, required: ['clientMsgId'], writes: true, needsContent: true },
      base: () => ({ clientMsgId: 'fz-1', text: 'hello', replyTo: msg.id, threadOf: msg.id, alsoInRoom: true, attachments: [ATTACHMENT] }),
    };
    BODIES['POST /api/v1/rooms/:roomId/delivered'] = {
      spec: { fields: { seq: { t: 'int', min: 0, max: Number.MAX_SAFE_INTEGER } }, required: ['seq'], writes: true },
      base: () => ({ seq: 1 }),
    };
    BODIES['PATCH /api/v1/users/me'] = {
      spec: { fields: PROFILE_FIELDS, required: [], writes: true, minFields: 1 },
      base: () => ({ displayName: 'Fuzz', avatarUrl: 'https://example.com/a.png', statusText: 'fuzzing' }),
    };
    BODIES['POST /api/v1/auth/logout'] = {
      spec: { fields: { everywhere: { t: 'bool' } }, required: [], writes: true },
      base: () => ({ everywhere: true }),
    };
    // Moderation (extension): the actor owns the room; the bodies aim at a real member and message.
    const member = await newPerson(t.url);
    await ok(member.socket, 'room:join', { roomId: room.id });
    memberId = member.id;
    const modReason = str(1, 500);
    const duration = { t: 'int', min: 1, max: 365 * 24 * 3600 } as const;
    BODIES['POST /api/v1/rooms/:roomId/mutes'] = {
      spec: { fields: { userId: { t: 'id' }, durationSeconds: duration, reason: modReason }, required: ['userId', 'durationSeconds'], writes: true },
      base: () => ({ userId: memberId, durationSeconds: 60, reason: 'fuzz' }),
    };
    BODIES['POST /api/v1/rooms/:roomId/bans'] = {
      spec: { fields: { userId: { t: 'id' }, durationSeconds: duration, reason: modReason }, required: ['userId'], writes: true },
      base: () => ({ userId: memberId, durationSeconds: 60, reason: 'fuzz' }),
    };
    BODIES['PUT /api/v1/rooms/:roomId/slow-mode'] = {
      spec: { fields: { seconds: { t: 'int', min: 0, max: 6 * 3600 }, reason: modReason }, required: ['seconds'], writes: true },
      base: () => ({ seconds: 5, reason: 'fuzz' }),
    };
    BODIES['POST /api/v1/messages/:messageId/flags'] = {
      spec: { fields: { reason: modReason }, required: ['reason'], writes: true },
      base: () => ({ reason: 'fuzz' }),
    };
    BODIES['POST /api/v1/rooms/:roomId/flags/:messageId/resolve'] = {
      spec: { fields: { action: { t: 'enum', values: ['dismiss', 'delete', 'mute', 'ban'] }, durationSeconds: duration, note: modReason }, required: ['action'], writes: true },
      base: () => ({ action: 'dismiss', note: 'fuzz' }),
    };
    before = await stored();
  });
  afterAll(async () => {
    report(`${requests} REST requests sent`);
    closeClients();
    await t.close();
  });
  // After every test, whatever ran before it: nothing stored, no prototype polluted, still answering.
  afterEach(async () => {
    expect(await stored()).toEqual(before);
    expect(({} as any).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect((await call(t.url, 'GET', '/api/v1/me', { token: actor.token })).status).toBe(200);
  });

  const pathOf = (route: string) => route.split(' ')[1].replace(':roomId', room.id).replace(':messageId', encodeURIComponent(msg.id));
  const methodOf = (route: string) => route.split(' ')[0];
  // Logout revokes: it gets a throwaway token of a user that is not the actor.
  const tokenFor = (route: string) => (route.endsWith('/logout') ? signToken(crypto.randomBytes(12).toString('hex')) : route.includes('/auth/') ? null : actor.token);

  it('invalid JSON bodies on every body-taking route are 400 VALIDATION_FAILED', async () => {
    await fc.assert(
      fc.asyncProperty(
        printable(fc.constantFrom(...Object.keys(BODIES)).chain((r) => mutations(BODIES[r].base(), BODIES[r].spec).map((b) => [r, b] as const))),
        async ({ value: [route, body] }) => {
          const seen = JSON.parse(JSON.stringify(body ?? null));
          fc.pre(jsonSize(seen) < 60_000 && judgeSpec(BODIES[route].spec, seen) === 'invalid');
          requests += 1;
          const r = await call(t.url, methodOf(route), pathOf(route), { token: tokenFor(route), body: JSON.stringify(body ?? null), headers: { 'content-type': 'application/json' } });
          const problem = errorProblem(r) ?? (r.status !== 400 ? `expected 400, got ${r.status} ${r.text.slice(0, 200)}` : null);
          if (problem) throw new Error(`${route} ${show(body)}: ${problem}`);
          expect(JSON.parse(r.text).error.code).toBe('VALIDATION_FAILED');
        },
      ),
      { numRuns: runs(700), seed: seed() + 10, endOnFailure: true },
    );
  }, fuzzTimeout());

  const rawBody = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
    fc.constantFrom(
      '', '{', '{"a":', 'null', '[]', '"str"', '42', 'true', '{"__proto__":{"polluted":"yes"}}', '{"constructor":{"prototype":{"polluted":"yes"}}}',
      '{"$where":"1"}', '{"username":{"$gt":""},"password":{"$gt":""}}', '{"a":1,"a":2}', '\ufeff{}', '{"text":"\\ud800"}',
      '['.repeat(20_000) + ']'.repeat(20_000), '{"a":'.repeat(5000) + '1' + '}'.repeat(5000),
    ),
    fc.constant(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])), // {"a":"<invalid UTF-8>"}
    fc.constant(Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1])),
    fc.integer({ min: 64 * 1024 + 1, max: 200 * 1024 }).map((n) => `{"text":"${'x'.repeat(n)}"}`),
  );
  const contentType = fc.constantFrom(
    'application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'application/json; charset=utf-16',
    'application/json; charset=bogus', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
    'application/vnd.api+json', '', 'application/json; charset="utf-8"; x=y',
  );
  const encoding = fc.constantFrom(undefined, 'gzip', 'deflate', 'br', 'identity', 'x-unknown', 'gzip, gzip');

  it('raw bodies, content types and encodings: a contract status on every route, never 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(BODIES)), printable(rawBody), contentType, encoding, async (route, { value: body }, type, enc) => {
        requests += 1;
        const headers: Record<string, string> = {};
        if (type) headers['content-type'] = type;
        if (enc) headers['content-encoding'] = enc;
        const r = await call(t.url, methodOf(route), pathOf(route), { token: tokenFor(route), body, headers });
        const problem = errorProblem(r);
        if (problem) throw new Error(`${route} ${type} ${enc ?? ''} ${show(typeof body === 'string' ? body : `<${body.length} bytes>`)}: ${problem}`);
        // None of these raw bodies is a valid request body: all are refused.
        expect(r.status, `${route} ${type} ${enc ?? ''}`).toBeGreaterThanOrEqual(400);
      }),
      { numRuns: runs(500), seed: seed() + 11, endOnFailure: true },
    );
  }, fuzzTimeout());

  const queryValue = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom('1', '0', '-1', '1e2', '0x10', '101', '100', '50', ' 5', '5 ', '١', '9007199254740993', '', 'null', '[object Object]', '%00', '%', '%E0%A4%A'),
  );
  const queryKey = fc.oneof(
    fc.constantFrom('limit', 'cursor', 'prefix', 'prefix[$regex]', 'beforeSeq', 'afterSeq', 'excludeThreadReplies', 'excludeThreadReplies[$ne]', 'limit[$gt]', 'limit[]', 'cursor[$ne]', 'afterSeq[$where]', '__proto__[polluted]', 'constructor[prototype][polluted]', 'a.b'),
    fc.constantFrom(...OPERATORS),
    fc.string({ maxLength: 12 }),
  );
  const query = fc.array(fc.tuple(queryKey, queryValue), { maxLength: 6 }).map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k).replace(/%5B/g, '[').replace(/%5D/g, ']')}=${/%/.test(v) ? v : encodeURIComponent(v)}`).join('&'));
  const pathParam = fc.oneof(
    fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).map(encodeURIComponent),
    fc.constantFrom('%E0%A4%A', '%', '%zz', '%00', '..', '%2e%2e', '..%2F..%2Fetc', '%2F', '$where', '%7B%22%24gt%22%3A%22%22%7D', '__proto__', 'constructor', 'x'.repeat(129), '%C0%AF', '%ED%A0%80'),
  );

  it('query strings and path parameters on every GET route: a contract status, never 500', async () => {
    const routes = [
      (p: string, q: string) => `/api/v1/rooms?${q}`,
      (p: string, q: string) => `/api/v1/rooms/${p}?${q}`,
      (p: string, q: string) => `/api/v1/rooms/${p}/messages?${q}`,
      (_p: string, q: string) => `/api/v1/rooms/${room.id}/messages?${q}`,
      (p: string, q: string) => `/api/v1/users/${p}/presence?${q}`,
      (_p: string, q: string) => `/api/v1/me?${q}`,
      (_p: string, q: string) => `/api/v1/users?${q}`,
      (_p: string, q: string) => `/api/v1/users?prefix=${actor.username.slice(0, 3)}&${q}`,
      (p: string, q: string) => `/api/v1/messages/${p}/thread?${q}`,
      (_p: string, q: string) => `/api/v1/messages/${encodeURIComponent(msg.id)}/thread?${q}`,
      (_p: string, q: string) => `/api/v1/users/me/blocks?${q}`,
      (p: string, q: string) => `/api/v1/rooms/${p}/members?${q}`,
      (_p: string, q: string) => `/api/v1/rooms/${room.id}/members?${q}`,
    ];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: routes.length - 1 }), pathParam, query, async (i, p, q) => {
        requests += 1;
        const path = routes[i](p, q);
        const r = await call(t.url, 'GET', path, { token: actor.token });
        const problem = errorProblem(r);
        if (problem) throw new Error(`GET ${path}: ${problem}`);
      }),
      { numRuns: runs(500), seed: seed() + 12, endOnFailure: true },
    );
  }, fuzzTimeout());

  it('user blocks: hostile path parameters on PUT/DELETE /users/me/blocks/:userId are refused, never 500, nothing stored', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('PUT', 'DELETE'), pathParam, query, async (m, p, q) => {
        requests += 1;
        const path = `/api/v1/users/me/blocks/${p}?${q}`;
        const r = await call(t.url, m, path, { token: actor.token });
        const problem = errorProblem(r);
        if (problem) throw new Error(`${m} ${path}: ${problem}`);
        // No such user (or not an id at all): PUT is refused; DELETE of a block that is not there succeeds and changes nothing.
        if (m === 'PUT') expect(r.status, `${m} ${path}`).toBeGreaterThanOrEqual(400);
      }),
      { numRuns: runs(200), seed: seed() + 15, endOnFailure: true },
    );
  }, fuzzTimeout());

  it('operator routes: hostile path parameters and tokens get a contract status, never 500', async () => {
    const routes = [
      ['GET', (p: string) => `/api/v1/admin/users/${p}/suspension`],
      ['PUT', (p: string) => `/api/v1/admin/users/${p}/suspension`],
      ['DELETE', (p: string) => `/api/v1/admin/users/${p}/suspension`],
      ['POST', (p: string) => `/api/v1/admin/users/${p}/messages/purge`],
    ] as const;
    const token = fc.oneof(fc.constant(OPERATOR_TOKEN), fc.constant(null), fc.string({ minLength: 1, maxLength: 40 }).filter((s) => /^[\x21-\x7e]+$/.test(s)));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: routes.length - 1 }), pathParam, query, token, async (i, p, q, tok) => {
        requests += 1;
        const [method, path] = routes[i];
        const r = await call(t.url, method, `${path(p)}?${q}`, { token: tok });
        const problem = errorProblem(r);
        if (problem) throw new Error(`${method} ${path(p)}: ${problem}`);
        // Without the operator token: 401 (a path that cannot be percent-decoded may be refused first, 400).
        if (tok !== OPERATOR_TOKEN) expect(decodable(path(p)) ? [401] : [400, 401], `${method} ${path(p)} without the operator token`).toContain(r.status);
      }),
      { numRuns: runs(200), seed: seed() + 16, endOnFailure: true },
    );
  }, fuzzTimeout());

  it('paths and methods outside the contract are 404 NOT_FOUND (or 401 without a token), never 500', async () => {
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD');
    const segment = fc.oneof(pathParam, fc.constantFrom('rooms', 'users', 'me', 'auth', 'messages', 'admin', 'v2', '.env', 'socket.io'));
    await fc.assert(
      fc.asyncProperty(method, fc.array(segment, { minLength: 1, maxLength: 4 }), fc.boolean(), async (m, segments, withToken) => {
        requests += 1;
        const path = `/api/v1/${segments.join('/')}`;
        const known = isContractRoute(m, new URL(path, t.url).pathname);
        const r = await call(t.url, m, path, { token: withToken ? actor.token : null, body: m === 'GET' || m === 'HEAD' ? undefined : '{}', headers: { 'content-type': 'application/json' } });
        if (m === 'HEAD' || m === 'OPTIONS' || known) {
          expect(r.status, `${m} ${path}`).toBeLessThan(500);
          if (known && m !== 'HEAD' && m !== 'OPTIONS' && errorProblem(r)) throw new Error(`${m} ${path}: ${errorProblem(r)}`);
          return;
        }
        const problem = errorProblem(r);
        if (problem) throw new Error(`${m} ${path}: ${problem}`);
        // Not a route of the contract: 404 NOT_FOUND; without a token 401 is as fitting. A path
        // that cannot be percent-decoded may also be refused as a bad request (400).
        const code = JSON.parse(r.text).error.code;
        const fitting: Array<[number, string]> = [[404, 'NOT_FOUND']];
        if (!withToken) fitting.push([401, 'UNAUTHORIZED']);
        if (!decodable(path)) fitting.push([400, 'VALIDATION_FAILED']);
        expect(fitting, `${m} ${path}`).toContainEqual([r.status, code]);
      }),
      { numRuns: runs(300), seed: seed() + 13, endOnFailure: true },
    );
  }, fuzzTimeout());


  it('heap stays flat over a long run of hostile requests', async () => {
    const batch = runs(300);
    const run = () =>
      fc.assert(
        fc.asyncProperty(fc.constantFrom(...Object.keys(BODIES)), printable(rawBody), contentType, async (route, { value: body }, type) => {
          await call(t.url, methodOf(route), pathOf(route), { token: tokenFor(route), body, headers: { 'content-type': type || 'application/json' } });
        }),
        { numRuns: batch, seed: seed() + 14 },
      );
    await run();
    const start = settledHeap();
    await run();
    await run();
    const growth = settledHeap() - start;
    report(`REST heap: ${(start / 1024 / 1024).toFixed(1)} MiB after ${batch} warm-up requests, ${(growth / 1024 / 1024).toFixed(2)} MiB growth over ${2 * batch} more`);
    expect(growth, `heap grew ${(growth / 1024 / 1024).toFixed(1)} MiB over ${2 * batch} requests`).toBeLessThan(Math.max(8 * 1024 * 1024, batch * 2 * 1024));
  }, fuzzTimeout());

});
