// The pm2 setup itself (ecosystem.config.js, cluster mode, two API workers behind
// pm2's one port): long-polling clients work although pm2 hands their requests to
// either worker, and `pm2 reload` restarts every worker without refusing a request
// or losing an acked message.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freshMongoUri } from '../helpers/app';
import { createRoom, ok, registerUser, type Message } from '../helpers/chat';
import { CLUSTER_ENV, ReconnectingClient, ROOT, sleep, until, viewOf } from '../helpers/cluster';
import { freePort } from '../helpers/ports';

const run = promisify(execFile);
const PM2 = path.join(ROOT, 'node_modules', '.bin', 'pm2');

describe('cluster: the pm2 setup', () => {
  let home: string;
  let url: string;
  let prefix: string;
  const clients: ReconnectingClient[] = [];
  const pm2 = (...args: string[]) => run(PM2, args, { cwd: ROOT, env: { ...process.env, PM2_HOME: home }, timeout: 90_000 });

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'pm2-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    prefix = `t${crypto.randomBytes(4).toString('hex')}:`;
    // The real ecosystem entry, run from source (tsx) instead of dist/ with test settings.
    const config = path.join(home, 'ecosystem.config.js');
    const env = { ...CLUSTER_ENV, PORT: String(port), MONGODB_URI: freshMongoUri('pm2').uri, REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: prefix };
    fs.writeFileSync(
      config,
      `const base = require(${JSON.stringify(path.join(ROOT, 'ecosystem.config.js'))}).apps.find((a) => a.name === 'chat-api');
module.exports = { apps: [{ ...base, cwd: ${JSON.stringify(ROOT)}, script: 'server/src/main.ts', interpreter: 'node', node_args: '--import tsx', instances: 2,
  kill_timeout: ${Number(CLUSTER_ENV.SHUTDOWN_GRACE_MS) + 10_000}, env: { ...base.env, ...${JSON.stringify(env)} } }] };\n`,
    );
    await pm2('start', config);
    await until(async () => (await fetch(`${url}/readyz`)).status === 200, 20_000, 'pm2 workers ready');
  }, 120_000);
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await pm2('kill').catch(() => undefined);
    if (process.env.KEEP_PM2_HOME) process.stderr.write(`pm2 home kept: ${home}\n`);
    else fs.rmSync(home, { recursive: true, force: true });
  });

  async function client(token: string, transports: Array<'websocket' | 'polling'>): Promise<ReconnectingClient> {
    const c = new ReconnectingClient(token, () => [url], { transports });
    clients.push(c);
    await c.connect();
    return c;
  }

  async function workerPids(): Promise<number[]> {
    const { stdout } = await pm2('jlist');
    return (JSON.parse(stdout) as Array<{ name: string; pid: number; pm2_env: { status: string } }>)
      .filter((p) => p.name === 'chat-api' && p.pm2_env.status === 'online')
      .map((p) => p.pid)
      .sort();
  }

  it('serves a long-polling client whose requests land on either worker, and delivers across workers', async () => {
    expect(await workerPids()).toHaveLength(2);
    const [a, b] = await Promise.all([registerUser(url), registerUser(url)]);
    const poller = await client(a.token, ['polling']);
    const ws = await client(b.token, ['websocket']);
    const room = await createRoom(await poller.ready(), { type: 'public', memberIds: [b.id] });
    await poller.follow(room.id);
    await ws.follow(room.id);
    const sent: Message[] = [];
    for (let i = 0; i < 15; i++) {
      sent.push((await poller.sendReliably(room.id, `p${i}`)).message);
      sent.push((await ws.sendReliably(room.id, `w${i}`)).message);
    }
    await until(() => poller.highest(room.id) === 30 && ws.highest(room.id) === 30, 20_000, 'delivery');
    expect(viewOf(poller, room.id).map((m) => m.id)).toEqual(sent.map((m) => m.id));
    expect(viewOf(ws, room.id).map((m) => m.id)).toEqual(sent.map((m) => m.id));
    // Every message came live (no reconnect, no recovery needed) and in order.
    expect(poller.reconnects).toBe(0);
    expect(poller.log.live.get(room.id)).toEqual(sent.map((m) => m.seq));
    expect(ws.log.live.get(room.id)).toEqual(sent.map((m) => m.seq));
    const presence = await ok(await ws.ready(), 'presence:get', { userIds: [a.id] });
    expect(presence.items[0].status).toBe('online');
  });

  it('`pm2 reload` restarts every worker without refusing a request or losing an acked message', async () => {
    const before = await workerPids();
    const [a, b, c] = await Promise.all([registerUser(url), registerUser(url), registerUser(url)]);
    const poller = await client(a.token, ['polling']);
    const ws = await client(b.token, ['websocket']);
    const reader = await client(c.token, ['polling', 'websocket']);
    const room = await createRoom(await poller.ready(), { type: 'public', memberIds: [b.id, c.id] });
    for (const x of [poller, ws, reader]) await x.follow(room.id);

    let running = true;
    const acked: Message[] = [];
    const senders = [poller, ws].map(async (s, k) => {
      for (let i = 0; running; i++) {
        acked.push((await s.sendReliably(room.id, `r${k}-${i}`)).message);
        await sleep(20);
      }
    });
    // HTTP requests all through the reload: the port must never refuse one.
    let httpOk = 0;
    const httpFailures: string[] = [];
    const prober = (async () => {
      while (running) {
        try {
          const res = await fetch(`${url}/healthz`);
          if (res.status === 200) httpOk += 1;
          else httpFailures.push(`status ${res.status}`);
        } catch (err) {
          httpFailures.push(String((err as Error).cause ?? err));
        }
        await sleep(25);
      }
    })();

    await until(() => acked.length >= 10, 20_000, 'traffic');
    const reloadStarted = Date.now();
    await pm2('reload', 'chat-api');
    const reloadMs = Date.now() - reloadStarted;
    const countAfterReload = acked.length;
    await until(() => acked.length >= countAfterReload + 10, 30_000, 'traffic after the reload');
    running = false;
    await Promise.all([...senders, prober]);

    const after = await workerPids();
    expect(after).toHaveLength(2);
    expect(after.filter((pid) => before.includes(pid))).toEqual([]);
    process.stderr.write(`pm2 reload: ${JSON.stringify({ reloadMs, acked: acked.length, httpOk, httpFailures: httpFailures.length, reconnects: [poller.reconnects, ws.reconnects, reader.reconnects] })}\n`);
    expect(httpFailures).toEqual([]);
    expect(httpOk).toBeGreaterThan(10);

    const expected = [...acked].sort((x, y) => x.seq - y.seq);
    expect(expected.map((m) => m.seq)).toEqual(expected.map((_, i) => i + 1));
    for (const x of [poller, ws, reader]) {
      await until(() => x.highest(room.id) >= expected.length, 30_000, 'client to catch up');
      await x.recover(room.id);
      expect(viewOf(x, room.id).map((m) => m.id)).toEqual(expected.map((m) => m.id));
      expect(x.log.sameSocketDuplicates).toBe(0);
      expect(x.reconnects).toBeGreaterThanOrEqual(1);
    }
  }, 120_000);
});
