// The authorization matrix: every socket event and REST endpoint × who is asking, for a
// public and a private room, with the outcome docs/protocol.md promises. Refusals are
// checked to change nothing (the room's documents before and after are equal); successes
// are checked for their effect. A last part checks who receives the room's broadcasts.
//
// Personas, relative to the room under test:
//   anonymous  no token at all
//   nonMember  a registered user with no tie to the room (shares no room with anyone here)
//   invited    invited by the owner, not joined yet
//   member, admin, owner
//   kicked     was a member, kicked by the owner (so banned); in the private room this is
//              the user "blocked from a private room"
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import {
  api,
  CHAT_ENV,
  closeClients,
  cmid,
  newPerson,
  ok,
  sendMessage,
  uniqueName,
  type ErrorCode,
  type Message,
  type Person,
  type Room,
  roundTrip,
} from '../helpers/chat';
import { Manager } from 'socket.io-client';
import { collect, request, waitFor, WAIT_MS } from '../helpers/clients';

type Persona = 'anonymous' | 'nonMember' | 'invited' | 'member' | 'admin' | 'owner' | 'kicked';
type Kind = 'public' | 'private';
const PERSONAS: Persona[] = ['anonymous', 'nonMember', 'invited', 'member', 'admin', 'owner', 'kicked'];

// Expected outcome of each (event, room kind, persona): `ok`, an error code, or `-` (not
// applicable: that persona has nothing to act on). Read across: who may do what.
const MATRIX = `
row                          | room    | anonymous    | nonMember | invited   | member    | admin     | owner     | kicked
room:join                    | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | FORBIDDEN
room:join                    | private | UNAUTHORIZED | FORBIDDEN | ok        | ok        | ok        | ok        | FORBIDDEN
room:leave                   | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
room:leave                   | private | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
room:invite                  | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:invite                  | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:kick a member           | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:kick a member           | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:kick an admin           | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | FORBIDDEN
room:kick an admin           | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | FORBIDDEN
room:kick the owner          | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN
room:kick the owner          | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN
room:set_role                | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | FORBIDDEN
room:set_role                | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | FORBIDDEN
room:members                 | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
room:members                 | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
room:list                    | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
room:list                    | private | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
message:history              | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
message:history              | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
message:send                 | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
message:send                 | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
message:send thread reply    | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
message:send thread reply    | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
thread:history               | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
thread:history               | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
message:read                 | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
message:read                 | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
message:react others'        | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
message:react others'        | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
message:edit others'         | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN
message:edit others'         | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN
message:edit own             | public  | -            | -         | -         | ok        | ok        | ok        | FORBIDDEN
message:edit own             | private | -            | -         | -         | ok        | ok        | ok        | FORBIDDEN
message:delete others'       | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
message:delete others'       | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
message:delete own           | public  | -            | -         | -         | ok        | ok        | ok        | FORBIDDEN
message:delete own           | private | -            | -         | -         | ok        | ok        | ok        | FORBIDDEN
typing:start                 | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
typing:start                 | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
presence:get a member        | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
presence:get a member        | private | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
user:update own profile      | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
user:update own profile      | private | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
user:search                  | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
user:search                  | private | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
dm:open the owner            | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | -         | ok
dm:open the owner            | private | UNAUTHORIZED | ok        | ok        | ok        | ok        | -         | ok
GET /rooms/:id               | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
GET /rooms/:id               | private | UNAUTHORIZED | FORBIDDEN | ok        | ok        | ok        | ok        | FORBIDDEN
GET /rooms/:id/messages      | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
GET /rooms/:id/messages      | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
POST /rooms/:id/messages     | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
POST /rooms/:id/messages     | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
GET /messages/:id/thread     | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
GET /messages/:id/thread     | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
GET /rooms                   | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
GET /rooms                   | private | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
GET /users/:id/presence      | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
GET /users/:id/presence      | private | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
PATCH /users/me              | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
PATCH /users/me              | private | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
GET /users?prefix            | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
GET /users?prefix            | private | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
user:block someone           | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
user:block someone           | private | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
user:list_blocks             | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
user:list_blocks             | private | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
user:unblock someone         | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
user:unblock someone         | private | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
PUT /users/me/blocks/:id     | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
PUT /users/me/blocks/:id     | private | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
GET /users/me/blocks         | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
GET /users/me/blocks         | private | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
DELETE /users/me/blocks/:id  | public  | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
DELETE /users/me/blocks/:id  | private | UNAUTHORIZED | ok        | ok        | ok        | ok        | ok        | ok
dm:open one who blocks you   | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN
dm:open one who blocks you   | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN
PUT /admin/.../suspension    | public  | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED
PUT /admin/.../suspension    | private | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED
POST /admin/.../purge        | public  | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED
POST /admin/.../purge        | private | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED | UNAUTHORIZED
room:mute a member           | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:mute a member           | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:mute an admin           | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | FORBIDDEN
room:mute an admin           | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | FORBIDDEN
room:unmute a member         | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:unmute a member         | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:ban a member            | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:ban a member            | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:ban the owner           | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN
room:ban the owner           | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN | FORBIDDEN
room:unban the kicked        | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:unban the kicked        | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:slow_mode               | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:slow_mode               | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:audit                   | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:audit                   | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:flags                   | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:flags                   | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
message:flag others'         | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
message:flag others'         | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
room:resolve_flag            | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
room:resolve_flag            | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
POST /rooms/:id/mutes        | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
POST /rooms/:id/mutes        | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
POST /rooms/:id/bans         | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
POST /rooms/:id/bans         | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
PUT /rooms/:id/slow-mode     | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
PUT /rooms/:id/slow-mode     | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
GET /rooms/:id/audit         | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
GET /rooms/:id/audit         | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
GET /rooms/:id/flags         | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
GET /rooms/:id/flags         | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | FORBIDDEN | ok        | ok        | FORBIDDEN
POST /messages/:id/flags     | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
POST /messages/:id/flags     | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
message:send attachments     | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
message:send attachments     | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
message:delivered            | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
message:delivered            | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
POST /rooms/:id/delivered    | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
POST /rooms/:id/delivered    | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
GET /rooms/:id/members       | public  | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
GET /rooms/:id/members       | private | UNAUTHORIZED | FORBIDDEN | FORBIDDEN | ok        | ok        | ok        | FORBIDDEN
`;

type Expected = 'ok' | ErrorCode | '-';

function parseMatrix(text: string): Map<string, Record<Kind, Record<Persona, Expected>>> {
  const lines = text.trim().split('\n').map((l) => l.split('|').map((c) => c.trim()));
  const header = lines[0].slice(2) as Persona[];
  expect(header).toEqual(PERSONAS);
  const rows = new Map<string, Record<Kind, Record<Persona, Expected>>>();
  for (const [row, kind, ...cells] of lines.slice(1)) {
    const entry = rows.get(row) ?? ({} as Record<Kind, Record<Persona, Expected>>);
    entry[kind as Kind] = Object.fromEntries(header.map((p, i) => [p, cells[i] as Expected])) as Record<Persona, Expected>;
    rows.set(row, entry);
  }
  return rows;
}
const EXPECTED = parseMatrix(MATRIX);

/** One room with every persona in place, and messages to act on. */
interface Fixture {
  kind: Kind;
  room: Room;
  /** Two messages by a plain member ("author"): others' messages for everyone but the author. */
  theirs: [Message, Message];
  own: Partial<Record<Persona, Message>>;
}

describe('authorization matrix', () => {
  let t: TestApp;
  const P = {} as Record<Exclude<Persona, 'anonymous'> | 'admin2' | 'author' | 'victim1' | 'victim2' | 'target' | 'blocker', Person>;

  beforeAll(async () => {
    // Operator routes on: no user's token, whatever its role in a room, reaches them.
    t = await startTestApp({ ...CHAT_ENV, OPERATOR_TOKEN: 'operator-token-0123456789abcdef' });
    const names = ['nonMember', 'invited', 'member', 'admin', 'owner', 'kicked', 'admin2', 'author', 'victim1', 'victim2', 'target', 'blocker'] as const;
    const people = await Promise.all(names.map(() => newPerson(t.url)));
    names.forEach((n, i) => (P[n] = people[i]));
    // User blocks: `blocker` blocks every persona, so none may open a DM with it.
    for (const p of PERSONAS) if (p !== 'anonymous') await ok(P.blocker.socket, 'user:block', { userId: P[p].id });
  });
  afterAll(async () => {
    closeClients();
    await t.close();
  });

  async function fixture(kind: Kind): Promise<Fixture> {
    const members = [P.admin, P.admin2, P.member, P.author, P.victim1, P.victim2, P.kicked].map((p) => p.id);
    const room = await ok<Room>(P.owner.socket, 'room:create', { type: kind, name: uniqueName('authz'), memberIds: members });
    const own: Fixture['own'] = {};
    const [, , theirs1, theirs2] = await Promise.all([
      ...[P.admin, P.admin2].map((p) => ok(P.owner.socket, 'room:set_role', { roomId: room.id, userId: p.id, role: 'admin' })),
      sendMessage(P.author.socket, room.id, 'theirs 1'),
      sendMessage(P.author.socket, room.id, 'theirs 2'),
      ...(['member', 'admin', 'owner', 'kicked'] as const).map(async (p) => {
        own[p] = await sendMessage(P[p].socket, room.id, `own of ${p}`);
      }),
      ok(P.owner.socket, 'room:invite', { roomId: room.id, userId: P.invited.id }),
    ]);
    // A thread under the author's first message (extension: threads).
    await ok(P.author.socket, 'message:send', { roomId: room.id, clientMsgId: cmid('thread'), text: 'a thread reply', threadOf: (theirs1 as Message).id });
    await ok(P.owner.socket, 'room:kick', { roomId: room.id, userId: P.kicked.id });
    // Open flags on both of the author's messages, for the moderation queue's rows.
    for (const m of [theirs1, theirs2] as Message[]) await ok(P.member.socket, 'message:flag', { messageId: m.id, reason: 'fixture' });
    return { kind, room, theirs: [theirs1 as Message, theirs2 as Message], own };
  }

  // Rows whose successes leave the room's documents as they are share one room per kind.
  const READ_ONLY = new Set([
    'room:kick the owner', 'room:members', 'room:list', 'message:history', "message:edit others'", 'typing:start',
    'presence:get a member', 'dm:open the owner', 'GET /rooms/:id', 'GET /rooms/:id/messages', 'GET /rooms', 'GET /users/:id/presence',
    // A profile lives on the user, not the room: only the caller's own user document changes.
    'user:update own profile', 'user:search', 'PATCH /users/me', 'GET /users?prefix',
    'thread:history', 'GET /messages/:id/thread',
    // Blocks live on the users, not on the room.
    'user:block someone', 'user:list_blocks', 'user:unblock someone', 'PUT /users/me/blocks/:id', 'GET /users/me/blocks', 'DELETE /users/me/blocks/:id',
    'dm:open one who blocks you',
    'PUT /admin/.../suspension', 'POST /admin/.../purge',
    // Moderation: reads, and an unmute of a member who is not muted changes nothing.
    'room:audit', 'room:flags', 'GET /rooms/:id/audit', 'GET /rooms/:id/flags', 'room:unmute a member', 'room:ban the owner',
    'GET /rooms/:id/members',
  ]);
  const shared = new Map<Kind, Promise<Fixture>>();
  const fixtureFor = (row: string, kind: Kind) => {
    if (!READ_ONLY.has(row)) return fixture(kind);
    if (!shared.has(kind)) shared.set(kind, fixture(kind));
    return shared.get(kind)!;
  };

  /** Everything stored about the room: a refusal must leave all of it as it was. */
  async function snapshot(roomId: string) {
    const db = t.app.deps.db;
    // Checkpoints of earlier accepted sends (and delivery receipts) land now, not between two snapshots.
    await t.app.chat.counters.settle();
    await t.app.chat.delivery.settle();
    const sorted = async (name: string, filter: Record<string, unknown>) =>
      (await db.collection(name).find(filter).toArray()).sort((a, b) => String(a._id).localeCompare(String(b._id)));
    return {
      room: await db.collection('rooms').findOne({ _id: roomId as any }),
      memberships: await sorted('memberships', { roomId }),
      access: await sorted('room_access', { roomId }),
      messages: await sorted('messages', { roomId }),
      threads: await sorted('threads', { roomId }),
      audit: await sorted('moderation_audit', { roomId }),
      flags: await sorted('moderation_flags', { roomId }),
      flagQueue: await db.collection('moderation_flag_queues').findOne({ _id: roomId as any }),
    };
  }

  const socketOutcome = async (p: Persona, event: string, payload: unknown): Promise<string> => {
    if (p === 'anonymous') return anonymousOutcome(event, payload);
    const ack = await request(P[p].socket, event, payload);
    if (ack.ok === true) return 'ok';
    return ack.error?.code ?? `malformed ack ${JSON.stringify(ack)}`;
  };
  /**
   * What an unauthenticated client reaches: its handshake is refused (the connect_error's code
   * is the outcome), and the request it then writes on the same connection, with an ack id,
   * must get no answer: the server closes the connection instead.
   */
  const anonymousOutcome = (event: string, payload: unknown): Promise<string> =>
    new Promise((resolve) => {
      // Raw Socket.IO packets on one engine.io connection: "0" connect, "4" connect_error,
      // "2<id>" an event with an ack id, "3<id>" its ack.
      const manager = new Manager(t.url, { transports: ['websocket'], reconnection: false, autoConnect: false });
      let refusedWith = '';
      let answered = '';
      const timer = setTimeout(() => finish(`no close within ${WAIT_MS} ms`), WAIT_MS);
      const finish = (outcome: string) => {
        clearTimeout(timer);
        manager.engine?.close();
        resolve(outcome);
      };
      manager.open((err) => {
        if (err) return finish(`engine refused: ${err.message}`);
        const engine = manager.engine;
        engine.on('message', (data: unknown) => {
          if (typeof data !== 'string') return;
          if (data.startsWith('0')) return finish('handshake accepted');
          if (data.startsWith('37')) answered = `answered ${data.slice(0, 100)}`;
          if (data.startsWith('4') && !refusedWith) {
            refusedWith = JSON.parse(data.slice(1))?.data?.code ?? `no code (${data.slice(0, 100)})`;
            engine.write(`27${JSON.stringify([event, payload])}`);
          }
        });
        engine.once('close', () => finish(answered || refusedWith || 'closed before refusing the handshake'));
        engine.write('0{}');
      });
    });

  const restOutcome = async (p: Persona, method: string, path: string, body?: unknown): Promise<string> => {
    const res = await api(t.url, method, path, { token: p === 'anonymous' ? null : P[p].token, body });
    if (res.status >= 200 && res.status < 300) return 'ok';
    return res.body?.error?.code ?? `status ${res.status}`;
  };

  const victimOf = (p: Persona) => (p === 'admin' ? P.victim2.id : P.victim1.id);

  /** Both victims are muted (by the owner and by the admin). */
  const victimsMuted = async (fx: Fixture) => {
    for (const v of [P.victim1, P.victim2]) {
      const m = await t.app.chat.repos.memberships.get(fx.room.id, v.id);
      expect(new Date(m!.mutedUntil!).getTime()).toBeGreaterThan(Date.now());
      expect((await request(v.socket, 'message:send', { roomId: fx.room.id, clientMsgId: cmid('muted'), text: 'muted' })).error?.code).toBe('FORBIDDEN');
    }
  };
  /** Both victims are out of the room and banned until a time to come. */
  const victimsBanned = async (fx: Fixture) => {
    for (const v of [P.victim1, P.victim2]) {
      expect(await t.app.chat.repos.memberships.get(fx.room.id, v.id)).toBeNull();
      const ban = await t.app.chat.repos.roomAccess.get(fx.room.id, v.id);
      expect(ban?.kind).toBe('banned');
      expect(new Date(ban!.until!).getTime()).toBeGreaterThan(Date.now());
    }
  };
  /** The flag on the author's first message gathers the fixture's report and one per persona that may flag. */
  const flaggedBy = async (fx: Fixture, okPersonas: Persona[]) => {
    const flag = await t.app.chat.repos.moderation.getFlag(fx.theirs[0].id);
    const expected = new Set([P.member.id, ...okPersonas.map((p) => P[p as Exclude<Persona, 'anonymous'>].id)]);
    expect(flag!.reports.map((r) => r.userId).sort()).toEqual([...expected].sort());
  };
  const slowModeSet = async (fx: Fixture) => {
    // The owner acted last (the table's order).
    expect((await t.app.chat.repos.rooms.findById(fx.room.id))?.slowModeSeconds).toBe(60);
  };

  /** How each row acts as a persona. */
  const ACT: Record<string, (fx: Fixture, p: Persona) => Promise<string>> = {
    'room:join': (fx, p) => socketOutcome(p, 'room:join', { roomId: fx.room.id }),
    'room:leave': (fx, p) => socketOutcome(p, 'room:leave', { roomId: fx.room.id }),
    'room:invite': (fx, p) => socketOutcome(p, 'room:invite', { roomId: fx.room.id, userId: P.target.id }),
    // The owner and the admin each kick their own victim, so both successes are visible.
    'room:kick a member': (fx, p) => socketOutcome(p, 'room:kick', { roomId: fx.room.id, userId: p === 'admin' ? P.victim2.id : P.victim1.id }),
    'room:kick an admin': (fx, p) => socketOutcome(p, 'room:kick', { roomId: fx.room.id, userId: P.admin2.id }),
    'room:kick the owner': (fx, p) => socketOutcome(p, 'room:kick', { roomId: fx.room.id, userId: P.owner.id }),
    'room:set_role': (fx, p) => socketOutcome(p, 'room:set_role', { roomId: fx.room.id, userId: P.victim1.id, role: 'admin' }),
    'room:members': (fx, p) => socketOutcome(p, 'room:members', { roomId: fx.room.id }),
    'room:list': (_fx, p) => socketOutcome(p, 'room:list', {}),
    'message:history': (fx, p) => socketOutcome(p, 'message:history', { roomId: fx.room.id }),
    'message:send': (fx, p) => socketOutcome(p, 'message:send', { roomId: fx.room.id, clientMsgId: cmid(p), text: `sent by ${p}` }),
    'message:read': (fx, p) => socketOutcome(p, 'message:read', { roomId: fx.room.id, seq: 1000 }),
    'message:send thread reply': (fx, p) => socketOutcome(p, 'message:send', { roomId: fx.room.id, clientMsgId: cmid(p), text: `thread reply by ${p}`, threadOf: fx.theirs[0].id }),
    'thread:history': (fx, p) => socketOutcome(p, 'thread:history', { messageId: fx.theirs[0].id }),
    'GET /messages/:id/thread': (fx, p) => restOutcome(p, 'GET', `/api/v1/messages/${encodeURIComponent(fx.theirs[0].id)}/thread`),
    "message:react others'": (fx, p) => socketOutcome(p, 'message:react', { messageId: fx.theirs[0].id, emoji: '👍', add: true }),
    "message:edit others'": (fx, p) => socketOutcome(p, 'message:edit', { messageId: fx.theirs[0].id, text: `edited by ${p}` }),
    'message:edit own': (fx, p) => socketOutcome(p, 'message:edit', { messageId: fx.own[p]!.id, text: `edited by ${p}` }),
    // The owner deletes the first, the admin the second: each success is its own.
    "message:delete others'": (fx, p) => socketOutcome(p, 'message:delete', { messageId: fx.theirs[p === 'admin' ? 1 : 0].id }),
    'message:delete own': (fx, p) => socketOutcome(p, 'message:delete', { messageId: fx.own[p]!.id }),
    'typing:start': (fx, p) => socketOutcome(p, 'typing:start', { roomId: fx.room.id }),
    'presence:get a member': (_fx, p) => socketOutcome(p, 'presence:get', { userIds: [P.member.id] }),
    'dm:open the owner': (_fx, p) => socketOutcome(p, 'dm:open', { userId: P.owner.id }),
    'GET /rooms/:id': (fx, p) => restOutcome(p, 'GET', `/api/v1/rooms/${fx.room.id}`),
    'GET /rooms/:id/messages': (fx, p) => restOutcome(p, 'GET', `/api/v1/rooms/${fx.room.id}/messages`),
    'POST /rooms/:id/messages': (fx, p) => restOutcome(p, 'POST', `/api/v1/rooms/${fx.room.id}/messages`, { clientMsgId: cmid(p), text: `posted by ${p}` }),
    'GET /rooms': (_fx, p) => restOutcome(p, 'GET', '/api/v1/rooms'),
    'GET /users/:id/presence': (_fx, p) => restOutcome(p, 'GET', `/api/v1/users/${P.member.id}/presence`),
    // The only profile anyone can change is its own: there is no target id to name.
    'user:update own profile': (fx, p) => socketOutcome(p, 'user:update', { statusText: `${fx.kind} socket ${p}` }),
    'PATCH /users/me': (fx, p) => restOutcome(p, 'PATCH', '/api/v1/users/me', { statusText: `${fx.kind} rest ${p}` }),
    'user:search': (_fx, p) => socketOutcome(p, 'user:search', { prefix: P.owner.username.slice(0, 3) }),
    'GET /users?prefix': (_fx, p) => restOutcome(p, 'GET', `/api/v1/users?prefix=${P.owner.username.slice(0, 3)}`),
    // User blocks: anyone signed in manages its own list; there is no one else's to name.
    'user:block someone': (_fx, p) => socketOutcome(p, 'user:block', { userId: P.target.id }),
    'user:list_blocks': (_fx, p) => socketOutcome(p, 'user:list_blocks', {}),
    'user:unblock someone': (_fx, p) => socketOutcome(p, 'user:unblock', { userId: P.target.id }),
    'PUT /users/me/blocks/:id': (_fx, p) => restOutcome(p, 'PUT', `/api/v1/users/me/blocks/${P.target.id}`),
    'GET /users/me/blocks': (_fx, p) => restOutcome(p, 'GET', '/api/v1/users/me/blocks'),
    'DELETE /users/me/blocks/:id': (_fx, p) => restOutcome(p, 'DELETE', `/api/v1/users/me/blocks/${P.target.id}`),
    'dm:open one who blocks you': (_fx, p) => socketOutcome(p, 'dm:open', { userId: P.blocker.id }),
    // Operator routes take the operator token only: a user may not suspend or purge anyone (the author's messages stay).
    'PUT /admin/.../suspension': (_fx, p) => restOutcome(p, 'PUT', `/api/v1/admin/users/${P.author.id}/suspension`),
    'POST /admin/.../purge': (_fx, p) => restOutcome(p, 'POST', `/api/v1/admin/users/${P.author.id}/messages/purge`),
    // Moderation (extension). The owner and the admin each act on their own victim, as with kicks.
    'room:mute a member': (fx, p) => socketOutcome(p, 'room:mute', { roomId: fx.room.id, userId: victimOf(p), durationSeconds: 600 }),
    'room:mute an admin': (fx, p) => socketOutcome(p, 'room:mute', { roomId: fx.room.id, userId: P.admin2.id, durationSeconds: 600 }),
    'room:unmute a member': (fx, p) => socketOutcome(p, 'room:unmute', { roomId: fx.room.id, userId: P.victim1.id }),
    'room:ban a member': (fx, p) => socketOutcome(p, 'room:ban', { roomId: fx.room.id, userId: victimOf(p), durationSeconds: 600 }),
    'room:ban the owner': (fx, p) => socketOutcome(p, 'room:ban', { roomId: fx.room.id, userId: P.owner.id }),
    'room:unban the kicked': (fx, p) => socketOutcome(p, 'room:unban', { roomId: fx.room.id, userId: P.kicked.id }),
    'room:slow_mode': (fx, p) => socketOutcome(p, 'room:slow_mode', { roomId: fx.room.id, seconds: p === 'admin' ? 30 : 60 }),
    'room:audit': (fx, p) => socketOutcome(p, 'room:audit', { roomId: fx.room.id }),
    'room:flags': (fx, p) => socketOutcome(p, 'room:flags', { roomId: fx.room.id }),
    "message:flag others'": (fx, p) => socketOutcome(p, 'message:flag', { messageId: fx.theirs[0].id, reason: `by ${p}` }),
    'room:resolve_flag': (fx, p) => socketOutcome(p, 'room:resolve_flag', { roomId: fx.room.id, messageId: fx.theirs[p === 'admin' ? 1 : 0].id, action: 'dismiss' }),
    'POST /rooms/:id/mutes': (fx, p) => restOutcome(p, 'POST', `/api/v1/rooms/${fx.room.id}/mutes`, { userId: victimOf(p), durationSeconds: 600 }),
    'POST /rooms/:id/bans': (fx, p) => restOutcome(p, 'POST', `/api/v1/rooms/${fx.room.id}/bans`, { userId: victimOf(p), durationSeconds: 600 }),
    'PUT /rooms/:id/slow-mode': (fx, p) => restOutcome(p, 'PUT', `/api/v1/rooms/${fx.room.id}/slow-mode`, { seconds: p === 'admin' ? 30 : 60 }),
    'GET /rooms/:id/audit': (fx, p) => restOutcome(p, 'GET', `/api/v1/rooms/${fx.room.id}/audit`),
    'GET /rooms/:id/flags': (fx, p) => restOutcome(p, 'GET', `/api/v1/rooms/${fx.room.id}/flags`),
    'POST /messages/:id/flags': (fx, p) => restOutcome(p, 'POST', `/api/v1/messages/${encodeURIComponent(fx.theirs[0].id)}/flags`, { reason: `by ${p}` }),
    // Extensions (attachments, delivery receipts).
    'message:send attachments': (fx, p) =>
      socketOutcome(p, 'message:send', { roomId: fx.room.id, clientMsgId: cmid(p), attachments: [{ type: 'file', url: `https://files.example.com/${p}.pdf`, mime: 'application/pdf', size: 1, name: `${p}.pdf` }] }),
    'message:delivered': (fx, p) => socketOutcome(p, 'message:delivered', { roomId: fx.room.id, seq: 1000 }),
    'POST /rooms/:id/delivered': (fx, p) => restOutcome(p, 'POST', `/api/v1/rooms/${fx.room.id}/delivered`, { seq: 1000 }),
    'GET /rooms/:id/members': (fx, p) => restOutcome(p, 'GET', `/api/v1/rooms/${fx.room.id}/members`),
  };

  /** The stored block list of each persona that succeeded names the target (or no longer does). */
  const blocksTarget = (expected: boolean) => async (_fx: Fixture, okPersonas: Persona[]) => {
    for (const p of okPersonas) {
      const { blocked } = await t.app.chat.repos.blocks.get(P[p as Exclude<Persona, 'anonymous'>].id);
      expect(blocked.includes(P.target.id), `${p} blocks the target`).toBe(expected);
    }
  };

  /** Each persona that may acknowledge delivery has its delivered position at the room's lastSeq (after the checkpoint). */
  const deliveredUpTo = async (fx: Fixture, okPersonas: Persona[]) => {
    await t.app.chat.delivery.settle();
    const room = await t.app.chat.repos.rooms.findById(fx.room.id);
    for (const p of okPersonas) expect((await t.app.chat.repos.memberships.get(fx.room.id, P[p as Exclude<Persona, 'anonymous'>].id))?.lastDeliveredSeq, p).toBe(room!.lastSeq);
  };

  /** Each persona's stored status line is the one it set itself, nobody else's. */
  const ownStatus = (via: string) => async (fx: Fixture, okPersonas: Persona[]) => {
    for (const p of okPersonas) {
      const user = await t.app.chat.repos.users.findById(P[p as Exclude<Persona, 'anonymous'>].id);
      expect(user?.statusText?.endsWith(`${via} ${p}`), `${p}'s status`).toBe(true);
    }
  };

  /** What the successful calls of a row must have done (refusals are covered by the snapshot). */
  const EFFECT: Record<string, (fx: Fixture, okPersonas: Persona[]) => Promise<void>> = {
    'user:block someone': blocksTarget(true),
    'user:unblock someone': blocksTarget(false),
    'PUT /users/me/blocks/:id': blocksTarget(true),
    'DELETE /users/me/blocks/:id': blocksTarget(false),
    // Refused: no direct room was created for any of them.
    'PUT /admin/.../suspension': async () => {
      expect(t.app.revocation.isSuspended(P.author.id)).toBe(false);
    },
    'dm:open one who blocks you': async () => {
      expect(await t.app.chat.userRooms.of(P.blocker.id)).toEqual([]);
    },
    'room:mute a member': victimsMuted,
    'POST /rooms/:id/mutes': victimsMuted,
    'room:mute an admin': async (fx) => {
      expect((await t.app.chat.repos.memberships.get(fx.room.id, P.admin2.id))?.mutedUntil).toBeTruthy();
    },
    'room:ban a member': victimsBanned,
    'POST /rooms/:id/bans': victimsBanned,
    'room:unban the kicked': async (fx) => {
      expect(await t.app.chat.repos.roomAccess.get(fx.room.id, P.kicked.id)).toBeNull();
    },
    'room:slow_mode': slowModeSet,
    'PUT /rooms/:id/slow-mode': slowModeSet,
    "message:flag others'": flaggedBy,
    'POST /messages/:id/flags': flaggedBy,
    'room:resolve_flag': async (fx) => {
      for (const m of fx.theirs) expect((await t.app.chat.repos.moderation.getFlag(m.id))?.status).toBe('resolved');
    },
    'message:delivered': deliveredUpTo,
    'POST /rooms/:id/delivered': deliveredUpTo,
    'message:send attachments': async (fx, okPersonas) => {
      const urls = (await t.app.chat.repos.messages.page(fx.room.id, { limit: 100 })).items.flatMap((m) => (m.attachments ?? []).map((a) => a.url));
      expect(urls.sort()).toEqual(okPersonas.map((p) => `https://files.example.com/${p}.pdf`).sort());
    },
    'user:update own profile': ownStatus('socket'),
    'PATCH /users/me': ownStatus('rest'),
    'room:join': async (fx) => {
      const joined = fx.kind === 'public' ? [P.nonMember, P.invited] : [P.invited];
      for (const p of joined) expect((await request(p.socket, 'message:history', { roomId: fx.room.id })).ok).toBe(true);
      if (fx.kind === 'private') expect((await request(P.nonMember.socket, 'message:history', { roomId: fx.room.id })).error?.code).toBe('FORBIDDEN');
    },
    'room:leave': async (fx) => {
      const left = await t.app.chat.repos.memberships.userIdsOf(fx.room.id);
      expect(left.sort()).toEqual([P.admin2, P.author, P.victim1, P.victim2].map((p) => p.id).sort());
      // The owner left: the oldest admin now owns the room.
      expect((await t.app.chat.repos.memberships.get(fx.room.id, P.admin2.id))?.role).toBe('owner');
    },
    'room:invite': async (fx) => {
      expect((await t.app.chat.repos.roomAccess.get(fx.room.id, P.target.id))?.kind).toBe('invited');
    },
    'room:kick a member': async (fx) => {
      for (const v of [P.victim1, P.victim2]) {
        expect(await t.app.chat.repos.memberships.get(fx.room.id, v.id)).toBeNull();
        expect((await request(v.socket, 'room:join', { roomId: fx.room.id })).error?.code).toBe('FORBIDDEN');
      }
    },
    'room:kick an admin': async (fx) => {
      expect(await t.app.chat.repos.memberships.get(fx.room.id, P.admin2.id)).toBeNull();
    },
    'room:set_role': async (fx) => {
      expect((await t.app.chat.repos.memberships.get(fx.room.id, P.victim1.id))?.role).toBe('admin');
    },
    'room:list': async (fx) => {
      for (const p of ['nonMember', 'invited', 'kicked', 'member', 'admin', 'owner'] as const) {
        const ids = (await ok(P[p].socket, 'room:list', { limit: 100 })).items.map((r: Room) => r.id);
        expect(ids.includes(fx.room.id), `${p} lists the room`).toBe(['member', 'admin', 'owner'].includes(p));
      }
    },
    'message:send': async (fx, okPersonas) => {
      const texts = (await t.app.chat.repos.messages.page(fx.room.id, { limit: 100 })).items.map((m) => m.text);
      expect(texts.filter((x) => x.startsWith('sent by ')).sort()).toEqual(okPersonas.map((p) => `sent by ${p}`).sort());
    },
    'message:send thread reply': async (fx, okPersonas) => {
      const replies = (await t.app.chat.repos.messages.page(fx.room.id, { limit: 100 })).items.filter((m) => m.text.startsWith('thread reply by '));
      expect(replies.map((m) => m.text).sort()).toEqual(okPersonas.map((p) => `thread reply by ${p}`).sort());
      expect(replies.every((m) => m.threadOf === fx.theirs[0].id)).toBe(true);
      // The fixture's reply and one per success, in the thread's index and the parent's summary.
      expect((await t.app.chat.repos.threads.get(fx.theirs[0].id))?.seqs).toHaveLength(okPersonas.length + 1);
      expect((await t.app.chat.repos.messages.findById(fx.theirs[0].id))?.thread?.replyCount).toBe(okPersonas.length + 1);
    },
    'POST /rooms/:id/messages': async (fx, okPersonas) => {
      const texts = (await t.app.chat.repos.messages.page(fx.room.id, { limit: 100 })).items.map((m) => m.text);
      expect(texts.filter((x) => x.startsWith('posted by ')).sort()).toEqual(okPersonas.map((p) => `posted by ${p}`).sort());
    },
    "message:react others'": async (fx, okPersonas) => {
      const m = await t.app.chat.repos.messages.findById(fx.theirs[0].id);
      expect([...(m!.reactions['👍'] ?? [])].sort()).toEqual(okPersonas.map((p) => P[p as Exclude<Persona, 'anonymous'>].id).sort());
    },
    'message:edit own': async (fx, okPersonas) => {
      for (const p of okPersonas) expect((await t.app.chat.repos.messages.findById(fx.own[p]!.id))?.text).toBe(`edited by ${p}`);
      expect((await t.app.chat.repos.messages.findById(fx.own.kicked!.id))?.text).toBe('own of kicked');
    },
    "message:delete others'": async (fx) => {
      for (const m of fx.theirs) expect((await t.app.chat.repos.messages.findById(m.id))?.deletedAt).not.toBeNull();
    },
    'message:delete own': async (fx, okPersonas) => {
      for (const p of okPersonas) expect((await t.app.chat.repos.messages.findById(fx.own[p]!.id))?.deletedAt).not.toBeNull();
      expect((await t.app.chat.repos.messages.findById(fx.own.kicked!.id))?.deletedAt).toBeNull();
    },
    'message:read': async (fx, okPersonas) => {
      const room = await t.app.chat.repos.rooms.findById(fx.room.id);
      for (const p of okPersonas) expect((await t.app.chat.repos.memberships.get(fx.room.id, P[p as Exclude<Persona, 'anonymous'>].id))?.lastReadSeq).toBe(room!.lastSeq);
    },
  };

  it('the matrix covers every client event and REST endpoint of the contract', () => {
    const socketEvents = new Set([...EXPECTED.keys()].filter((r) => !r.includes('/')).map((r) => r.split(' ')[0]));
    for (const e of ['room:join', 'room:leave', 'room:invite', 'room:kick', 'room:set_role', 'room:list', 'room:members', 'dm:open', 'message:send', 'message:edit', 'message:delete', 'message:react', 'message:history', 'message:read', 'presence:get', 'typing:start', 'user:update', 'user:search', 'thread:history', 'user:block', 'user:unblock', 'user:list_blocks', 'room:mute', 'room:unmute', 'room:ban', 'room:unban', 'room:slow_mode', 'room:audit', 'room:flags', 'room:resolve_flag', 'message:flag', 'message:delivered']) {
      expect(socketEvents.has(e), e).toBe(true);
    }
    expect(Object.keys(ACT).sort()).toEqual([...EXPECTED.keys()].sort());
  });

  for (const row of EXPECTED.keys()) {
    it(row, async () => {
      const mismatches: string[] = [];
      // The two room kinds use separate rooms: they run side by side.
      await Promise.all(
        (['public', 'private'] as const).map(async (kind) => {
          const expected = EXPECTED.get(row)![kind];
          const fx = await fixtureFor(row, kind);
          const before = await snapshot(fx.room.id);
          // Refusals first (at once: none may change anything): together they leave the room as it was.
          await Promise.all(
            PERSONAS.filter((x) => expected[x] !== 'ok' && expected[x] !== '-').map(async (p) => {
              const got = await ACT[row](fx, p);
              if (got !== expected[p]) mismatches.push(`${kind} / ${p}: expected ${expected[p]}, got ${got}`);
            }),
          );
          expect(await snapshot(fx.room.id), `${row} (${kind}): refusals changed stored state`).toEqual(before);
          // Successes one at a time, in the table's order (the owner leaves after the admin).
          const okPersonas = PERSONAS.filter((x) => expected[x] === 'ok');
          for (const p of okPersonas) {
            const got = await ACT[row](fx, p);
            if (got !== 'ok') mismatches.push(`${kind} / ${p}: expected ok, got ${got}`);
          }
          if (mismatches.length === 0) await EFFECT[row]?.(fx, okPersonas);
          if (READ_ONLY.has(row)) expect(await snapshot(fx.room.id), `${row} (${kind}): a read-only row changed the room`).toEqual(before);
        }),
      );
      expect(mismatches.sort()).toEqual([]);
    });
  }

  it('broadcasts of a room reach its members only: messages, edits, typing, read and delivery state, presence, profile updates', async () => {
    const fx = await fixture('private');
    // A member of this room only: its presence concerns the room's members and nobody else.
    const flapper = await newPerson(t.url);
    const watchers = (['nonMember', 'invited', 'member', 'admin', 'owner', 'kicked'] as const).map((p) => {
      const seen: string[] = [];
      const inRoom = (event: string) => (payload: { roomId?: string; userId?: string; id?: string }) => {
        if (payload.roomId === fx.room.id || (event === 'presence:updated' && payload.userId === flapper.id) || (event === 'user:updated' && payload.id === flapper.id)) seen.push(event);
      };
      for (const event of ['message:new', 'message:updated', 'typing', 'read:updated', 'delivery:updated', 'presence:updated', 'room:member_joined', 'user:updated']) P[p].socket.on(event, inRoom(event));
      return { p, seen };
    });
    await ok(P.owner.socket, 'room:invite', { roomId: fx.room.id, userId: flapper.id });
    await ok(flapper.socket, 'room:join', { roomId: fx.room.id });
    const m = await sendMessage(P.author.socket, fx.room.id, 'for members');
    await ok(P.author.socket, 'message:edit', { messageId: m.id, text: 'for members, edited' });
    await ok(P.author.socket, 'typing:start', { roomId: fx.room.id });
    await ok(P.member.socket, 'message:read', { roomId: fx.room.id, seq: m.seq });
    // Announced after the interval: the owner's copy says it went out (one emit to the room).
    const announced = waitFor(P.owner.socket, 'delivery:updated', (u: { roomId: string }) => u.roomId === fx.room.id);
    await ok(P.member.socket, 'message:delivered', { roomId: fx.room.id, seq: m.seq });
    await announced;
    await ok(flapper.socket, 'user:update', { displayName: 'Flapper' });
    const offline = collect(P.member.socket, 'presence:updated');
    flapper.socket.close();
    const deadline = Date.now() + 5000;
    while (!offline.some((x) => x.userId === flapper.id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // Everything above was emitted by now; each watcher's own round trip is behind it.
    await Promise.all(watchers.map(({ p }) => roundTrip(P[p].socket)));
    const everything = ['delivery:updated', 'message:new', 'message:updated', 'presence:updated', 'read:updated', 'room:member_joined', 'typing', 'user:updated'];
    for (const { p, seen } of watchers) {
      const kinds = [...new Set(seen)].sort();
      expect(kinds, `${p} received`).toEqual(['member', 'admin', 'owner'].includes(p) ? everything : []);
    }
    // presence:get still answers anyone, about anyone: presence is not a secret here.
    const asked = await ok(P.nonMember.socket, 'presence:get', { userIds: [flapper.id] });
    expect(asked.items[0]).toEqual(expect.objectContaining({ userId: flapper.id, status: 'offline' }));
  });
});
