// What the workers do when things go wrong (docs/workers.md "Guarantees" and "Dead letters"):
// event-webhook deliveries are retried under one id and dead-lettered after the last attempt;
// `jobs retry-dead --all [--queue]` and `jobs stats` see and re-drive them; a job whose worker
// keeps dying is dead-lettered rather than looping; SIGTERM lets in-flight jobs finish and exits 0.
import { describe, expect, it } from 'vitest';
import { connectUser, createRoom, registerUser, sendMessage } from '../helpers/chat';
import { EVENTS_SECRET, eventually, notificationIdSeen, queuesIdle, NOTIFY_SECRET, signatureValid, sleep, spawnWorkers, startTestWorkers, type Received, useWorkersStack, jobsCommand } from '../helpers/workers';

/** docs/workers.md: `message.created` is delivered under `evt_<hash of the message>`. */
const EVENT_ID = /^evt_[0-9a-f]{32}$/;
const QUEUE_NAMES = ['domain-events', 'notifications', 'webhooks', 'retention'];

/** `jobs stats --json`: the failed (dead-letter) count per queue. */
async function deadCounts(env: Record<string, string | undefined>): Promise<Record<string, number>> {
  const res = await jobsCommand(env, 'stats', '--json');
  expect(res.code, res.err).toBe(0);
  const stats = JSON.parse(res.out);
  expect(Object.keys(stats).sort()).toEqual([...QUEUE_NAMES].sort());
  return Object.fromEntries(QUEUE_NAMES.map((q) => [q, stats[q].failed]));
}

describe('workers: failures, dead letters, shutdown', () => {
  let respond: (r: Received) => number | Promise<number> = () => 200;
  const s = useWorkersStack({
    respond: (r) => respond(r),
    env: (url) => ({
      NOTIFY_WEBHOOK_URL: `${url}/notify`,
      EVENTS_WEBHOOK_URL: `${url}/events`,
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_BACKOFF_MS: '50',
      // An attempt held open by the receiver is in flight, not timed out.
      WEBHOOK_TIMEOUT_MS: '60000',
    }),
    workers: false,
  });

  const eventsOf = (messageId: string) => s.receiver.requests.filter((r) => r.path.endsWith('/events') && r.body?.type === 'message.created' && r.body.data.message.id === messageId);
  const notificationsOf = (messageId: string) => s.receiver.requests.filter((r) => r.path.endsWith('/notify') && r.body?.data?.message?.id === messageId);

  it('retries event-webhook deliveries under one id, dead-letters them after the last attempt; stats counts them; retry-dead --all [--queue] re-drives them', async () => {
    s.w = await startTestWorkers(s.t, s.env);
    try {
      const [alice, bob] = await Promise.all([registerUser(s.t.url), registerUser(s.t.url)]);
      const socket = await connectUser(s.t.url, alice);
      const room = await createRoom(socket, { type: 'private', memberIds: [bob.id] });
      let healthy = false;
      respond = (r) => {
        if (healthy) return 200;
        const text = r.body?.data?.message?.text;
        if (text === 'doomed' && (r.body?.type === 'message.created' || r.path.endsWith('/notify'))) return 500;
        if (text === 'flaky' && r.body?.type === 'message.created') return r.attempt <= 2 ? 503 : 200;
        return 200;
      };
      expect(Object.values(await deadCounts(s.env))).toEqual([0, 0, 0, 0]);
      const flaky = await sendMessage(socket, room.id, 'flaky');
      const doomed = await sendMessage(socket, room.id, 'doomed');

      // The flaky event: two failures, then delivered on the third attempt, one id throughout,
      // each retry after at least its documented minimum (50 ms base, equal jitter: 25, 50 ms).
      await eventually(() => eventsOf(flaky.id).some((r) => r.status === 200), 10_000, 'the flaky event delivered');
      const flakyAttempts = eventsOf(flaky.id);
      expect(flakyAttempts.map((r) => r.status)).toEqual([503, 503, 200]);
      expect(new Set(flakyAttempts.map((r) => r.id)).size).toBe(1);
      expect(flakyAttempts[0].id).toMatch(EVENT_ID);
      expect(flakyAttempts.every((r) => r.body.id === r.id && signatureValid(EVENTS_SECRET, r))).toBe(true);
      flakyAttempts.slice(1).forEach((r, i) => expect(r.at - flakyAttempts[i].at).toBeGreaterThanOrEqual(25 * 2 ** i - 5));

      // The doomed event and the doomed notification: three attempts each, then dead letters.
      await eventually(async () => {
        const dead = await deadCounts(s.env);
        return dead.webhooks === 1 && dead.notifications === 1;
      }, 10_000, 'two dead letters');
      expect(eventsOf(doomed.id).map((r) => r.status)).toEqual([500, 500, 500]);
      expect(notificationsOf(doomed.id).map((r) => r.status)).toEqual([500, 500, 500]);
      const eventId = eventsOf(doomed.id)[0].id;
      expect(eventId).toMatch(EVENT_ID);
      expect(eventId).not.toBe(flakyAttempts[0].id);
      const notificationId = notificationIdSeen(s.receiver, doomed.id, bob.id);
      expect(await deadCounts(s.env)).toEqual({ 'domain-events': 0, notifications: 1, webhooks: 1, retention: 0 });
      const listed = await jobsCommand(s.env, 'list-dead', '--queue', 'webhooks', '--json');
      expect(JSON.parse(listed.out)).toEqual([
        { queue: 'webhooks', id: eventId, attempts: 3, failedAt: expect.any(String), reason: expect.stringContaining('answered 500'), summary: 'type=message.created' },
      ]);
      // The text form lists both queues' dead letters.
      const text = await jobsCommand(s.env, 'stats');
      expect(text.out).toMatch(/^webhooks\s.*failed=1/m);
      expect(text.out).toMatch(/^notifications\s.*failed=1/m);

      healthy = true;
      // --queue limits --all to that queue: the notification stays dead.
      const webhooksOnly = await jobsCommand(s.env, 'retry-dead', '--all', '--queue', 'webhooks');
      expect(webhooksOnly.code, webhooksOnly.err).toBe(0);
      expect(webhooksOnly.out.trim()).toBe('re-driven: 1');
      await eventually(() => eventsOf(doomed.id).some((r) => r.status === 200), 10_000, 'the re-driven event');
      expect(eventsOf(doomed.id).map((r) => [r.id, r.status])).toEqual([[eventId, 500], [eventId, 500], [eventId, 500], [eventId, 200]]);
      expect(await deadCounts(s.env)).toEqual({ 'domain-events': 0, notifications: 1, webhooks: 0, retention: 0 });
      expect(notificationsOf(doomed.id)).toHaveLength(3);

      // --all without a queue takes the rest.
      const rest = await jobsCommand(s.env, 'retry-dead', '--all');
      expect(rest.out.trim()).toBe('re-driven: 1');
      await eventually(() => notificationsOf(doomed.id).some((r) => r.status === 200), 10_000, 'the re-driven notification');
      expect(notificationsOf(doomed.id).map((r) => [r.id, r.status])).toEqual([[notificationId, 500], [notificationId, 500], [notificationId, 500], [notificationId, 200]]);
      expect(signatureValid(NOTIFY_SECRET, notificationsOf(doomed.id)[3])).toBe(true);
      expect(await deadCounts(s.env)).toEqual({ 'domain-events': 0, notifications: 0, webhooks: 0, retention: 0 });
      expect((await jobsCommand(s.env, 'retry-dead', '--all')).out.trim()).toBe('re-driven: 0');
      await queuesIdle(s.env);
      expect(eventsOf(doomed.id).filter((r) => r.status === 200)).toHaveLength(1);
      expect(notificationsOf(doomed.id).filter((r) => r.status === 200)).toHaveLength(1);

    } finally {
      respond = () => 200;
      await s.w!.close();
      s.w = null;
    }
  });

  it('dead-letters a job whose worker dies under it a third time (maxStalledCount 2), instead of re-running it forever', async () => {
    const [alice, bob] = await Promise.all([registerUser(s.t.url), registerUser(s.t.url)]);
    const socket = await connectUser(s.t.url, alice);
    const room = await createRoom(socket, { type: 'private', memberIds: [bob.id] });
    // The notification of this message is never answered: each worker that takes it is killed mid-attempt.
    let release: () => void = () => undefined;
    const never = new Promise<number>((resolve) => (release = () => resolve(200)));
    respond = (r) => (r.path.endsWith('/notify') && r.body?.data?.message?.text === 'poison' ? never : 200);
    try {
      const message = await sendMessage(socket, room.id, 'poison');
      // A killed run's delivery claim outlives it (WEBHOOK_TIMEOUT_MS + 2 s): the next run may
      // find it busy, which is a failed attempt; enough attempts, spaced out, that only the
      // stalls can end the job.
      const stallEnv = { ...s.env, WEBHOOK_TIMEOUT_MS: '1000', WEBHOOK_MAX_ATTEMPTS: '20', WEBHOOK_BACKOFF_MS: '500' };
      for (let run = 1; run <= 3; run++) {
        const p = await spawnWorkers(stallEnv);
        s.procs.push(p);
        await eventually(() => notificationsOf(message.id).length === run, 30_000, `attempt ${run} to arrive`);
        p.child.kill('SIGKILL');
        await p.exited;
      }
      const id = notificationIdSeen(s.receiver, message.id, bob.id);
      // A fourth worker finds the job stalled a third time: a dead letter, not a fourth attempt.
      s.procs.push(await spawnWorkers(stallEnv));
      await eventually(async () => (await deadCounts(s.env)).notifications === 1, 20_000, 'the stalled job dead-lettered');
      const dead = JSON.parse((await jobsCommand(s.env, 'list-dead', '--queue', 'notifications', '--json')).out);
      expect(dead).toEqual([expect.objectContaining({ queue: 'notifications', id, reason: expect.stringMatching(/stalled/i) })]);
      await queuesIdle(s.env);
      expect(notificationsOf(message.id)).toHaveLength(3);
    } finally {
      release();
      respond = () => 200;
    }
    const last = s.procs[s.procs.length - 1];
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);
    // Clean up the dead letter for the next test.
    expect((await jobsCommand(s.env, 'retry-dead', '--all')).out.trim()).toBe('re-driven: 1');
  });

  it('SIGTERM: the workers process lets its in-flight delivery finish, takes nothing new, and exits 0', async () => {
    // The previous test's re-driven dead letter is delivered by this process first.
    const p = await spawnWorkers({ ...s.env, SHUTDOWN_GRACE_MS: '20000' });
    s.procs.push(p);
    const idle = async () => {
      const stats = JSON.parse((await jobsCommand(s.env, 'stats', '--json')).out);
      // (retention always has its next sweep delayed.)
      return ['domain-events', 'notifications', 'webhooks'].every((q) => stats[q].active === 0 && stats[q].waiting === 0 && stats[q].delayed === 0);
    };
    await eventually(idle, 10_000, 'an idle worker');
    const [alice, bob, carol] = await Promise.all([registerUser(s.t.url), registerUser(s.t.url), registerUser(s.t.url)]);
    const socket = await connectUser(s.t.url, alice);
    const room = await createRoom(socket, { type: 'private', memberIds: [bob.id] });
    let answeredAt = 0;
    respond = async (r) => {
      if (r.path.endsWith('/notify') && r.body?.data?.message?.text === 'in flight') {
        await sleep(1500);
        answeredAt = Date.now();
      }
      return 200;
    };
    try {
      const message = await sendMessage(socket, room.id, 'in flight');
      await eventually(() => notificationsOf(message.id).length === 1, 10_000, 'the attempt in flight');
      p.child.kill('SIGTERM');
      // Sent while the process drains: it must not take this one.
      const room2 = await createRoom(socket, { type: 'private', memberIds: [carol.id] });
      const later = await sendMessage(socket, room2.id, 'during the shutdown');
      const code = await p.exited;
      const exitedAt = Date.now();
      expect(code, p.err()).toBe(0);
      // It waited for the answer, and the job is done: delivered once, not handed back.
      expect(answeredAt).toBeGreaterThan(0);
      expect(exitedAt).toBeGreaterThanOrEqual(answeredAt);
      expect(notificationsOf(message.id).map((r) => r.status)).toEqual([200]);
      const id = notificationIdSeen(s.receiver, message.id, bob.id);
      expect(notificationsOf(later.id)).toHaveLength(0);

      // The next worker delivers the waiting one.
      const next = await spawnWorkers(s.env);
      s.procs.push(next);
      await eventually(() => notificationsOf(later.id).some((r) => r.status === 200), 10_000, 'the next worker to deliver');
      // The finished job is not run again by the next worker.
      await queuesIdle(s.env);
      expect(s.receiver.attemptsOf(id)).toHaveLength(1);
      next.child.kill('SIGTERM');
      expect(await next.exited).toBe(0);
    } finally {
      respond = () => 200;
    }
  });
});
