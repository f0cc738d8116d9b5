// Retention: a room's retentionDays makes the scheduled sweep delete its older messages in
// batches; rooms without retention keep everything. Runs on BullMQ (workers) here and
// in-process in workers-zero-config.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Workers } from '../../workers/src/workers';
import { startTestApp, type TestApp } from '../helpers/app';
import { closeClients, connectUser, createRoom, history, registerUser, seedMessages } from '../helpers/chat';
import { backdate, dropPrefix, eventually, jobsEnv, startTestWorkers, uniquePrefix } from '../helpers/workers';

describe('workers: retention', () => {
  let prefix: string;
  let t: TestApp;
  let w: Workers;

  beforeAll(async () => {
    prefix = uniquePrefix();
    const env = jobsEnv(prefix, { RETENTION_SWEEP_MS: '1000', RETENTION_BATCH: '2' });
    t = await startTestApp(env);
    w = await startTestWorkers(t, env);
  });
  afterAll(async () => {
    closeClients();
    await w?.close();
    await t?.close();
    if (prefix) await dropPrefix(prefix);
  });

  it('deletes messages older than retentionDays in batches, and nothing else', async () => {
    const alice = await registerUser(t.url);
    const socket = await connectUser(t.url, alice);
    const kept = await createRoom(socket, { type: 'public' });
    const swept = await createRoom(socket, { type: 'public' });
    await seedMessages(socket, kept.id, 3);
    await seedMessages(socket, swept.id, 7);
    await backdate(t, kept.id, 3, 10);
    await backdate(t, swept.id, 5, 3);
    await t.app.chat.repos.rooms.setRetention(swept.id, 2);

    // 5 old messages, batches of 2: one sweep takes three batches.
    await eventually(async () => (await history(socket, swept.id)).items.length === 2, 5000, 'the sweep');
    expect((await history(socket, swept.id)).items.map((m) => m.seq)).toEqual([6, 7]);
    expect((await history(socket, kept.id)).items.map((m) => m.seq)).toEqual([1, 2, 3]);
    const metrics = await (await fetch(`http://127.0.0.1:${w.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/chat_jobs_attempts_total\{[^}]*queue="retention",outcome="deleted"[^}]*\} 1\n/);
  });
});
