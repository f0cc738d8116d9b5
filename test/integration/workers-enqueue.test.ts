// The write path only enqueues: one Redis command per domain event (watched with
// MONITOR on this test's unique queue prefix), no HTTP call, and nothing at all when
// no webhook is configured.
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { closeClients, connectUser, createRoom, ok, registerUser, sendMessage } from '../helpers/chat';
import { until } from '../helpers/cluster';
import { dropPrefix, jobsEnv, startReceiver, uniquePrefix, type Receiver } from '../helpers/workers';

/** The queues of docs/workers.md (`jobs list-dead --queue …`). */
const QUEUE_NAMES = ['notifications', 'webhooks', 'domain-events', 'retention'];

/**
 * The names of the Redis commands clients send that touch the job keys under `prefix`,
 * from now until stop(). A raw MONITOR connection (one line per command, no client library
 * state to trip over).
 */
async function watchPrefix(prefix: string) {
  // Only the queues and the delivery ledger: the adapter and presence share the prefix in these tests.
  const jobKeys = [...QUEUE_NAMES.map((q) => `"${prefix}:${q}:`), `"${prefix}:delivered:`];
  const markerKey = `${prefix}:delivered:monitor-marker`;
  let markers = 0;
  const url = new URL(inject('redisUrl'));
  const socket = net.connect({ host: url.hostname, port: Number(url.port || 6379) });
  await once(socket, 'connect');
  const commands: string[] = [];
  let buffer = '';
  let ready: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (ready = resolve));
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      if (line === '+OK') ready();
      // +<time> [<db> <client address | lua>] "command" "arg" ...; a script's own calls come as "lua": not round trips.
      const m = /^\+\S+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
      if (line.includes(markerKey)) markers += 1;
      else if (m && m[1] !== 'lua' && jobKeys.some((k) => line.includes(k))) commands.push(m[2].toLowerCase());
    }
  });
  socket.write(url.password ? `AUTH ${decodeURIComponent(url.password)}\r\nMONITOR\r\n` : 'MONITOR\r\n');
  await started;
  return {
    commands,
    /**
     * Resolves once Redis has executed everything sent to it before now: MONITOR lists
     * commands in execution order, so a marker command seen means all earlier ones are in.
     */
    async barrier() {
      const want = markers + 1;
      const client = net.connect({ host: url.hostname, port: Number(url.port || 6379) });
      await once(client, 'connect');
      client.write(`${url.password ? `AUTH ${decodeURIComponent(url.password)}\r\n` : ''}EXISTS ${markerKey}\r\n`);
      await until(() => markers >= want, 20_000, 'the MONITOR marker');
      client.destroy();
    },
    async stop() {
      socket.destroy();
    },
  };
}

async function metricSum(app: TestApp, name: string): Promise<number> {
  const m = app.app.deps.metrics.registry.getSingleMetric(name);
  return m ? (await m.get()).values.reduce((n, v) => n + v.value, 0) : 0;
}

describe('the send path only enqueues', () => {
  let receiver: Receiver;
  const prefixes: string[] = [];
  let t: TestApp;

  beforeAll(async () => {
    receiver = await startReceiver();
    prefixes.push(uniquePrefix());
    // Both kinds on, and no workers: whatever reaches Redis or the receiver is the server's doing.
    t = await startTestApp(jobsEnv(prefixes[0], { NOTIFY_WEBHOOK_URL: receiver.url, EVENTS_WEBHOOK_URL: receiver.url }));
  });
  afterAll(async () => {
    closeClients();
    await t?.close();
    await receiver?.close();
    for (const p of prefixes) await dropPrefix(p);
  });

  const enqueued = () => metricSum(t, 'chat_jobs_enqueued_total');

  it('takes one Redis command per event and makes no HTTP call', async () => {
    const [alice, bob] = await Promise.all([registerUser(t.url), registerUser(t.url)]);
    const socket = await connectUser(t.url, alice);
    const room = await createRoom(socket, { type: 'public' });
    await sendMessage(socket, room.id, 'warm-up');
    await until(async () => (await enqueued()) >= 1, 20_000, 'the warm-up enqueued');

    const watch = await watchPrefix(prefixes[0]);
    try {
      const before = await enqueued();
      const message = await sendMessage(socket, room.id, `hello @${bob.username}`);
      // The producer counts an event once its add is done; then everything it sent is in MONITOR.
      await until(async () => (await enqueued()) >= before + 1, 20_000, 'message.created enqueued');
      await watch.barrier();
      expect(watch.commands).toEqual(['evalsha']);

      await ok(socket, 'message:edit', { messageId: message.id, text: 'edited' });
      const bobSocket = await connectUser(t.url, bob);
      await ok(bobSocket, 'room:join', { roomId: room.id });
      await until(async () => (await enqueued()) >= before + 3, 20_000, 'message.updated and room.member_joined enqueued');
      await watch.barrier();
      expect(watch.commands).toEqual(['evalsha', 'evalsha', 'evalsha']);
      expect(await enqueued()).toBe(before + 3);
    } finally {
      await watch.stop();
    }
    expect(receiver.requests).toHaveLength(0);
  });

  it('enqueues nothing when neither webhook is configured', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const quiet = await startTestApp(jobsEnv(prefix));
    try {
      const alice = await registerUser(quiet.url);
      const socket = await connectUser(quiet.url, alice);
      const watch = await watchPrefix(prefix);
      try {
        const room = await createRoom(socket, { type: 'public' });
        await sendMessage(socket, room.id, 'into the void');
        await watch.barrier();
        expect(watch.commands).toEqual([]);
        expect(await metricSum(quiet, 'chat_jobs_enqueued_total')).toBe(0);
      } finally {
        await watch.stop();
      }
    } finally {
      await quiet.close();
    }
  });
});
