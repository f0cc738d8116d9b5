// Hostile socket payloads: operators, prototype keys, extra fields, wrong types,
// oversize strings and frames, non-object payloads, missing acks, malformed
// packets. Each is refused with VALIDATION_FAILED (or PAYLOAD_TOO_LARGE / a
// closed socket) and changes nothing, checked through history, lists and members.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request, type Client } from '../helpers/clients';
import { useChatApp } from '../helpers/chat-app';
import {
  api,
  cmid,
  connectUser,
  createRoom,
  history,
  listAll,
  membersAll,
  newPerson,
  ok,
  sendMessage,
  sleep,
  type ErrorCode,
  type Message,
  type Person,
  type Room,
} from '../helpers/chat';

type Kind = 'string' | 'number' | 'boolean' | 'array';

const HOSTILE: Record<Kind, unknown[]> = {
  string: [{ $gt: '' }, { $ne: null }, { $where: 'sleep(1000)' }, { $regex: '.*' }, ['x'], 123, 0, null, true, {}, { toString: 'x' }],
  number: ['5', '', { $gt: 0 }, { $ne: null }, null, [], [1], true, 1.5],
  boolean: ['true', 'false', 1, 0, null, { $ne: false }, []],
  array: ['x', { $in: ['x'] }, { 0: 'x', length: 1 }, null, 5, [{ $gt: '' }], [null], [5]],
};

describe('chat: hostile socket payloads', () => {
  const t = useChatApp();
  let a: Person;
  let b: Person;
  let c: Person;
  let room: Room;
  let scratch: Room;
  let msgs: Message[];
  let snapshot: () => Promise<unknown>;
  let before: unknown;

  beforeAll(async () => {
    [a, b, c] = await Promise.all([newPerson(t.url), newPerson(t.url), newPerson(t.url)]);
    room = await createRoom(a.socket, { type: 'public', name: 'target' });
    scratch = await createRoom(a.socket, { type: 'public', name: 'scratch' });
    await ok(b.socket, 'room:join', { roomId: room.id });
    msgs = [await sendMessage(a.socket, room.id, 'one'), await sendMessage(b.socket, room.id, 'two'), await sendMessage(a.socket, room.id, 'three')];
    await ok(b.socket, 'message:react', { messageId: msgs[0].id, emoji: '👍', add: true });
    snapshot = async () => ({
      history: await history(a.socket, room.id, { limit: 100 }),
      aRooms: (await listAll(a.socket)).filter((r) => r.id !== scratch.id),
      bRooms: await listAll(b.socket),
      cRooms: await listAll(c.socket),
      members: (await membersAll(a.socket, room.id)).map(({ userId, role, joinedAt }) => ({ userId, role, joinedAt })).sort((x, y) => x.userId.localeCompare(y.userId)),
    });
    before = await snapshot();
  });
  // After every test, whatever ran before it: nothing outside the scratch room changed and
  // the three users' sockets are still up.
  afterEach(async () => {
    expect(await snapshot()).toEqual(before);
    expect(a.socket.connected && b.socket.connected && c.socket.connected).toBe(true);
  });

  /** Valid base payloads; the hostile variants replace one field at a time. */
  function bases(): Array<{ event: string; as: () => Client; payload: Record<string, unknown>; fields: Record<string, Kind> }> {
    return [
      { event: 'room:create', as: () => c.socket, payload: { type: 'public', name: 'x', memberIds: [a.id] }, fields: { type: 'string', name: 'string', memberIds: 'array' } },
      { event: 'room:join', as: () => c.socket, payload: { roomId: room.id }, fields: { roomId: 'string' } },
      { event: 'room:leave', as: () => b.socket, payload: { roomId: room.id }, fields: { roomId: 'string' } },
      { event: 'room:invite', as: () => a.socket, payload: { roomId: room.id, userId: c.id }, fields: { roomId: 'string', userId: 'string' } },
      { event: 'room:kick', as: () => a.socket, payload: { roomId: room.id, userId: b.id }, fields: { roomId: 'string', userId: 'string' } },
      { event: 'room:set_role', as: () => a.socket, payload: { roomId: room.id, userId: b.id, role: 'admin' }, fields: { roomId: 'string', userId: 'string', role: 'string' } },
      { event: 'room:list', as: () => a.socket, payload: { limit: 10 }, fields: { limit: 'number', cursor: 'string' } },
      { event: 'room:members', as: () => a.socket, payload: { roomId: room.id, limit: 10 }, fields: { roomId: 'string', limit: 'number', cursor: 'string' } },
      { event: 'dm:open', as: () => c.socket, payload: { userId: a.id }, fields: { userId: 'string' } },
      {
        event: 'message:send',
        as: () => a.socket,
        payload: { roomId: room.id, clientMsgId: 'hostile-1', text: 'x', replyTo: msgs[0].id },
        fields: { roomId: 'string', clientMsgId: 'string', text: 'string', replyTo: 'string' },
      },
      { event: 'message:edit', as: () => a.socket, payload: { messageId: msgs[0].id, text: 'edited' }, fields: { messageId: 'string', text: 'string' } },
      { event: 'message:delete', as: () => a.socket, payload: { messageId: msgs[1].id }, fields: { messageId: 'string' } },
      { event: 'message:react', as: () => a.socket, payload: { messageId: msgs[0].id, emoji: '🎉', add: true }, fields: { messageId: 'string', emoji: 'string', add: 'boolean' } },
      { event: 'message:history', as: () => a.socket, payload: { roomId: room.id, afterSeq: 0, limit: 5 }, fields: { roomId: 'string', afterSeq: 'number', beforeSeq: 'number', limit: 'number' } },
      { event: 'message:read', as: () => b.socket, payload: { roomId: room.id, seq: 3 }, fields: { roomId: 'string', seq: 'number' } },
      { event: 'presence:get', as: () => a.socket, payload: { userIds: [b.id] }, fields: { userIds: 'array' } },
      { event: 'typing:start', as: () => a.socket, payload: { roomId: room.id }, fields: { roomId: 'string' } },
      { event: 'typing:stop', as: () => a.socket, payload: { roomId: room.id }, fields: { roomId: 'string' } },
      { event: 'auth:refresh', as: () => a.socket, payload: { token: a.token }, fields: { token: 'string' } },
    ];
  }

  /** Sends every case; returns the ones not refused with an allowed code. */
  async function expectAllRefused(cases: Array<{ label: string; socket: Client; event: string; payload: unknown; codes?: ErrorCode[] }>) {
    const failures: string[] = [];
    for (const k of cases) {
      const ack = await request(k.socket, k.event, k.payload);
      const allowed = k.codes ?? ['VALIDATION_FAILED'];
      if (ack?.ok !== false || !allowed.includes(ack.error!.code as ErrorCode) || typeof ack.error!.message !== 'string') {
        failures.push(`${k.event} ${k.label}: ${JSON.stringify(ack).slice(0, 300)}`);
      } else if (ack.error!.code === 'VALIDATION_FAILED' && ack.error!.details === undefined) {
        failures.push(`${k.event} ${k.label}: VALIDATION_FAILED without details`);
      }
    }
    return failures;
  }

  it('every string, number, boolean and array field refuses operators and wrong types with VALIDATION_FAILED', async () => {
    const cases = [];
    for (const base of bases()) {
      for (const [field, kind] of Object.entries(base.fields)) {
        for (const bad of HOSTILE[kind]) {
          cases.push({ label: `${field}=${JSON.stringify(bad)}`, socket: base.as(), event: base.event, payload: { ...base.payload, [field]: bad } });
        }
      }
    }
    expect(cases.length).toBeGreaterThan(200);
    expect(await expectAllRefused(cases)).toEqual([]);
  });

  it('extra fields, __proto__ and constructor keys are refused and pollute nothing', async () => {
    const cases = [];
    for (const base of bases()) {
      const json = JSON.stringify(base.payload);
      const withKey = (key: string, value: string) => JSON.parse(`${json.slice(0, -1)},"${key}":${value}}`);
      cases.push({ label: 'extra field', socket: base.as(), event: base.event, payload: { ...base.payload, extra: 1 } });
      cases.push({ label: '__proto__ key', socket: base.as(), event: base.event, payload: withKey('__proto__', '{"polluted":"yes","isAdmin":true}') });
      cases.push({ label: 'constructor key', socket: base.as(), event: base.event, payload: withKey('constructor', '{"prototype":{"polluted":"yes"}}') });
      cases.push({ label: '$where key', socket: base.as(), event: base.event, payload: withKey('$where', '"1"') });
      cases.push({ label: 'dotted key', socket: base.as(), event: base.event, payload: withKey('a.b', '1') });
    }
    expect(await expectAllRefused(cases)).toEqual([]);
    expect(({} as any).polluted).toBeUndefined();
    expect(({} as any).isAdmin).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  });

  it('non-object payloads are refused with VALIDATION_FAILED', async () => {
    const cases = [];
    for (const base of bases()) {
      for (const bad of ['string', '', 42, 0, true, false, null, [], [base.payload]]) {
        cases.push({ label: `payload=${JSON.stringify(bad)}`, socket: base.as(), event: base.event, payload: bad });
      }
    }
    expect(await expectAllRefused(cases)).toEqual([]);
  });

  it('binary data and deep nesting are refused with VALIDATION_FAILED', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 500; i++) deep = { d: deep };
    const cases = [
      { label: 'binary text', socket: a.socket, event: 'message:send', payload: { roomId: room.id, clientMsgId: cmid(), text: Buffer.from('hi') } },
      { label: 'binary roomId', socket: a.socket, event: 'message:history', payload: { roomId: Buffer.from(room.id) } },
      { label: 'deep roomId', socket: a.socket, event: 'message:send', payload: { roomId: deep, clientMsgId: cmid(), text: 'x' } },
      { label: 'deep text', socket: a.socket, event: 'message:edit', payload: { messageId: msgs[0].id, text: deep } },
    ];
    expect(await expectAllRefused(cases)).toEqual([]);
  });

  it('oversize strings within the frame limit are VALIDATION_FAILED (or PAYLOAD_TOO_LARGE)', async () => {
    const huge = 'h'.repeat(60 * 1024);
    const VF: ErrorCode[] = ['VALIDATION_FAILED'];
    const either: ErrorCode[] = ['VALIDATION_FAILED', 'PAYLOAD_TOO_LARGE'];
    const cases = [
      { label: 'text 4001', socket: a.socket, event: 'message:send', payload: { roomId: room.id, clientMsgId: cmid(), text: 't'.repeat(4001) }, codes: VF },
      { label: 'text 60 KiB', socket: a.socket, event: 'message:send', payload: { roomId: room.id, clientMsgId: cmid(), text: huge }, codes: either },
      { label: 'edit text 60 KiB', socket: a.socket, event: 'message:edit', payload: { messageId: msgs[0].id, text: huge }, codes: either },
      { label: 'clientMsgId 65', socket: a.socket, event: 'message:send', payload: { roomId: room.id, clientMsgId: 'c'.repeat(65), text: 'x' }, codes: VF },
      { label: 'clientMsgId 60 KiB', socket: a.socket, event: 'message:send', payload: { roomId: room.id, clientMsgId: huge, text: 'x' }, codes: either },
      { label: 'name 101', socket: c.socket, event: 'room:create', payload: { type: 'public', name: 'n'.repeat(101) }, codes: VF },
      { label: 'name 60 KiB', socket: c.socket, event: 'room:create', payload: { type: 'public', name: huge }, codes: either },
      { label: 'emoji 60 KiB', socket: a.socket, event: 'message:react', payload: { messageId: msgs[0].id, emoji: huge, add: true }, codes: either },
    ];
    expect(await expectAllRefused(cases)).toEqual([]);
  });

  it('a frame over 64 KiB closes that socket only; nothing of it is stored', async () => {
    const victim = await connectUser(t.url, a);
    const closed = new Promise<string>((resolve) => victim.once('disconnect', resolve));
    let acked = false;
    victim.emit('message:send', { roomId: room.id, clientMsgId: cmid('big'), text: 'B'.repeat(70 * 1024) }, () => {
      acked = true;
    });
    const reason = await Promise.race([closed, sleep(5000).then(() => 'still connected')]);
    expect(reason).not.toBe('still connected');
    expect(acked).toBe(false);
    const victim2 = await connectUser(t.url, a);
    const closed2 = new Promise<string>((resolve) => victim2.once('disconnect', resolve));
    victim2.emit('room:create', { type: 'public', name: 'x', padding: 'p'.repeat(80 * 1024) }, () => undefined);
    expect(await Promise.race([closed2, sleep(5000).then(() => 'still connected')])).not.toBe('still connected');
    // The user's other sockets and the server carry on.
    expect(a.socket.connected).toBe(true);
    expect(b.socket.connected).toBe(true);
    expect((await history(b.socket, room.id, { limit: 100 })).items.every((m) => m.text.length < 100)).toBe(true);
  });

  it('requests without an ack callback, unknown events and stray arguments do not crash the server', async () => {
    const s = await connectUser(t.url, a);
    s.emit('message:send', { roomId: room.id, clientMsgId: cmid(), text: { $gt: '' } });
    s.emit('message:send', 'garbage');
    s.emit('message:send');
    s.emit('room:leave', { roomId: room.id, extra: true });
    s.emit('message:delete', { messageId: { $ne: null } });
    // Valid, into the room the snapshot covers: dropped all the same, as it cannot be answered.
    s.emit('message:send', { roomId: room.id, clientMsgId: cmid(), text: 'valid but no ack' });
    s.emit('room:list', { limit: 5 }, 'not-a-callback');
    s.emit('no:such:event', { roomId: room.id }, () => undefined);
    s.emit('__proto__', {});
    s.emit('constructor', {});
    s.emit('hasOwnProperty', {});
    // Answered after everything emitted before it on this socket was handled.
    expect((await request(s, 'room:list', {})).ok).toBe(true);
    expect(s.connected).toBe(true);
    expect((await history(a.socket, room.id, { limit: 100 })).items.map((m) => m.text)).not.toContain('valid but no ack');
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });

  it('malformed Socket.IO packets close at most that socket; the server carries on', async () => {
    const s = await connectUser(t.url, a);
    const engine = s.io.engine;
    engine.write('2["message:send",');
    engine.write('2{"not":"an array"}');
    engine.write('2[]');
    engine.write('2[42,{}]');
    engine.write('21["message:send",{"roomId":"x"}');
    engine.write('9garbage');
    await sleep(500);
    const probe = await connectUser(t.url, b);
    expect((await request(probe, 'message:history', { roomId: room.id })).ok).toBe(true);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });

  it('operator-looking strings are data, not queries', async () => {
    // A plain string that looks like an operator is legal text and is stored verbatim, in the scratch room.
    const m = await sendMessage(a.socket, scratch.id, '{"$gt": ""}');
    expect(m.text).toBe('{"$gt": ""}');
    const r = await ok<Room>(c.socket, 'room:create', { type: 'private', name: '$where' });
    expect(r.name).toBe('$where');
    await ok(c.socket, 'room:leave', { roomId: r.id });
    // Ids that look like operators find nothing.
    for (const id of ['$gt', '{"$gt":""}', '[object Object]', '__proto__', 'constructor']) {
      const ack = await request(a.socket, 'message:history', { roomId: id });
      expect(ack.ok, id).toBe(false);
      expect(['NOT_FOUND', 'VALIDATION_FAILED']).toContain(ack.error!.code);
    }
  });

  it('odd emoji keys are either refused or stored as plain keys', async () => {
    const target = await sendMessage(a.socket, scratch.id, 'react target');
    for (const emoji of ['$gt', 'a.b', '__proto__', 'constructor', 'toString', '$where']) {
      const ack = await request<Message>(a.socket, 'message:react', { messageId: target.id, emoji, add: true });
      if (ack.ok) {
        expect(Object.prototype.hasOwnProperty.call(ack.data!.reactions, emoji), emoji).toBe(true);
        expect(ack.data!.reactions[emoji]).toEqual([a.id]);
      } else {
        expect(ack.error!.code, emoji).toBe('VALIDATION_FAILED');
      }
    }
    const stored = (await history(a.socket, scratch.id, { limit: 100 })).items.find((m) => m.id === target.id)!;
    expect(stored.text).toBe('react target');
    expect(Object.getPrototypeOf(stored.reactions)).toBe(Object.prototype);
    expect(({} as any).polluted).toBeUndefined();
  });

  it('REST routes refuse operators in bodies and query strings', async () => {
    const bad = [
      await api(t.url, 'POST', '/api/v1/rooms', { token: c.token, body: { type: 'public', name: { $gt: '' } } }),
      await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: a.token, body: { clientMsgId: { $ne: null }, text: 'x' } }),
      await api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: a.token, body: { clientMsgId: cmid(), text: { $gt: '' } } }),
      await api(t.url, 'GET', `/api/v1/rooms/${room.id}/messages?limit[$gt]=1`, { token: a.token }),
      await api(t.url, 'GET', `/api/v1/rooms/${room.id}/messages?afterSeq[$ne]=0`, { token: a.token }),
      await api(t.url, 'GET', `/api/v1/rooms?cursor[$gt]=`, { token: a.token }),
      await api(t.url, 'GET', `/api/v1/rooms?limit=5&limit=6`, { token: a.token }),
      await api(t.url, 'POST', '/api/v1/rooms', {
        token: c.token,
        rawBody: '{"type":"public","name":"x","__proto__":{"polluted":"yes"}}',
      }),
    ];
    expect(bad.map((r) => [r.status, r.body?.error?.code])).toEqual(bad.map(() => [400, 'VALIDATION_FAILED']));
    expect(({} as any).polluted).toBeUndefined();
  });
});
