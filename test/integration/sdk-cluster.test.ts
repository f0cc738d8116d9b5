// The client SDK on a two-node cluster (real server processes, one Redis): nodes are
// SIGKILLed mid-conversation, one after the other, and every app callback still sees
// every message exactly once, in seq order, while each send is acked exactly once.
import crypto from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createChatClient, register, type ChatClient, type MessageDto } from '../../client/src';
import { sleep, TestCluster, until } from '../helpers/cluster';

describe('sdk: two-node cluster with nodes killed mid-conversation', () => {
  let cluster: TestCluster;
  const clients: ChatClient[] = [];
  beforeAll(async () => {
    cluster = await TestCluster.start({ nodes: 2 });
  });
  afterEach((ctx) => {
    for (const c of clients.splice(0)) c.close();
    if (ctx.task.result?.state === 'fail') process.stderr.write(cluster.logs());
  });
  afterAll(() => cluster?.close());

  /** A registered user whose SDK client tries the nodes in the given order. */
  async function person(urls: string[]) {
    const reg = await register(urls[0], { username: `u${crypto.randomBytes(5).toString('hex')}`, password: 'correct-horse-battery' });
    if (!reg.ok) throw new Error(reg.error.message);
    const client = createChatClient({ url: urls, token: reg.data.token, requestTimeoutMs: 3000, backoff: { baseMs: 100, maxMs: 1000 } });
    clients.push(client);
    const seen: MessageDto[] = [];
    client.on('message', (m) => seen.push(m));
    expect((await client.connect()).ok).toBe(true);
    return { client, seen, user: reg.data.user };
  }

  it('every callback sees 1..N once, in order; every send acked once', async () => {
    const [n1, n2] = cluster.urls;
    const alice = await person([n1, n2]);
    const bob = await person([n2, n1]);
    const room = await alice.client.createRoom('public', 'sdk cluster');
    if (!room.ok) throw new Error(room.error.message);
    const roomId = room.data.id;
    expect((await bob.client.joinRoom(roomId)).ok).toBe(true);
    await Promise.all([alice.client.follow(roomId), bob.client.follow(roomId)]);

    // A conversation: both send one message after another until told to stop.
    const acked: MessageDto[] = [];
    const failures: unknown[] = [];
    let running = true;
    const talk = async (who: typeof alice, tag: string) => {
      for (let i = 0; running; i++) {
        const r = await who.client.send(roomId, `${tag}${i}`);
        if (r.ok) acked.push(r.data);
        else failures.push(r.error);
        await sleep(20);
      }
    };
    const loops = [talk(alice, 'a'), talk(bob, 'b')];

    await until(() => acked.length >= 10, 20_000, '10 messages before the first kill');
    cluster.nodes[0].kill('SIGKILL'); // Alice's node
    await cluster.nodes[0].exited;
    await until(() => acked.length >= 25, 30_000, '25 messages with node 1 dead');
    await cluster.restart(0);
    await until(() => acked.length >= 35, 30_000, '35 messages after node 1 came back');
    cluster.nodes[1].kill('SIGKILL'); // Bob's node
    await cluster.nodes[1].exited;
    await until(() => acked.length >= 50, 30_000, '50 messages with node 2 dead');
    running = false;
    await Promise.all(loops);

    expect(failures).toEqual([]);
    const n = acked.length;
    const seqs = acked.map((m) => m.seq).sort((a, b) => a - b);
    const all = Array.from({ length: n }, (_, i) => i + 1);
    expect(seqs, 'each send stored exactly once').toEqual(all);
    const byId = new Map(acked.map((m) => [m.id, m]));
    for (const who of [alice, bob]) {
      await until(() => who.seen.length >= n, 20_000, `${who.user.username} to see all ${n}`);
      await sleep(200);
      expect(who.seen.map((m) => m.seq), 'exactly once, in order').toEqual(all);
      for (const m of who.seen) expect(byId.get(m.id)?.text).toBe(m.text);
    }
  });
});
