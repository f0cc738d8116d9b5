// Dead letters: a notification whose every attempt fails ends in the failed set after
// the last attempt, shows up in `npm run jobs -- list-dead`, and `retry-dead <id>`
// re-drives it to exactly one delivery.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { testEnv } from '../helpers/app';
import { connectUser, createRoom, registerUser, sendMessage } from '../helpers/chat';
import { eventually, notificationIdSeen, queuesIdle, NOTIFY_SECRET, ROOT, signatureValid, TSX, useWorkersStack, jobsCommand } from '../helpers/workers';

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

describe('workers: dead letters and the jobs CLI', () => {
  let failing = true;
  const s = useWorkersStack({
    respond: () => (failing ? 500 : 200),
    env: (url) => ({ NOTIFY_WEBHOOK_URL: url, WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_BACKOFF_MS: '50' }),
  });

  it('dead-letters after the last attempt; list-dead shows it; retry-dead delivers it once', async () => {
    const [alice, bob] = await Promise.all([registerUser(s.t.url), registerUser(s.t.url)]);
    const socket = await connectUser(s.t.url, alice);
    const room = await createRoom(socket, { type: 'private', memberIds: [bob.id] });
    const message = await sendMessage(socket, room.id, 'nobody home');
    const id = await eventually(() => (s.receiver.requests.some((x) => x.body?.data?.userId === bob.id) ? notificationIdSeen(s.receiver, message.id, bob.id) : null), 5000, 'the first attempt');

    await eventually(async () => (await (await s.w!.queues.notifications.getJob(id))?.getState()) === 'failed', 5000, 'the dead letter');
    await queuesIdle(s.env);
    expect(s.receiver.attemptsOf(id).map((r) => r.status)).toEqual([500, 500, 500]);
    const metrics = await (await fetch(`http://127.0.0.1:${s.w!.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/chat_jobs_dead_letters_total\{[^}]*queue="notifications"[^}]*\} 1\n/);
    expect(metrics).toMatch(/chat_jobs_queue_depth\{[^}]*queue="notifications",state="failed"[^}]*\} 1\n/);

    const [listed, text] = await Promise.all([jobsCommand(s.env, 'list-dead', '--json'), jobsCommand(s.env, 'list-dead')]);
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
    const retried = await jobsCli(s.env, 'retry-dead', id);
    expect(retried.code, retried.err).toBe(0);
    expect(retried.out).toContain(`re-driven: notifications ${id}`);
    await eventually(() => s.receiver.delivered().length === 1, 5000, 'the re-driven delivery');
    await queuesIdle(s.env);
    const attempts = s.receiver.attemptsOf(id);
    expect(attempts.map((r) => r.status)).toEqual([500, 500, 500, 200]);
    expect(signatureValid(NOTIFY_SECRET, attempts[3])).toBe(true);
    const [after, unknown] = await Promise.all([jobsCommand(s.env, 'list-dead'), jobsCommand(s.env, 'retry-dead', 'ntf_nope')]);
    expect(after.out.trim()).toBe('no dead letters');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no dead letter with id ntf_nope');
  });

  it('the CLI refuses clearly without REDIS_URL, and explains its usage', async () => {
    const res = await jobsCommand({ ...s.env, REDIS_URL: undefined }, 'list-dead');
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/^REDIS_URL not set/);
    const bad = await jobsCommand(s.env, 'retry-dead');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('usage: npm run jobs');
  });
});
