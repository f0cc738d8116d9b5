// Property-based fuzzing of every socket event: thousands of generated payloads (wrong
// types, missing and extra fields, huge strings and arrays, deep nesting, __proto__ and
// constructor keys, MongoDB operators anywhere, binary attachments, broken Unicode), events
// that do not exist, requests without ack callbacks and malformed packets. Every request
// with a callback gets an ack from the contract, an invalid one exactly VALIDATION_FAILED;
// the server never crashes, stores nothing, and its heap stays flat.
// Longer soak: FUZZ_SOAK=1 npx vitest run test/integration/fuzz-socket.test.ts
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { CHAT_ENV, closeClients, connectUser, createRoom, ERROR_CODES, newPerson, ok, registerUser, sendMessage, sleep, type Message, type Person, type Room, type TestUser } from '../helpers/chat';
import { until } from '../helpers/cluster';
import { connect, request, type Ack, type Client } from '../helpers/clients';
import { ATTACHMENT, clientView, describe as show, EVENTS, hostileValue, jsonSize, judge, mutations, nest, fuzzTimeout, printable, report, runs, seed, settledHeap, unknownEvent, storedSnapshot } from '../helpers/fuzz';

const EVENT_NAMES = Object.keys(EVENTS);

/** A well-formed ack from the contract: ok with data, or an error with a known code (never INTERNAL). */
function contractProblem(ack: Ack | undefined): string | null {
  if (!ack || typeof ack !== 'object') return `not an ack: ${JSON.stringify(ack)}`;
  if (ack.ok === true) return 'data' in ack && Object.keys(ack).length === 2 ? null : `malformed ok ack ${JSON.stringify(ack).slice(0, 200)}`;
  if (ack.ok !== false || Object.keys(ack).length !== 2 || !ack.error) return `malformed ack ${JSON.stringify(ack).slice(0, 200)}`;
  const { code, message, details } = ack.error;
  if (!(ERROR_CODES as readonly string[]).includes(code)) return `unknown code ${code}`;
  if (code === 'INTERNAL') return `INTERNAL ${JSON.stringify(details)}`;
  if (typeof message !== 'string') return 'error without message';
  if (Object.keys(ack.error).some((k) => !['code', 'message', 'details'].includes(k))) return `extra error keys ${Object.keys(ack.error)}`;
  if (code === 'VALIDATION_FAILED' && !Array.isArray(details)) return 'VALIDATION_FAILED without a details list';
  return null;
}

describe('fuzz: socket events', () => {
  let t: TestApp;
  let actor: Person;
  let other: Person;
  let other2: Person;
  let witness: TestUser;
  let room: Room;
  let priv: Room;
  let msg: Message;
  let socket: Client;
  let before: unknown;
  let requests = 0;

  /** A valid payload per event, aimed at real rooms, users and messages the actor owns. */
  const base = (event: string): Record<string, unknown> =>
    ({
      'room:create': { type: 'public', name: 'fuzz', memberIds: [other.id] },
      'room:join': { roomId: priv.id },
      'room:leave': { roomId: room.id },
      'room:invite': { roomId: priv.id, userId: other.id },
      'room:kick': { roomId: priv.id, userId: other2.id },
      'room:set_role': { roomId: priv.id, userId: other2.id, role: 'admin' },
      'room:list': { limit: 10 },
      'room:members': { roomId: room.id, limit: 10 },
      'dm:open': { userId: other.id },
      'message:send': { roomId: room.id, clientMsgId: 'fuzz-1', text: 'hello', replyTo: msg.id, threadOf: msg.id, alsoInRoom: true, attachments: [ATTACHMENT] },
      'message:edit': { messageId: msg.id, text: 'edited' },
      'message:delete': { messageId: msg.id },
      'message:react': { messageId: msg.id, emoji: '👍', add: true },
      'message:history': { roomId: room.id, afterSeq: 0, limit: 5, excludeThreadReplies: true },
      'thread:history': { messageId: msg.id, afterSeq: 0, limit: 5 },
      'message:read': { roomId: room.id, seq: 1 },
      'message:delivered': { roomId: room.id, seq: 1 },
      'presence:get': { userIds: [other.id] },
      'auth:refresh': { token: actor.token },
      'typing:start': { roomId: room.id },
      'typing:stop': { roomId: room.id },
      'user:update': { displayName: 'Fuzz', avatarUrl: 'https://example.com/a.png', statusText: 'fuzzing' },
      'user:search': { prefix: actor.username.slice(0, 3), limit: 5 },
      'user:block': { userId: other.id },
      'user:unblock': { userId: other2.id },
      'user:list_blocks': {},
      'room:mute': { roomId: priv.id, userId: other2.id, durationSeconds: 60, reason: 'fuzz' },
      'room:unmute': { roomId: priv.id, userId: other2.id, reason: 'fuzz' },
      'room:ban': { roomId: priv.id, userId: other2.id, durationSeconds: 60, reason: 'fuzz' },
      'room:unban': { roomId: priv.id, userId: other2.id, reason: 'fuzz' },
      'room:slow_mode': { roomId: room.id, seconds: 5, reason: 'fuzz' },
      'room:audit': { roomId: room.id, limit: 5 },
      'room:flags': { roomId: room.id, limit: 5 },
      'message:flag': { messageId: msg.id, reason: 'fuzz' },
      'room:resolve_flag': { roomId: room.id, messageId: msg.id, action: 'dismiss', note: 'fuzz' },
    })[event]!;

  /** Everything stored, except what presence legitimately moves (users.lastSeenAt). */
  const stored = () => storedSnapshot(t);

  /** Sends one request on the actor's socket (reconnecting if a previous case closed it). */
  async function send(event: string, payload: unknown): Promise<Ack> {
    if (!socket.connected) socket = await connectUser(t.url, actor);
    requests += 1;
    return request(socket, event, payload, 10_000);
  }

  beforeAll(async () => {
    t = await startTestApp(CHAT_ENV);
    [actor, other, other2] = await Promise.all([newPerson(t.url), newPerson(t.url), newPerson(t.url)]);
    witness = await registerUser(t.url);
    room = await createRoom(actor.socket, { type: 'public', name: 'fuzz target' });
    priv = await createRoom(actor.socket, { type: 'private', name: 'fuzz private', memberIds: [other2.id] });
    await ok(other.socket, 'room:join', { roomId: room.id });
    msg = await sendMessage(actor.socket, room.id, 'target message');
    await ok(other.socket, 'message:react', { messageId: msg.id, emoji: '🎉', add: true });
    socket = actor.socket;
    before = await stored();
  });
  afterAll(async () => {
    report(`${requests} socket requests sent`);
    closeClients();
    await t.close();
  });
  // After every test, whatever ran before it: nothing stored since the baseline, no prototype
  // polluted, no INTERNAL outcome, and the server still answers.
  afterEach(async () => {
    expect(await stored()).toEqual(before);
    expect(({} as any).polluted).toBeUndefined();
    expect(({} as any).isAdmin).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
    const events = t.app.deps.metrics.registry.getSingleMetric('chat_socket_events_total')!;
    const internal = (await events.get()).values.filter((v) => v.labels.outcome === 'INTERNAL');
    expect(internal).toEqual([]);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });

  it('the oracle agrees with the contract on the valid base payloads', () => {
    for (const e of EVENT_NAMES) expect(judge(e, base(e)), e).toBe('valid');
  }, fuzzTimeout());

  it('every mutation of a valid payload that the contract calls invalid is VALIDATION_FAILED with details', async () => {
    const problems: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        printable(fc.constantFrom(...EVENT_NAMES).chain((e) => mutations(base(e), EVENTS[e]).map((p) => [e, p] as const))),
        async ({ value: [event, payload] }) => {
          const seen = clientView(payload);
          fc.pre(judge(event, seen) === 'invalid' && jsonSize(seen) < 60_000);
          const ack = await send(event, payload);
          const problem = contractProblem(ack) ?? (ack.ok || ack.error!.code !== 'VALIDATION_FAILED' ? `expected VALIDATION_FAILED, got ${show(ack, 300)}` : null);
          if (problem) problems.push(`${event} ${show(payload)}: ${problem}`);
          return problem === null;
        },
      ),
      { numRuns: runs(1500), seed: seed(), endOnFailure: true },
    );
    expect(problems).toEqual([]);
  }, fuzzTimeout());

  it('arbitrary values as payloads of every event get a contract ack (VALIDATION_FAILED when invalid)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...EVENT_NAMES), printable(fc.oneof(hostileValue, fc.jsonValue(), fc.object())), async (event, { value: payload }) => {
        const seen = clientView(payload);
        const verdict = judge(event, seen);
        // A valid write would store something by design; this property is about hostile input.
        fc.pre(jsonSize(seen) < 60_000 && (verdict === 'invalid' || !EVENTS[event].writes));
        const ack = await send(event, payload);
        const problem = contractProblem(ack);
        if (problem) throw new Error(`${event} ${show(payload)}: ${problem}`);
        if (verdict === 'invalid') expect(ack.error?.code, `${event} ${show(payload)}`).toBe('VALIDATION_FAILED');
      }),
      { numRuns: runs(600), seed: seed() + 1, endOnFailure: true },
    );
  }, fuzzTimeout());

  it('events that do not exist are answered NOT_FOUND when they carry a callback, and ignored otherwise', async () => {
    await fc.assert(
      fc.asyncProperty(unknownEvent, printable(fc.array(hostileValue, { maxLength: 3 })), fc.boolean(), async (event, { value: args }, withAck) => {
        fc.pre(!(event in EVENTS) && !['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'].includes(event));
        fc.pre(jsonSize(args) < 60_000);
        if (!socket.connected) socket = await connectUser(t.url, actor);
        requests += 1;
        if (!withAck) {
          socket.emit(event, ...args);
          return;
        }
        const ack = (await socket.timeout(10_000).emitWithAck(event, ...args)) as Ack;
        expect(contractProblem(ack)).toBeNull();
        expect(ack.error?.code).toBe('NOT_FOUND');
      }),
      { numRuns: runs(300), seed: seed() + 2, endOnFailure: true },
    );
    // Still answering.
    expect((await send('room:list', {})).ok).toBe(true);
  }, fuzzTimeout());

  it('known events without an ack callback are dropped, valid ones included: nothing is stored, the socket goes on', async () => {
    await fc.assert(
      fc.asyncProperty(
        printable(fc.constantFrom(...EVENT_NAMES.filter((e) => !e.startsWith('typing:'))).chain((e) => fc.oneof(fc.constant(base(e)), mutations(base(e), EVENTS[e])).map((p) => [e, p] as const))),
        fc.constantFrom('none', 'not-a-function', 'extra-args'),
        async ({ value: [event, payload] }, style) => {
          fc.pre(jsonSize(clientView(payload)) < 60_000);
          if (!socket.connected) socket = await connectUser(t.url, actor);
          requests += 1;
          if (style === 'none') socket.emit(event, payload);
          else if (style === 'not-a-function') socket.emit(event, payload, 'callback');
          else socket.emit(event, payload, { cb: true }, 42);
        },
      ),
      { numRuns: runs(300), seed: seed() + 3, endOnFailure: true },
    );
    // Answered after everything emitted before it on this socket was handled (afterEach checks the store).
    expect((await send('room:list', {})).ok).toBe(true);
  }, fuzzTimeout());

  it('malformed packets, invalid UTF-8 frames and absurd nesting close at most that connection', async () => {
    const packets = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.tuple(fc.constantFrom('2', '21', '22', '3', '4', '42', '451-', '43', '0', '1', '40', '41', '44', '2/', '2/nsp,'), fc.jsonValue()).map(([p, v]) => p + JSON.stringify(v)),
      fc.constantFrom(
        '2["message:send",',
        '2{"not":"an array"}',
        '2[]',
        '2[42,{}]',
        '2["disconnect"]',
        '2["disconnecting",{}]',
        '2["newListener","message:send"]',
        '51-["message:send",{"_placeholder":true,"num":7}]',
        '51-["message:send",{"_placeholder":true,"num":"0"}]',
        '2' + JSON.stringify(['message:send', nest(2_000, 'array')]),
        '2["message:send",' + '['.repeat(25_000) + ']'.repeat(25_000) + ']',
        '2["message:send",' + '{"a":'.repeat(9000) + '1' + '}'.repeat(9000) + ']',
      ),
    );
    const probe = await connectUser(t.url, other);
    await fc.assert(
      fc.asyncProperty(printable(packets), async ({ value: packet }) => {
        const victim = await connect(t.url, actor.token);
        requests += 1;
        (victim.io.engine as any).write(packet);
        await sleep(5);
        victim.close();
      }),
      { numRuns: runs(150), seed: seed() + 4, endOnFailure: true },
    );
    // Raw WebSocket frames that are not UTF-8, as text and as binary.
    for (const bytes of [Buffer.from([0xff, 0xfe, 0xfd]), Buffer.from([0x34, 0x32, 0xc3, 0x28]), Buffer.from('42["room:list",{}]\ud800', 'latin1'), Buffer.from([0xed, 0xa0, 0x80])]) {
      for (const binary of [false, true]) {
        const victim = await connect(t.url, actor.token);
        const closed = new Promise<void>((r) => victim.once('disconnect', () => r()));
        (victim.io.engine as any).transport.ws.send(bytes, { binary });
        await Promise.race([closed, sleep(500)]);
        victim.close();
      }
    }
    // The server and the other user's socket carry on; a client reserved name changed nothing.
    expect(probe.connected).toBe(true);
    expect((await request(probe, 'message:history', { roomId: room.id })).ok).toBe(true);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  }, fuzzTimeout());

  it('a "disconnect" event sent by a client does not fake a disconnect (presence stays online)', async () => {
    const s = await connectUser(t.url, other2);
    (s.io.engine as any).write('42["disconnect","transport close"]');
    // A user that really disconnects after the fake one: once it is announced offline, a faked
    // disconnect (same grace period, started earlier) would have been announced too.
    (await connectUser(t.url, witness)).close();
    await until(async () => (await ok(socket, 'presence:get', { userIds: [witness.id] })).items[0].status === 'offline', 15_000, 'witness offline');
    const seen = await send('presence:get', { userIds: [other2.id] });
    expect(seen.ok && seen.data.items[0].status).toBe('online');
    s.close();
  }, fuzzTimeout());

  it('broken Unicode (lone surrogates) in text, names and emoji is VALIDATION_FAILED and stores nothing', async () => {
    // docs/protocol.md: strings with lone UTF-16 surrogates are VALIDATION_FAILED.
    for (const bad of ['\ud800', 'a\udfffb', '😀\ud83d', '\ude00x']) {
      const hex = Buffer.from(bad).toString('hex');
      const acks = [
        await request(other.socket, 'message:send', { roomId: room.id, clientMsgId: `u-${hex}-${bad.length}`, text: bad }),
        await request(other.socket, 'message:send', { roomId: room.id, clientMsgId: `u${bad}`, text: 'fine' }),
        await request(other.socket, 'message:edit', { messageId: msg.id, text: bad }),
        await request(other.socket, 'message:react', { messageId: msg.id, emoji: bad, add: true }),
        await request(other.socket, 'room:create', { type: 'public', name: bad }),
      ];
      for (const ack of acks) {
        expect(contractProblem(ack), show(bad)).toBeNull();
        expect(ack.ok ? 'ok' : ack.error!.code, show(bad)).toBe('VALIDATION_FAILED');
      }
    }
  }, fuzzTimeout());

  it('a fresh socket is answered as usual', async () => {
    const fresh = await connect(t.url, actor.token);
    expect((await request(fresh, 'message:history', { roomId: room.id })).ok).toBe(true);
    fresh.close();
  }, fuzzTimeout());

  it('heap stays flat over a long run of hostile requests', async () => {
    const batch = runs(400);
    const run = async (n: number) => {
      await fc.assert(
        fc.asyncProperty(printable(fc.constantFrom(...EVENT_NAMES).chain((e) => mutations(base(e), EVENTS[e]).map((p) => [e, p] as const))), async ({ value: [event, payload] }) => {
          fc.pre(jsonSize(clientView(payload)) < 60_000 && judge(event, clientView(payload)) === 'invalid');
          await send(event, payload);
        }),
        { numRuns: n, seed: seed() + 5 },
      );
    };
    await run(batch); // warm-up: JIT, pools, caches
    const start = settledHeap();
    await run(batch);
    await run(batch);
    const end = settledHeap();
    const growth = end - start;
    // Two more batches after the warm-up: allowed 8 MiB of noise (or 1 KiB per request in a soak).
    report(`socket heap: ${(start / 1024 / 1024).toFixed(1)} MiB after ${batch} warm-up requests, ${(growth / 1024 / 1024).toFixed(2)} MiB growth over ${2 * batch} more`);
    expect(growth, `heap grew ${(growth / 1024 / 1024).toFixed(1)} MiB over ${2 * batch} requests`).toBeLessThan(Math.max(8 * 1024 * 1024, batch * 2 * 1024));
  }, fuzzTimeout());
});
