// Zero-config mode (no REDIS_URL): the server runs the same handlers in-process with the
// same retry policy: notifications, retries, dead letters (counted in /metrics) and retention.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { closeClients, connectUser, createRoom, history, registerUser, seedMessages, sendMessage } from '../helpers/chat';
import { backdate, eventually, inProcessJobsIdle, notificationIdSeen, NOTIFY_SECRET, signatureValid, startReceiver, type Receiver, type Received } from '../helpers/workers';

describe('zero-config mode: jobs in-process', () => {
  let receiver: Receiver;
  let respond: (r: Received) => number = () => 200;
  let t: TestApp;

  beforeAll(async () => {
    receiver = await startReceiver({ respond: (r) => respond(r) });
    t = await startTestApp({
      NOTIFY_WEBHOOK_URL: receiver.url,
      NOTIFY_WEBHOOK_SECRET: NOTIFY_SECRET,
      WEBHOOK_BACKOFF_MS: '50',
      WEBHOOK_MAX_ATTEMPTS: '3',
      RETENTION_SWEEP_MS: '1000',
      PRESENCE_GRACE_MS: '100',
    });
  });
  afterAll(async () => {
    closeClients();
    await t?.close();
    await receiver?.close();
  });

  const to = (userId: string) => receiver.requests.filter((r) => r.body?.data?.userId === userId);

  it('notifies offline members once, signed, retrying failures; dead-letters after the last attempt', async () => {
    const [alice, bob, carol, dave] = await Promise.all([1, 2, 3, 4].map(() => registerUser(t.url)));
    const socket = await connectUser(t.url, alice);
    await connectUser(t.url, carol);
    await eventually(async () => (await t.app.chat.services.presence.onlineOf([carol.id])).size === 1, 3000, 'carol online');
    const room = await createRoom(socket, { type: 'private', memberIds: [bob.id, carol.id, dave.id] });
    respond = (r) => (r.body?.data?.userId === bob.id && r.attempt <= 2 ? 500 : r.body?.data?.userId === dave.id ? 500 : 200);
    const message = await sendMessage(socket, room.id, 'zero config');

    await eventually(() => to(bob.id).some((r) => r.status === 200) && to(dave.id).length === 3, 5000, 'deliveries');
    await inProcessJobsIdle(t.url);
    expect(to(bob.id).map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(to(bob.id).map((r) => r.id))).toEqual(new Set([notificationIdSeen(receiver, message.id, bob.id)]));
    expect(notificationIdSeen(receiver, message.id, dave.id)).not.toBe(notificationIdSeen(receiver, message.id, bob.id));
    expect(to(bob.id).every((r) => signatureValid(NOTIFY_SECRET, r))).toBe(true);
    expect(to(carol.id)).toHaveLength(0);
    expect(to(dave.id).map((r) => r.status)).toEqual([500, 500, 500]);

    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/chat_jobs_dead_letters_total\{[^}]*queue="notifications"[^}]*\} 1\n/);
    expect(metrics).toMatch(/chat_jobs_queue_depth\{[^}]*queue="notifications",state="failed"[^}]*\} 1\n/);
  });

  it('sweeps retention in-process', async () => {
    const alice = await registerUser(t.url);
    const socket = await connectUser(t.url, alice);
    const room = await createRoom(socket, { type: 'public' });
    await seedMessages(socket, room.id, 4);
    await backdate(t, room.id, 3, 2);
    await t.app.chat.repos.rooms.setRetention(room.id, 1);
    await eventually(async () => (await history(socket, room.id)).items.length === 1, 5000, 'the sweep');
    expect((await history(socket, room.id)).items.map((m) => m.seq)).toEqual([4]);
  });
});
