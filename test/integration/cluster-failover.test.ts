// Nodes leaving the cluster under traffic: a SIGTERM rolling restart of every node
// (graceful drain) and a SIGKILL (presence reaped by the survivors). Clients
// reconnect to another node and recover from history; nothing acked may be lost
// and nothing may be seen twice.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collect, type Client } from '../helpers/clients';
import { closeClients, connectUser, createRoom, ok, registerUser, type Message, type TestUser } from '../helpers/chat';
import { ReconnectingClient, sleep, TestCluster, until, viewOf } from '../helpers/cluster';

const GRACE_MS = 1500;
const NODE_TTL_MS = 1500;

type Presence = { userId: string; status: 'online' | 'offline'; lastSeenAt: string | null };

describe('cluster: nodes leaving under traffic', () => {
  let cluster: TestCluster;
  const clients: ReconnectingClient[] = [];
  // A fresh cluster per test: neither depends on what the other left behind.
  beforeEach(async () => {
    cluster = await TestCluster.start({ nodes: 3, env: { SHUTDOWN_GRACE_MS: String(GRACE_MS), PRESENCE_NODE_TTL_MS: String(NODE_TTL_MS), PRESENCE_HEARTBEAT_MS: '300' } });
  });
  afterEach(async (ctx) => {
    for (const c of clients.splice(0)) c.close();
    closeClients();
    if (ctx.task.result?.state === 'fail') process.stderr.write(cluster.logs());
    await cluster?.close();
  });

  /** A reconnecting client for `u`, first connected to node `start`. */
  async function client(u: TestUser, start: number): Promise<ReconnectingClient> {
    const c = new ReconnectingClient(u.token, () => cluster.liveUrls(), { start });
    clients.push(c);
    await c.connect();
    return c;
  }

  /** Each sender sends one message after another (retrying across reconnects) until stopped. */
  function steadyStream(senders: ReconnectingClient[], roomId: string) {
    let running = true;
    const acked: Message[] = [];
    let retried = 0;
    let slowestMs = 0;
    const loops = senders.map(async (s, k) => {
      for (let i = 0; running; i++) {
        const started = Date.now();
        const { message, attempts } = await s.sendReliably(roomId, `s${k}-${i}`);
        slowestMs = Math.max(slowestMs, Date.now() - started);
        retried += attempts - 1;
        acked.push(message);
        await sleep(15);
      }
    });
    return {
      acked,
      stats: () => ({ acked: acked.length, retried, slowestMs }),
      async stop() {
        running = false;
        await Promise.all(loops);
      },
    };
  }

  /** Every client ends up holding exactly the acked messages, each once, and saw no duplicate or reordering on any socket. */
  async function expectExactlyOnce(receivers: ReconnectingClient[], roomId: string, acked: Message[]) {
    const expected = [...acked].sort((a, b) => a.seq - b.seq);
    expect(expected.map((m) => m.seq)).toEqual(expected.map((_, i) => i + 1));
    for (const [i, r] of receivers.entries()) {
      await until(() => r.highest(roomId) >= expected.length, 30_000, 'client to catch up').catch((err: Error) => {
        const held = new Set(viewOf(r, roomId).map((m) => m.seq));
        const missing = expected.filter((m) => !held.has(m.seq)).map((m) => m.seq);
        throw new Error(`${err.message}: receiver ${i} (${r.reconnects} reconnects) misses seqs ${missing.slice(0, 20).join(',')} of ${expected.length}`);
      });
      await r.recover(roomId);
      expect(viewOf(r, roomId).map((m) => m.id)).toEqual(expected.map((m) => m.id));
      expect(r.log.sameSocketDuplicates).toBe(0);
      expect(r.log.outOfOrder).toBe(0);
    }
  }

  it('a SIGTERM rolling restart of every node loses no acked message and delivers none twice', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => registerUser(cluster.urls[0])));
    const owner = await connectUser(cluster.urls[0], users[0]);
    const room = await createRoom(owner, { type: 'public', memberIds: users.slice(1).map((u) => u.id) });
    owner.close();
    // Three senders and three more readers, spread over the nodes.
    const all = await Promise.all(users.map((u, i) => client(u, i % 3)));
    for (const c of all) await c.follow(room.id);
    const stream = steadyStream(all.slice(0, 3), room.id);
    await until(() => stream.acked.length >= 10, 20_000, 'traffic');

    const exits: Array<{ code: number | null; ms: number }> = [];
    for (let i = 0; i < 3; i++) {
      const before = stream.acked.length;
      const started = Date.now();
      const code = await cluster.stop(i, 'SIGTERM');
      exits.push({ code, ms: Date.now() - started });
      await cluster.restart(i);
      // Traffic keeps flowing through the other nodes before the next one goes.
      await until(() => stream.acked.length >= before + 10, 30_000, 'traffic after a restart');
    }
    await stream.stop();
    process.stderr.write(`rolling restart: ${JSON.stringify({ ...stream.stats(), exits, reconnects: all.map((c) => c.reconnects) })}\n`);
    for (const e of exits) {
      expect(e.code).toBe(0);
      expect(e.ms).toBeLessThan(GRACE_MS + 3000);
    }
    for (const c of all) expect(c.reconnects).toBeGreaterThanOrEqual(1);
    await expectExactlyOnce(all, room.id, stream.acked);
    // The database holds nothing that was not acked.
    const history = viewOf(all[0], room.id);
    expect(history).toHaveLength(stream.acked.length);
  }, 90_000);

  it('after a SIGKILL its users turn offline within 30 s and its clients recover every message exactly once on another node', async () => {
    const victimNode = 2;
    const [victim, watcher, ...rest] = await Promise.all(Array.from({ length: 5 }, () => registerUser(cluster.urls[0])));
    const w1: Client = await connectUser(cluster.urls[0], watcher);
    const room = await createRoom(w1, { type: 'public', memberIds: [victim.id, ...rest.map((u) => u.id)] });
    const presence = collect<Presence>(w1, 'presence:updated');
    // The victim's only socket is on the node that dies.
    await connectUser(cluster.urls[victimNode], victim);
    await until(() => presence.some((p) => p.userId === victim.id && p.status === 'online'), 15_000, 'victim online');

    // Readers on every node (two on the victim node), senders on a survivor and on the victim node.
    const senders = [await client(rest[0], 0), await client(rest[1], victimNode)];
    const readers = [await client(rest[2], victimNode), await client(rest[0], 1), await client(rest[1], victimNode)];
    for (const c of [...senders, ...readers]) await c.follow(room.id);
    const stream = steadyStream(senders, room.id);
    await until(() => stream.acked.length >= 15, 20_000, 'traffic');

    const killedAt = Date.now();
    cluster.nodes[victimNode].kill('SIGKILL');
    await cluster.nodes[victimNode].exited;
    const offline = await until(() => presence.find((p) => p.userId === victim.id && p.status === 'offline'), 30_000, 'victim offline');
    const offlineAfterMs = Date.now() - killedAt;
    expect(offlineAfterMs).toBeLessThan(30_000);
    expect(offline.lastSeenAt).not.toBeNull();
    const seen = await ok(w1, 'presence:get', { userIds: [victim.id] });
    expect(seen.items[0]).toEqual({ userId: victim.id, status: 'offline', lastSeenAt: offline.lastSeenAt });

    const before = stream.acked.length;
    await until(() => stream.acked.length >= before + 15, 30_000, 'traffic after the kill');
    await stream.stop();
    process.stderr.write(`sigkill: ${JSON.stringify({ offlineAfterMs, ...stream.stats() })}\n`);
    for (const c of [senders[1], readers[0], readers[2]]) expect(c.reconnects).toBeGreaterThanOrEqual(1);
    await expectExactlyOnce([...senders, ...readers], room.id, stream.acked);
  }, 60_000);
});
