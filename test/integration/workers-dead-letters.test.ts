// Dead letters: a notification whose every attempt fails ends in the failed set after
// the last attempt, shows up in `npm run jobs -- list-dead`, and `retry-dead <id>`
// re-drives it to exactly one delivery.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobsCommand } from '../../workers/src/cli/jobs.command';
import type { Workers } from '../../workers/src/workers';
import { startTestApp, testEnv, type TestApp } from '../helpers/app';
import { closeClients, connectUser, createRoom, registerUser, sendMessage } from '../helpers/chat';
import { dropPrefix, eventually, jobsEnv, notificationIdSeen, queuesIdle, NOTIFY_SECRET, ROOT, signatureValid, startReceiver, startTestWorkers, TSX, uniquePrefix, type Receiver } from '../helpers/workers';

/** Runs the real CLI as a process; resolves its exit code and output. */
function jobsCli(env: Record<string, string | undefined>, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const fullEnv: Record<string, string> = { PATH: process.env.PATH ?? '' };
  for (const [k, v] of Object.entries(testEnv(env))) if (v !== undefined) fullEnv[k] = v;
  const child = spawn(TSX, ['workers/src/cli/jobs.ts', ...args], { cwd: ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}

/** The same commands in this process (no tsx start-up per call). */
async function jobsCommand(env: Record<string, string | undefined>, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runJobsCommand(args, testEnv(env), { out: (l) => (out += `${l}\n`), err: (l) => (err += `${l}\n`) });
  return { code, out, err };
}

describe('workers: dead letters and the jobs CLI', () => {
  let receiver: Receiver;
  let failing = true;
  let prefix: string;
  let env: Record<string, string | undefined>;
  let t: TestApp;
  let w: Workers;

  beforeAll(async () => {
    receiver = await startReceiver({ respond: () => (failing ? 500 : 200) });
    prefix = uniquePrefix();
    env = jobsEnv(prefix, { NOTIFY_WEBHOOK_URL: receiver.url, WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_BACKOFF_MS: '50' });
    t = await startTestApp(env);
    w = await startTestWorkers(t, env);
  });
  afterAll(async () => {
    closeClients();
    await w?.close();
    await t?.close();
    await receiver?.close();
    if (prefix) await dropPrefix(prefix);
  });

  it('dead-letters after the last attempt; list-dead shows it; retry-dead delivers it once', async () => {
    const [alice, bob] = await Promise.all([registerUser(t.url), registerUser(t.url)]);
    const socket = await connectUser(t.url, alice);
    const room = await createRoom(socket, { type: 'private', memberIds: [bob.id] });
    const message = await sendMessage(socket, room.id, 'nobody home');
    const id = await eventually(() => (receiver.requests.some((x) => x.body?.data?.userId === bob.id) ? notificationIdSeen(receiver, message.id, bob.id) : null), 5000, 'the first attempt');

    await eventually(async () => (await (await w.queues.notifications.getJob(id))?.getState()) === 'failed', 5000, 'the dead letter');
    await queuesIdle(env);
    expect(receiver.attemptsOf(id).map((r) => r.status)).toEqual([500, 500, 500]);
    const metrics = await (await fetch(`http://127.0.0.1:${w.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/chat_jobs_dead_letters_total\{[^}]*queue="notifications"[^}]*\} 1\n/);
    expect(metrics).toMatch(/chat_jobs_queue_depth\{[^}]*queue="notifications",state="failed"[^}]*\} 1\n/);

    const [listed, text] = await Promise.all([jobsCommand(env, 'list-dead', '--json'), jobsCommand(env, 'list-dead')]);
    expect(listed.code, listed.err).toBe(0);
    const dead = JSON.parse(listed.out);
    expect(dead).toEqual([
      {
        queue: 'notifications',
        id,
        attempts: 3,
        failedAt: expect.any(String),
        reason: expect.stringContaining('answered 500'),
        summary: `user=${bob.id} message=${message.id} reason=offline`,
      },
    ]);
    expect(text.out).toContain(id);

    failing = false;
    // The real CLI process, as an operator runs it.
    const retried = await jobsCli(env, 'retry-dead', id);
    expect(retried.code, retried.err).toBe(0);
    expect(retried.out).toContain(`re-driven: notifications ${id}`);
    await eventually(() => receiver.delivered().length === 1, 5000, 'the re-driven delivery');
    await queuesIdle(env);
    const attempts = receiver.attemptsOf(id);
    expect(attempts.map((r) => r.status)).toEqual([500, 500, 500, 200]);
    expect(signatureValid(NOTIFY_SECRET, attempts[3])).toBe(true);
    const [after, unknown] = await Promise.all([jobsCommand(env, 'list-dead'), jobsCommand(env, 'retry-dead', 'ntf_nope')]);
    expect(after.out.trim()).toBe('no dead letters');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no dead letter with id ntf_nope');
  });

  it('the CLI refuses clearly without REDIS_URL, and explains its usage', async () => {
    const res = await jobsCommand({ ...env, REDIS_URL: undefined }, 'list-dead');
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/^REDIS_URL not set/);
    const bad = await jobsCommand(env, 'retry-dead');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('usage: npm run jobs');
  });
});
