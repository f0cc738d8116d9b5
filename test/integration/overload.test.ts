// Admission control (overload/admission.ts): with tiny bounds, a burst is refused at once with
// UNAVAILABLE and details.retryAfterMs, nothing of a refused send is stored, and a retry with
// the same clientMsgId later succeeds exactly once; a request past its budget never reaches the
// database; REST answers 503 with Retry-After; /readyz is 503 while shedding and 200 after.
import { afterEach, describe, expect, it } from 'vitest';
import { request, waitFor } from '../helpers/clients';
import { api, cmid, connectUser, createRoom, expectAckError, expectHttpError, history, ok, pageAfter, registerUser, sendMessage, sleep, type Message } from '../helpers/chat';
import { useChatApp } from '../helpers/chat-app';
import { useNodes } from '../helpers/nodes';

type Repos = { messages: Record<string, (...args: any[]) => Promise<any>> };

/** Makes every insert of the app's messages repository wait `ms` first; returns the undo. */
function slowInserts(repos: Repos, ms: number): () => void {
  const original = repos.messages.insertNext;
  repos.messages.insertNext = async (...args: any[]) => {
    await sleep(ms);
    return original(...args);
  };
  return () => {
    repos.messages.insertNext = original;
  };
}

async function metric(url: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('overload: admission with tiny bounds', () => {
  const t = useChatApp({ MAX_QUEUED_SENDS_PER_ROOM: '2', MAX_PENDING_ACKS_PER_SOCKET: '3', MAX_QUEUED_SENDS_PER_SENDER: '4', REQUEST_BUDGET_MS: '1500' });
  let undo: (() => void) | null = null;
  afterEach(() => {
    undo?.();
    undo = null;
  });
  const repos = () => t.app.chat.repos as unknown as Repos;

  it('a burst over the room bound is refused at once with retryAfterMs; refused sends store nothing; retries succeed exactly once', async () => {
    const people = await Promise.all(Array.from({ length: 6 }, () => t.person()));
    const room = await createRoom(people[0].socket, { type: 'public' });
    for (const p of people.slice(1)) await ok(p.socket, 'room:join', { roomId: room.id });
    undo = slowInserts(repos(), 150);
    const sends = people.flatMap((p, i) => [0, 1].map((j) => ({ p, clientMsgId: cmid(`burst${i}-${j}`), text: `m${i}-${j}` })));
    const started = Date.now();
    const acks = await Promise.all(sends.map((s) => request<Message>(s.p.socket, 'message:send', { roomId: room.id, clientMsgId: s.clientMsgId, text: s.text })));
    const refused = acks.filter((a) => !a.ok);
    expect(refused.length).toBeGreaterThanOrEqual(sends.length - 2 - 2);
    for (const a of refused) {
      const e = expectAckError(a, 'UNAVAILABLE');
      expect(e.details).toMatchObject({ retryAfterMs: expect.any(Number), reason: 'room-sends' });
      expect(e.details.retryAfterMs).toBeGreaterThan(0);
    }
    const accepted = acks.filter((a) => a.ok).map((a) => a.data!.clientMsgId);
    undo();
    undo = null;
    // Only the accepted sends are stored.
    const stored = await pageAfter(people[0].socket, room.id);
    expect(stored.map((m) => m.clientMsgId).sort()).toEqual([...accepted].sort());
    // Refused ones retried (same clientMsgId, one at a time as a client backing off would): each stored once.
    for (const [i, s] of sends.entries()) {
      if (acks[i].ok) continue;
      const m = await sendMessage(s.p.socket, room.id, s.text, { clientMsgId: s.clientMsgId });
      expect(m.clientMsgId).toBe(s.clientMsgId);
    }
    // And a retry of an accepted one returns the stored message, not a second one.
    const again = await sendMessage(people[0].socket, room.id, sends[0].text, { clientMsgId: sends[0].clientMsgId });
    const all = await pageAfter(people[0].socket, room.id);
    expect(all).toHaveLength(sends.length);
    expect(new Set(all.map((m) => m.clientMsgId)).size).toBe(sends.length);
    expect(all.map((m) => m.seq)).toEqual(all.map((_, i) => i + 1));
    expect(all.find((m) => m.clientMsgId === sends[0].clientMsgId)!.seq).toBe(again.seq);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('a socket with too many requests waiting is RATE_LIMITED (limit "pending") with retryAfterMs', async () => {
    const a = await t.person();
    const rooms = [];
    for (let i = 0; i < 5; i++) rooms.push(await createRoom(a.socket, { type: 'public' }));
    undo = slowInserts(repos(), 300);
    const acks = await Promise.all(rooms.map((r) => request<Message>(a.socket, 'message:send', { roomId: r.id, clientMsgId: cmid(), text: 'x' })));
    const limited = acks.filter((x) => !x.ok);
    expect(limited.length).toBe(2);
    for (const x of limited) expect(expectAckError(x, 'RATE_LIMITED').details).toMatchObject({ retryAfterMs: expect.any(Number), limit: 'pending' });
  });

  it("one user's sends queued on the node are bounded across its sockets: past the bound RATE_LIMITED (reason sender-sends); a burst up to it passes", async () => {
    const a = await t.person();
    const second = await connectUser(t.url, a);
    const rooms = [];
    for (let i = 0; i < 6; i++) rooms.push(await createRoom(a.socket, { type: 'public' }));
    undo = slowInserts(repos(), 300);
    // 3 sends per socket (each socket's own bound), 6 of one user: 4 pass, 2 are that user's backlog.
    const acks = await Promise.all(rooms.map((r, i) => request<Message>(i % 2 ? second : a.socket, 'message:send', { roomId: r.id, clientMsgId: cmid(), text: `s${i}` })));
    const limited = acks.filter((x) => !x.ok);
    expect(acks.filter((x) => x.ok)).toHaveLength(4);
    expect(limited).toHaveLength(2);
    for (const x of limited) expect(expectAckError(x, 'RATE_LIMITED').details).toMatchObject({ retryAfterMs: expect.any(Number), limit: 'pending', reason: 'sender-sends' });
    // Another user is not held up by this one's backlog.
    const b = await t.person();
    const own = await createRoom(b.socket, { type: 'public' });
    expect((await request<Message>(b.socket, 'message:send', { roomId: own.id, clientMsgId: cmid(), text: 'b' })).ok).toBe(true);
  });

  it('a send whose budget ran out before its turn never reaches the database and stores nothing', async () => {
    const a = await t.person();
    const room = await createRoom(a.socket, { type: 'public' });
    const parent = await sendMessage(a.socket, room.id, 'parent');
    // The replyTo lookup (before the room's turn) takes longer than the whole budget.
    const findById = repos().messages.findById;
    repos().messages.findById = async (...args: any[]) => {
      await sleep(1800);
      return findById(...args);
    };
    undo = () => {
      repos().messages.findById = findById;
    };
    const insertsBefore = await metric(t.url, 'chat_db_commands_total', 'command="insert"');
    const deadlineBefore = await metric(t.url, 'chat_shed_requests_total', 'reason="deadline"');
    const late = await request(a.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'too late', replyTo: parent.id });
    expect(expectAckError(late, 'UNAVAILABLE').details).toMatchObject({ reason: 'deadline', retryAfterMs: expect.any(Number) });
    expect(await metric(t.url, 'chat_db_commands_total', 'command="insert"')).toBe(insertsBefore);
    expect(await metric(t.url, 'chat_shed_requests_total', 'reason="deadline"')).toBe(deadlineBefore + 1);
    undo();
    undo = null;
    expect((await history(a.socket, room.id)).items.map((m) => m.text)).toEqual(['parent']);
  });

  it('a retry of a stored send is answered from its `_id`: no insert, no query on idemKey (a scan on the embedded database)', async () => {
    const a = await t.person();
    const room = await createRoom(a.socket, { type: 'public' });
    const clientMsgId = cmid();
    const first = await sendMessage(a.socket, room.id, 'once', { clientMsgId });
    const insertsBefore = await metric(t.url, 'chat_db_commands_total', 'command="insert"');
    const again = await sendMessage(a.socket, room.id, 'once', { clientMsgId });
    expect(again).toMatchObject({ id: first.id, seq: first.seq });
    // Before, the retry's insert failed on the idempotency key and was followed by a query on it.
    expect(await metric(t.url, 'chat_db_commands_total', 'command="insert"')).toBe(insertsBefore);
    expect((await history(a.socket, room.id)).items.map((m) => m.id)).toEqual([first.id]);
  });

  it('a history page whose budget ran out stops before its lookups: no database command after the deadline', async () => {
    const a = await t.person();
    const room = await createRoom(a.socket, { type: 'public' });
    for (let i = 0; i < 20; i++) await sendMessage(a.socket, room.id, `m${i}`);
    // The page is asked for after its reader was held past the whole budget (1.5 s).
    const messages = repos().messages;
    const originals = { page: messages.page, pageByPoints: messages.pageByPoints };
    let findsAtDeadline = -1;
    for (const name of ['page', 'pageByPoints'] as const) {
      messages[name] = async (...args: any[]) => {
        await sleep(1800);
        findsAtDeadline = await metric(t.url, 'chat_db_commands_total', 'command="find"');
        return originals[name](...args);
      };
    }
    undo = () => Object.assign(messages, originals);
    const late = await request(a.socket, 'message:history', { roomId: room.id, afterSeq: 0, limit: 100 });
    expect(expectAckError(late, 'UNAVAILABLE').details).toMatchObject({ reason: 'deadline', retryAfterMs: expect.any(Number) });
    expect(findsAtDeadline).toBeGreaterThan(0);
    expect(await metric(t.url, 'chat_db_commands_total', 'command="find"')).toBe(findsAtDeadline);
    undo();
    undo = null;
    expect((await request(a.socket, 'message:history', { roomId: room.id, afterSeq: 0, limit: 100 })).data.items).toHaveLength(20);
  });

  it('REST: a post over the bound is 503 UNAVAILABLE with retryAfterMs and a Retry-After header', async () => {
    const a = await t.person();
    const room = await createRoom(a.socket, { type: 'public' });
    undo = slowInserts(repos(), 300);
    const replies = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) => api(t.url, 'POST', `/api/v1/rooms/${room.id}/messages`, { token: a.token, body: { clientMsgId: cmid(), text: `rest${i}` } })),
    );
    const refusedReplies = replies.filter((r) => r.status !== 201);
    expect(refusedReplies.length).toBeGreaterThanOrEqual(4);
    for (const r of refusedReplies) {
      const e = expectHttpError(r, 'UNAVAILABLE', 503);
      expect(e.details).toMatchObject({ retryAfterMs: expect.any(Number), reason: 'room-sends' });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
  });

  it('/readyz is 503 (load: shedding) while the node sheds hard, 200 once it recovers; metrics show it', async () => {
    const people = await Promise.all(Array.from({ length: 4 }, () => t.person()));
    const room = await createRoom(people[0].socket, { type: 'public' });
    for (const p of people.slice(1)) await ok(p.socket, 'room:join', { roomId: room.id });
    undo = slowInserts(repos(), 400);
    const burst = Promise.all(
      people.flatMap((p) => [0, 1, 2].map(() => request(p.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'x' }))),
    );
    // More refusals than admitted requests within the readiness window.
    for (let i = 0; i < 4; i++) {
      await Promise.all(people.map((p) => request(p.socket, 'message:send', { roomId: room.id, clientMsgId: cmid(), text: 'y' })));
    }
    const shedding = await fetch(`${t.url}/readyz`);
    expect(shedding.status).toBe(503);
    expect(await shedding.json()).toMatchObject({ status: 'unavailable', load: 'shedding', checks: { mongodb: 'ok' } });
    expect(await metric(t.url, 'chat_admission_shedding')).toBe(0 + 1);
    await burst;
    undo();
    undo = null;
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline && (status = (await fetch(`${t.url}/readyz`)).status) !== 200) await sleep(200);
    expect(status).toBe(200);
    const text = await (await fetch(`${t.url}/metrics`)).text();
    for (const name of ['chat_shed_requests_total{', 'chat_admission_queue_depth{', 'chat_event_loop_delay_seconds{', 'chat_db_command_seconds_bucket{', 'chat_db_pool_wait_seconds_bucket{']) {
      expect(text).toContain(name);
    }
    // The standing-queue target: a number of seconds (0 until the node knows its usual median).
    expect(text).toMatch(/^chat_admission_send_target_seconds(\{[^}]*\})? \d/m);
    expect(await metric(t.url, 'chat_shed_requests_total', 'reason="room-sends"')).toBeGreaterThan(0);
  });
});

describe('overload: retries that land on another node', () => {
  const nodes = useNodes(2);

  it("a retry on another node of a send stored on the first is answered from its `_id`: no insert, so no query on idemKey (a scan that held up the embedded database after a node was killed)", async () => {
    const a = await registerUser(nodes[0].url);
    const b = await registerUser(nodes[1].url);
    const a0 = await connectUser(nodes[0].url, a);
    const a1 = await connectUser(nodes[1].url, a);
    const b1 = await connectUser(nodes[1].url, b);
    const room = await createRoom(a0, { type: 'public', memberIds: [b.id] });
    const clientMsgId = cmid();
    // Node 1 has announced the message to its sockets once b sees it: it has heard of it from node 0.
    const seen = waitFor<Message>(b1, 'message:new', (m) => m.roomId === room.id);
    const first = await sendMessage(a0, room.id, 'stored on node 0', { clientMsgId });
    await seen;
    const insertsBefore = await metric(nodes[1].url, 'chat_db_commands_total', 'command="insert"');
    // The sender's client reconnected to node 1 (its first node died, say) and retries there.
    const again = await sendMessage(a1, room.id, 'stored on node 0', { clientMsgId });
    expect(again).toMatchObject({ id: first.id, seq: first.seq });
    expect(await metric(nodes[1].url, 'chat_db_commands_total', 'command="insert"')).toBe(insertsBefore);
    expect((await history(a1, room.id)).items.map((m) => m.id)).toEqual([first.id]);
  });
});
