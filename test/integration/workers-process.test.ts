// The real workers process (`tsx workers/src/main.ts`) next to the real server: the
// issue's "done when" (an offline user's message → one signed notification within 5 s),
// a worker killed mid-delivery losing nothing, and a clear refusal without Redis.
import { afterEach, describe, expect, it } from 'vitest';
import { connectUser, createRoom, registerUser, sendMessage } from '../helpers/chat';
import { eventually, notificationIdSeen, queuesIdle, NOTIFY_SECRET, signatureValid, spawnWorkers, type Received, useWorkersStack } from '../helpers/workers';

describe('workers process', () => {
  let respond: (r: Received) => number | Promise<number> = () => 200;
  const s = useWorkersStack({ respond: (r) => respond(r), env: (url) => ({ NOTIFY_WEBHOOK_URL: url }), workers: false });
  afterEach(async () => {
    for (const p of s.procs.splice(0)) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      p.child.kill('SIGTERM');
      const force = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
      await p.exited;
      clearTimeout(force);
    }
  });

  async function offlineRecipient() {
    const [alice, bob] = await Promise.all([registerUser(s.t.url), registerUser(s.t.url)]);
    const socket = await connectUser(s.t.url, alice);
    const room = await createRoom(socket, { type: 'private', memberIds: [bob.id] });
    return { alice, bob, socket, room };
  }

  it('done when: a message to an offline user produces exactly one correctly signed notification within 5 s', async () => {
    s.procs.push(await spawnWorkers(s.env));
    const { bob, socket, room } = await offlineRecipient();
    const sentAt = Date.now();
    const message = await sendMessage(socket, room.id, 'ping from the e2e test');
    await eventually(() => s.receiver.delivered().some((x) => x.body?.data?.userId === bob.id), 5000, 'the notification');
    const r = s.receiver.delivered().find((x) => x.body?.data?.userId === bob.id)!;
    const latency = r.at - sentAt;
    process.stdout.write(`[workers] e2e send → signed delivery (real server + workers process): ${latency} ms\n`);
    await queuesIdle(s.env);
    expect(s.receiver.requests.filter((x) => x.body?.data?.userId === bob.id)).toHaveLength(1);
    expect(r.id).toBe(notificationIdSeen(s.receiver, message.id, bob.id));
    expect(r.body).toEqual({ id: r.id, type: 'notification.message', createdAt: expect.any(String), data: { userId: bob.id, reason: 'offline', message } });
    expect(signatureValid(NOTIFY_SECRET, r)).toBe(true);
    expect(latency).toBeLessThan(5000);
  });

  it('loses no notification when the worker process is killed mid-delivery', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The first attempt is held open until the worker that sent it is dead.
    respond = async (r) => {
      if (r.attempt === 1) {
        await held;
        return 200;
      }
      return 200;
    };
    try {
      const first = await spawnWorkers(s.env);
      s.procs.push(first);
      const { bob, socket, room } = await offlineRecipient();
      const message = await sendMessage(socket, room.id, 'survive the crash');
      const id = await eventually(() => (s.receiver.requests.some((x) => x.body?.data?.userId === bob.id) ? notificationIdSeen(s.receiver, message.id, bob.id) : null), 5000, 'the first attempt');
      first.child.kill('SIGKILL');
      await first.exited;
      s.procs.push(await spawnWorkers(s.env));
      await eventually(() => s.receiver.attemptsOf(id).some((x) => x.status === 200), 15000, 'redelivery by the new worker');
      await queuesIdle(s.env);
      const attempts = s.receiver.attemptsOf(id);
      expect(notificationIdSeen(s.receiver, message.id, bob.id)).toBe(id);
      // The killed attempt never got its answer; the new worker sent the same id once more.
      expect(attempts[0].status).toBe(0);
      expect(attempts.filter((x) => x.status === 200)).toHaveLength(1);
      expect(attempts.every((x) => x.body.id === id && signatureValid(NOTIFY_SECRET, x))).toBe(true);
    } finally {
      release();
      respond = () => 200;
    }
  });

  it('refuses to start without REDIS_URL, saying why', async () => {
    const p = await spawnWorkers({ ...s.env, REDIS_URL: undefined }, { waitReady: false });
    expect(await p.exited).toBe(1);
    expect(p.err()).toMatch(/^REDIS_URL not set/);
  });
});
