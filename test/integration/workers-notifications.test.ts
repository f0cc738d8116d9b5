// Notifications and event webhooks end to end through BullMQ: the real server (with
// Redis) enqueues, the workers (in this process) decide and deliver to a real receiver.
import { describe, expect, it } from 'vitest';
import { QUEUES } from '../../server/src/jobs/queues';
import { cmid, connectUser, createRoom, ok, registerUser, sendMessage, type Message, type TestUser } from '../helpers/chat';
import { EVENTS_SECRET, eventually, notificationIdSeen, queuesIdle, NOTIFY_SECRET, signatureValid, sleep, startTestWorkers, type Received, useWorkersStack } from '../helpers/workers';

/** The value of one sample of a Prometheus text exposition (labels in any order). */
function metricValue(text: string, name: string, labels: Record<string, string>): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return null;
}

describe('workers: notifications and event webhooks', () => {
  // Per-test answer policy; the default accepts everything.
  let respond: (r: Received) => number | Promise<number> = () => 200;
  const s = useWorkersStack({
    respond: (r) => respond(r),
    env: (url) => ({ NOTIFY_WEBHOOK_URL: `${url}/notify`, EVENTS_WEBHOOK_URL: `${url}/events`, WEBHOOK_BACKOFF_MS: '100', WEBHOOK_MAX_ATTEMPTS: '8' }),
  });

  const notifications = () => s.receiver.requests.filter((r) => r.path.endsWith('/notify'));
  const notificationsFor = (userId: string) => notifications().filter((r) => r.body?.data?.userId === userId);
  const deliveredTo = (userId: string) => notificationsFor(userId).filter((r) => r.status === 200);
  const events = (type: string) => s.receiver.requests.filter((r) => r.path.endsWith('/events') && r.body?.type === type);

  async function online(...users: TestUser[]): Promise<void> {
    await eventually(async () => (await s.t.app.chat.services.presence.onlineOf(users.map((u) => u.id))).size === users.length, 3000, 'users online');
  }

  it('notifies offline and mentioned members once, signed; never online unmentioned members or the sender', async () => {
    const [alice, bob, carol, dave] = await Promise.all([1, 2, 3, 4].map(() => registerUser(s.t.url)));
    const aliceSocket = await connectUser(s.t.url, alice);
    await connectUser(s.t.url, carol);
    await connectUser(s.t.url, dave);
    await online(alice, carol, dave);
    const room = await createRoom(aliceSocket, { type: 'private', memberIds: [bob.id, carol.id, dave.id] });

    const sentAt = Date.now();
    const message = await sendMessage(aliceSocket, room.id, `hello @${dave.username}, and @${alice.username} too`);
    await eventually(() => deliveredTo(bob.id).length === 1 && deliveredTo(dave.id).length === 1, 5000, 'two notifications');
    const latency = Math.max(...[...deliveredTo(bob.id), ...deliveredTo(dave.id)].map((r) => r.at)) - sentAt;
    await queuesIdle(s.env);

    expect(notificationsFor(bob.id)).toHaveLength(1);
    expect(notificationsFor(dave.id)).toHaveLength(1);
    expect(notificationsFor(carol.id)).toHaveLength(0);
    expect(notificationsFor(alice.id)).toHaveLength(0);
    // One id per (message, user): bob's and dave's differ.
    expect(notificationIdSeen(s.receiver, message.id, bob.id)).not.toBe(notificationIdSeen(s.receiver, message.id, dave.id));
    for (const [user, reason] of [[bob, 'offline'], [dave, 'mention']] as const) {
      const r = deliveredTo(user.id)[0];
      expect(r.id).toBe(notificationIdSeen(s.receiver, message.id, user.id));
      expect(r.body).toEqual({
        id: r.id,
        type: 'notification.message',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        data: { userId: user.id, reason, message },
      });
      expect(signatureValid(NOTIFY_SECRET, r)).toBe(true);
      expect(signatureValid(EVENTS_SECRET, r)).toBe(false);
      expect(Math.abs(Number(r.timestamp) - Date.now() / 1000)).toBeLessThan(10);
    }
    expect(latency).toBeLessThan(5000);
    process.stdout.write(`[workers] send → signed notification delivered: ${latency} ms\n`);

    const metrics = await (await fetch(`http://127.0.0.1:${s.w!.metricsPort}/metrics`)).text();
    expect(metricValue(metrics, 'chat_jobs_attempts_total', { queue: 'notifications', outcome: 'delivered' })).toBeGreaterThanOrEqual(2);
    expect(metricValue(metrics, 'chat_notification_delivery_seconds_count', { reason: 'offline' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, 'chat_webhook_request_seconds_count', { target: 'notify', outcome: '2xx' })).toBeGreaterThanOrEqual(2);
    expect(metricValue(metrics, 'chat_jobs_queue_depth', { queue: 'notifications', state: 'failed' })).toBe(0);
  });

  it('retries failed attempts with growing delays and the same id, then delivers exactly once', async () => {
    const [alice, bob] = await Promise.all([registerUser(s.t.url), registerUser(s.t.url)]);
    const aliceSocket = await connectUser(s.t.url, alice);
    const room = await createRoom(aliceSocket, { type: 'private', memberIds: [bob.id] });
    respond = (r) => (r.body?.data?.userId === bob.id && r.attempt <= 4 ? 503 : 200);
    try {
      const message = await sendMessage(aliceSocket, room.id, 'are you there?');
      await eventually(() => deliveredTo(bob.id).length === 1, 8000, 'the fifth attempt');
      await queuesIdle(s.env);
      const id = notificationIdSeen(s.receiver, message.id, bob.id);
      const attempts = s.receiver.attemptsOf(id);
      expect(attempts).toEqual(notificationsFor(bob.id));
      expect(attempts.map((a) => a.status)).toEqual([503, 503, 503, 503, 200]);
      expect(new Set(attempts.map((a) => a.body.id))).toEqual(new Set([id]));
      for (const a of attempts) expect(signatureValid(NOTIFY_SECRET, a)).toBe(true);
      // Backoff 100 ms base, equal jitter: gaps in [50,100], [100,200], [200,400], [400,800] (+ overhead).
      const gaps = attempts.slice(1).map((a, i) => a.at - attempts[i].at);
      process.stdout.write(`[workers] retry gaps: ${gaps.join(', ')} ms\n`);
      // Each gap is at least its documented minimum, which doubles: load only adds to a gap, so
      // comparing gaps with each other (a 547 ms first gap under load, then 426 ms) would flake.
      // That every delay is at least the previous one is exact in test/unit/workers-policy.
      gaps.forEach((g, i) => expect(g).toBeGreaterThanOrEqual(50 * 2 ** i - 5));
    } finally {
      respond = () => 200;
    }
  });

  it('delivers nothing to a user who came online and read before delivery', async () => {
    const [alice, erin, frank] = await Promise.all([1, 2, 3].map(() => registerUser(s.t.url)));
    const aliceSocket = await connectUser(s.t.url, alice);
    const room = await createRoom(aliceSocket, { type: 'private', memberIds: [erin.id, frank.id] });
    // No worker runs: the jobs wait in Redis while erin comes online and reads.
    await s.w!.close();
    const message = await sendMessage(aliceSocket, room.id, 'while you were away');
    const erinSocket = await connectUser(s.t.url, erin);
    await ok(erinSocket, 'message:read', { roomId: room.id, seq: message.seq });
    erinSocket.close();
    s.w = await startTestWorkers(s.t, s.env);
    await eventually(() => deliveredTo(frank.id).length === 1, 5000, "frank's notification");
    await queuesIdle(s.env);
    expect(notificationsFor(erin.id)).toHaveLength(0);

    // Same when she reads between a failed attempt and its retry.
    const gina = await registerUser(s.t.url);
    const room2 = await createRoom(aliceSocket, { type: 'private', memberIds: [gina.id] });
    respond = (r) => (r.body?.data?.userId === gina.id ? 503 : 200);
    try {
      const m2 = await sendMessage(aliceSocket, room2.id, 'second try');
      await eventually(() => notificationsFor(gina.id).length === 1, 5000, 'first attempt');
      const ginaSocket = await connectUser(s.t.url, gina);
      await ok(ginaSocket, 'message:read', { roomId: room2.id, seq: m2.seq });
      const job = await s.w!.queues.notifications.getJob(notificationIdSeen(s.receiver, m2.id, gina.id));
      expect(job?.data).toMatchObject({ messageId: m2.id, userId: gina.id });
      await eventually(async () => (await job!.getState()) === 'completed', 5000, 'the retry to complete');
      expect((await s.w!.queues.notifications.getJob(job!.id!))!.returnvalue).toBe('read');
      expect(notificationsFor(gina.id)).toHaveLength(1);
      expect(deliveredTo(gina.id)).toHaveLength(0);
    } finally {
      respond = () => 200;
    }
  });

  it('delivers once when the same notification job runs twice, concurrently or later', async () => {
    const [alice, hank] = await Promise.all([registerUser(s.t.url), registerUser(s.t.url)]);
    const aliceSocket = await connectUser(s.t.url, alice);
    const room = await createRoom(aliceSocket, { type: 'private', memberIds: [hank.id] });
    // Slow answers, so the duplicate runs while the first is still posting.
    respond = async (r) => {
      if (r.body?.data?.userId === hank.id) await sleep(300);
      return 200;
    };
    try {
      const clientMsgId = cmid();
      const message: Message = await ok(aliceSocket, 'message:send', { roomId: room.id, clientMsgId, text: 'once only' });
      // The first attempt is held 300 ms by the receiver: its id names the job.
      const id = await eventually(() => (notificationsFor(hank.id).length > 0 ? notificationIdSeen(s.receiver, message.id, hank.id) : null), 5000, 'the first attempt');
      const original = await eventually(() => s.w!.queues.notifications.getJob(id), 3000, 'the notification job');
      expect(original.data).toMatchObject({ messageId: message.id, userId: hank.id });
      // Two more runs of the same notification under other job ids, at the same time.
      await s.w!.queues.notifications.add(QUEUES.notifications, original.data, { jobId: `${id}-dup1` });
      await s.w!.queues.notifications.add(QUEUES.notifications, original.data, { jobId: `${id}-dup2` });
      // The sender retries the send: the event is enqueued again.
      await ok(aliceSocket, 'message:send', { roomId: room.id, clientMsgId, text: 'once only' });
      for (const jobId of [id, `${id}-dup1`, `${id}-dup2`]) {
        await eventually(async () => (await (await s.w!.queues.notifications.getJob(jobId))?.getState()) === 'completed', 8000, `${jobId} to complete`);
      }
      // And once more after everything completed.
      await s.w!.queues.notifications.add(QUEUES.notifications, original.data, { jobId: `${id}-dup3` });
      await eventually(async () => (await (await s.w!.queues.notifications.getJob(`${id}-dup3`))?.getState()) === 'completed', 5000, 'dup3');
      await queuesIdle(s.env);
      expect(s.receiver.attemptsOf(id)).toHaveLength(1);
      expect(deliveredTo(hank.id)).toHaveLength(1);
      const outcomes = await Promise.all(['-dup1', '-dup2', '-dup3'].map(async (suffix) => (await s.w!.queues.notifications.getJob(`${id}${suffix}`))!.returnvalue));
      expect(outcomes).toEqual(['duplicate', 'duplicate', 'duplicate']);

      // The fan-out of the message's event runs again (a re-run job): it adds no second
      // notification job for hank (docs/workers.md: derived ids, "a fan-out that runs twice adds
      // nothing new"), so nothing more is delivered.
      const events = await s.w!.queues['domain-events'].getJobs(['completed']);
      const created = events.find((j) => j.data.type === 'message.created' && j.data.data.message.id === message.id);
      expect(created).toBeDefined();
      await s.w!.queues['domain-events'].add(QUEUES.events, created!.data, { jobId: `${created!.id}-again` });
      await eventually(async () => (await (await s.w!.queues['domain-events'].getJob(`${created!.id}-again`))?.getState()) === 'completed', 5000, 'the fan-out to run again');
      const forHank = (await s.w!.queues.notifications.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).filter((j) => j.data.messageId === message.id && j.data.userId === hank.id);
      expect(forHank.map((j) => j.id).sort()).toEqual([id, `${id}-dup1`, `${id}-dup2`, `${id}-dup3`]);
      await queuesIdle(s.env);
      expect(deliveredTo(hank.id)).toHaveLength(1);
    } finally {
      respond = () => 200;
    }
  });

  it('sends signed integration events for created, updated, joined and left', async () => {
    const [alice, ivan] = await Promise.all([registerUser(s.t.url), registerUser(s.t.url)]);
    const aliceSocket = await connectUser(s.t.url, alice);
    const ivanSocket = await connectUser(s.t.url, ivan);
    const room = await createRoom(aliceSocket, { type: 'public' });
    await ok(ivanSocket, 'room:join', { roomId: room.id });
    const message = await sendMessage(aliceSocket, room.id, 'for the integrations');
    const edited: Message = await ok(aliceSocket, 'message:edit', { messageId: message.id, text: 'edited for the integrations' });
    await ok(ivanSocket, 'room:leave', { roomId: room.id });

    const find = (type: string, pred: (r: Received) => boolean) => events(type).filter(pred);
    await eventually(
      () =>
        find('message.created', (r) => r.body.data.message.id === message.id).length === 1 &&
        find('message.updated', (r) => r.body.data.message.id === message.id).length === 1 &&
        find('room.member_joined', (r) => r.body.data.roomId === room.id && r.body.data.userId === ivan.id).length === 1 &&
        find('room.member_left', (r) => r.body.data.roomId === room.id && r.body.data.userId === ivan.id).length === 1,
      5000,
      'four events',
    );
    const created = find('message.created', (r) => r.body.data.message.id === message.id)[0];
    expect(created.body).toEqual({ id: created.id, type: 'message.created', createdAt: message.createdAt, data: { message } });
    const updated = find('message.updated', (r) => r.body.data.message.id === message.id)[0];
    expect(updated.body.data.message).toEqual(edited);
    const left = find('room.member_left', (r) => r.body.data.roomId === room.id)[0];
    expect(left.body).toEqual({ id: left.id, type: 'room.member_left', createdAt: expect.any(String), data: { roomId: room.id, userId: ivan.id } });
    for (const r of [created, updated, left]) expect(signatureValid(EVENTS_SECRET, r)).toBe(true);
    // The creator's own join is an event too.
    expect(find('room.member_joined', (r) => r.body.data.roomId === room.id && r.body.data.userId === alice.id)).toHaveLength(1);
  });
});
