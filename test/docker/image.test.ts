// The shipped container image, proven on a real engine (`npm run test:docker`, which
// builds it first: tools/docker/prepare.sh): what is in it, the ECS descriptions against
// what the container does, a two-container cluster on the host's MongoDB (devdb) and
// Redis, the workers role, `docker stop` draining under traffic, and refusing bad config.
// Containers use host networking and listen on 127.0.0.1 only.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freshMongoUri, TEST_JWT_SECRET } from '../helpers/app';
import type { Client } from '../helpers/clients';
import { closeClients, connectUser, createRoom, ok, pageAfter, PASSWORD, sendMessage, uniqueName, type Message, type TestUser } from '../helpers/chat';
import { ReconnectingClient, sleep, until, viewOf } from '../helpers/cluster';
import {
  docker,
  dockerOk,
  ecsContainers,
  ecsEnvironment,
  ecsRunFlags,
  engineNofileLimit,
  IMAGE,
  imagePaths,
  inspectImage,
  readEcs,
  removeRunContainers,
  ROOT,
  runArgs,
  startContainer,
  type Container,
} from '../helpers/docker';
import { freePort } from '../helpers/ports';
import { dropPrefix, NOTIFY_SECRET, signatureValid, startReceiver, uniquePrefix, type Receiver } from '../helpers/workers';

const figures: Record<string, unknown> = {};
function report(name: string, value: unknown): void {
  figures[name] = value;
  process.stderr.write(`docker-test: ${name} = ${JSON.stringify(value)}\n`);
}

// The API's container definition (the one behind the load balancer) and the workers' command.
const ecs = ecsContainers();
const api = ecs.find((c) => (c.portMappings ?? []).length > 0)!;
const GRACE_MS = Number(ecsEnvironment(api).SHUTDOWN_GRACE_MS ?? 10000);

/** The workers' command: their own container definition if deploy/ecs has one, else the one deploy/ecs/README.md documents. */
function workersCommand(): string[] {
  const own = ecs.find((c) => c.command?.some((part) => part.includes('workers')));
  if (own?.command) return own.command;
  const readme = fs.readFileSync(path.join(ROOT, 'deploy', 'ecs', 'README.md'), 'utf8');
  const m = /command: (\[[^\]]*workers[^\]]*\])/.exec(readme);
  if (!m) throw new Error('deploy/ecs describes no command for the workers');
  return JSON.parse(m[1]);
}

/**
 * One HTTP request. Without an agent the connection closes after the response: an idle
 * kept-alive connection (fetch keeps them) would hold a draining node for its whole grace
 * period, by design, and hide how long the drain itself takes.
 */
function http1(method: string, url: string, opts: { agent?: http.Agent; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers = { ...(opts.headers ?? {}), ...(payload ? { 'content-type': 'application/json' } : {}) };
    const req = http.request(url, { method, agent: opts.agent ?? false, headers, timeout: 3000 }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let body: any = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end(payload);
  });
}

interface SendOutcome {
  clientMsgId: string;
  message?: Message;
  error?: unknown;
  /** When the ack (or the disconnect) came. */
  at: number;
}

/** Sends once: resolves with the ack, or without a message when the socket disconnects first. */
function sendOrCut(socket: Client, roomId: string, clientMsgId: string): Promise<SendOutcome> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: Omit<SendOutcome, 'clientMsgId' | 'at'>) => {
      if (done) return;
      done = true;
      socket.off('disconnect', onDisconnect);
      resolve({ clientMsgId, at: Date.now(), ...o });
    };
    const onDisconnect = () => finish({});
    socket.on('disconnect', onDisconnect);
    socket
      .timeout(30_000)
      .emitWithAck('message:send', { roomId, clientMsgId, text: clientMsgId })
      .then((ack: { ok: boolean; data?: Message; error?: unknown }) => finish(ack.ok ? { message: ack.data } : { error: ack.error }), () => finish({}));
  });
}

/** Registers a user over REST (as helpers/chat registerUser, on a connection that closes). */
async function register(url: string): Promise<TestUser> {
  const username = uniqueName('dt');
  const res = await http1('POST', `${url}/api/v1/auth/register`, { body: { username, password: PASSWORD } });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.user.id, username, token: res.body.token, user: res.body.user };
}

describe('the container image', () => {
  let prefix: string;
  let receiver: Receiver;
  let env: Record<string, string>;
  let runFlags: string[];
  const started: Container[] = [];

  beforeAll(async () => {
    if ((await docker(['image', 'inspect', IMAGE])).code !== 0) throw new Error(`image ${IMAGE} not found: run \`npm run test:docker\` (it builds it)`);
    prefix = uniquePrefix();
    runFlags = ecsRunFlags(api, await engineNofileLimit());
    receiver = await startReceiver();
    const secrets: Record<string, string> = {
      MONGODB_URI: freshMongoUri('dt').uri,
      REDIS_URL: inject('redisUrl'),
      JWT_SECRET: TEST_JWT_SECRET,
      METRICS_TOKEN: 'metrics-token-for-the-docker-test',
    };
    const missing = (api.secrets ?? []).map((s) => s.name).filter((n) => !(n in secrets));
    if (missing.length > 0) throw new Error(`the task definition has secrets this test gives no value: ${missing.join(', ')}`);
    // The task definition's environment, its secrets with test values, and what a shared
    // machine needs: loopback only, free ports, this run's keys, limits out of the way.
    env = {
      ...ecsEnvironment(api),
      ...Object.fromEntries((api.secrets ?? []).map((s) => [s.name, secrets[s.name]])),
      HOST: '127.0.0.1',
      REDIS_KEY_PREFIX: `${prefix}:`,
      QUEUE_PREFIX: prefix,
      NOTIFY_WEBHOOK_URL: receiver.url,
      NOTIFY_WEBHOOK_SECRET: NOTIFY_SECRET,
      RATE_LIMIT_MESSAGES: '100000',
      RATE_LIMIT_JOINS: '100000',
    };
  });
  afterEach(async (ctx) => {
    closeClients();
    if (ctx.task.result?.state === 'fail') {
      for (const c of started) process.stderr.write(`--- ${c.name}\n${(await c.logs()).slice(-4000)}\n`);
    }
  });
  afterAll(async () => {
    await removeRunContainers();
    await receiver?.close();
    if (prefix) await dropPrefix(prefix);
    const file = path.join(ROOT, '.data', 'docker-test-figures.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), image: IMAGE, loadavg: os.loadavg(), ...figures }, null, 2)}\n`);
  });

  it('runs as a non-root user, with production dependencies only, no extra CA, no Go toolchain or devdb', async () => {
    const image = await inspectImage();
    const standin = image.Config.Labels?.['chat-dt.standin'];
    if (standin) process.stderr.write(`docker-test: NOTE the base image is a local STAND-IN for the official node image (${standin})\n`);
    report('image size (MB)', Math.round(image.Size / 1e6));
    expect(image.Config.User).toBe('node');
    expect(await dockerOk(['run', '--rm', '--network', 'none', IMAGE, 'id', '-u'])).not.toBe('0');
    expect(image.Config.Env.filter((e: string) => e.startsWith('NODE_EXTRA_CA_CERTS'))).toEqual([]);

    const paths = (await imagePaths()).map((p) => p.replace(/^\.\//, '').replace(/\/$/, ''));
    expect(paths.filter((p) => /extra-ca/.test(p)), 'the build stages’ CA is not shipped').toEqual([]);
    expect(paths.filter((p) => /(^|\/)(go|gofmt)$/.test(p) || p.startsWith('usr/local/go/') || /(^|\/)devdb$/.test(p) || p.includes('/.data')), 'no Go toolchain or devdb').toEqual([]);
    expect(paths.filter((p) => /^app\/(server|workers|test|tools)\//.test(p)), 'compiled code only').toEqual([]);

    // Installed packages against the lockfile: none that only development needs, all that production does.
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')).packages as Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean; peer?: boolean }>;
    const installed = paths.map((p) => /^app\/((?:node_modules\/(?:@[^/]+\/)?[^/]+\/)+)package\.json$/.exec(p)?.[1].replace(/\/$/, '')).filter((p): p is string => Boolean(p) && p! in lock);
    const devOnly = installed.filter((p) => lock[p].dev);
    expect(devOnly, 'development-only packages in the image').toEqual([]);
    const needed = Object.entries(lock)
      .filter(([k, v]) => k.startsWith('node_modules/') && !v.dev && !v.optional && !v.devOptional && !v.peer)
      .map(([k]) => k);
    const have = new Set(installed);
    expect(needed.filter((k) => !have.has(k)), 'production packages missing from the image').toEqual([]);
    for (const devName of ['typescript', 'vitest', 'tsx', 'eslint', 'socket.io-client']) expect(have.has(`node_modules/${devName}`), devName).toBe(false);
  });

  it('the ECS descriptions match the image: command, port, health checks, stop timeout, variable names', async () => {
    const image = await inspectImage();
    const apiEnv = ecsEnvironment(api);
    const port = api.portMappings![0].containerPort;
    // Port: the mapping, PORT, the image's EXPOSE and default, the load balancer's target.
    expect(String(port)).toBe(apiEnv.PORT ?? '3000');
    expect(Object.keys(image.Config.ExposedPorts ?? {})).toEqual([`${port}/tcp`]);
    expect(image.Config.Env).toContain(`PORT=${port}`);
    expect(readEcs('target-group.json').Port).toBe(port);
    expect(readEcs('service.json').loadBalancers).toEqual([expect.objectContaining({ containerName: api.name, containerPort: port })]);
    // Command: the image's default is what the task runs.
    expect(api.command).toEqual(image.Config.Cmd);
    // Health: the task's check and the image's HEALTHCHECK ask the same path on the same port, as often.
    const hc = api.healthCheck!;
    const imageHc = image.Config.Healthcheck;
    expect(hc.command.join(' ')).toContain(`http://127.0.0.1:${port}/healthz`);
    expect(imageHc.Test.join(' ')).toContain('/healthz');
    expect([hc.interval, hc.timeout, hc.retries, hc.startPeriod]).toEqual([imageHc.Interval / 1e9, imageHc.Timeout / 1e9, imageHc.Retries, imageHc.StartPeriod / 1e9]);
    expect(readEcs('target-group.json').HealthCheckPath).toBe('/readyz');
    // Stop: ECS's SIGKILL (stopTimeout) comes after the process's own force-quit (grace + 5 s).
    expect(api.stopTimeout! * 1000).toBeGreaterThanOrEqual(GRACE_MS + 5000);
    const dereg = readEcs('target-group-attributes.json').Attributes.find((a: { Key: string }) => a.Key === 'deregistration_delay.timeout_seconds');
    expect(Number(dereg.Value) * 1000).toBe(GRACE_MS);
    expect(api.linuxParameters?.initProcessEnabled).toBe(true);
    // Names: every variable the task sets is one the image's code reads.
    const known: string[] = JSON.parse(await dockerOk(['run', '--rm', '--network', 'none', IMAGE, 'node', '-p', "JSON.stringify(require('./dist/server/src/config').CONFIG_VARIABLES)"]));
    for (const c of ecs) {
      const names = [...(c.environment ?? []), ...(c.secrets ?? [])].map((e) => e.name);
      expect(names.filter((n) => !known.includes(n)), `${c.file} ${c.name}: variables the image does not read`).toEqual([]);
    }
  });

  it('missing required production configuration: exit 1 with one line naming the variable', async () => {
    const base = ecsEnvironment(api);
    const cases: Array<{ env: Record<string, string>; command?: string[]; names: string }> = [
      { env: base, names: 'JWT_SECRET' },
      { env: { ...base, JWT_SECRET: TEST_JWT_SECRET }, names: 'MONGODB_URI' },
      { env: { ...base, JWT_SECRET: TEST_JWT_SECRET, MONGODB_URI: 'mongodb://127.0.0.1:1/x' }, command: workersCommand(), names: 'REDIS_URL' },
      { env: { ...base, JWT_SECRET: TEST_JWT_SECRET, MONGODB_URI: 'mongodb://127.0.0.1:1/x', PORT: 'eighty' }, names: 'PORT' },
    ];
    const results = await Promise.all(
      cases.map((c, i) => docker(runArgs({ name: `config-${i}`, env: c.env, command: c.command, foreground: true, network: 'none' }))),
    );
    results.forEach((r, i) => {
      const lines = r.stderr.trim().split('\n');
      expect({ code: r.code, lines: lines.length, stdout: r.stdout }, `case ${cases[i].names}: ${r.stderr}`).toEqual({ code: 1, lines: 1, stdout: '' });
      expect(lines[0]).toMatch(new RegExp(`\\b${cases[i].names}\\b`));
    });
  });

  describe('two API containers and the workers on the host’s MongoDB and Redis', () => {
    const nodes: Array<{ c: Container; url: string; port: number; running: boolean }> = [];

    beforeAll(async () => {
      const ports = [await freePort(), await freePort()];
      const t0 = Date.now();
      await Promise.all(
        ports.map(async (port, i) => {
          const c = await startContainer({ name: `api-${i + 1}`, env: { ...env, PORT: String(port), NODE_ID: `dt-api-${i + 1}` }, command: api.command, flags: runFlags });
          started.push(c);
          const url = `http://127.0.0.1:${port}`;
          await until(async () => (await http1('GET', `${url}/readyz`)).status === 200, 60_000, `${c.name} ready`, 100);
          nodes[i] = { c, url, port, running: true };
          report(`start to ready, api-${i + 1} (ms, two containers starting at once)`, Date.now() - t0);
        }),
      );
    });

    it('turns healthy by its HEALTHCHECK; the task definition’s health check passes in the container', async () => {
      const t0 = Date.now();
      await until(async () => (await nodes[0].c.state()).Health?.Status === 'healthy', 45_000, 'health status healthy', 500);
      report('ready to HEALTHCHECK healthy (s, interval 10 s)', Math.round((Date.now() - t0) / 100) / 10);
      // ECS runs its own check command; on host networking the port is this container's.
      const cmd = api.healthCheck!.command.slice(1).map((a) => a.replace(`:${api.portMappings![0].containerPort}/`, `:${nodes[0].port}/`));
      expect((await docker(['exec', nodes[0].c.id, ...cmd])).code).toBe(0);
      const metrics = await http1('GET', `${nodes[0].url}/metrics`, { headers: { authorization: `Bearer ${env.METRICS_TOKEN}` } });
      expect(metrics.status).toBe(200);
    });

    it('form a cluster: a message sent on one container is received on the other', async () => {
      const [alice, bob] = await Promise.all([register(nodes[0].url), register(nodes[1].url)]);
      const a = await connectUser(nodes[0].url, alice);
      const b = await connectUser(nodes[1].url, bob);
      const room = await createRoom(a, { type: 'public', memberIds: [bob.id] });
      const onB = new Promise<Message>((resolve) => b.on('message:new', (m: Message) => m.roomId === room.id && resolve(m)));
      const sent = await sendMessage(a, room.id, 'from container 1');
      expect((await onB).id).toBe(sent.id);
      const onA = new Promise<Message>((resolve) => a.on('message:new', (m: Message) => m.roomId === room.id && m.seq === 2 && resolve(m)));
      const reply = await sendMessage(b, room.id, 'from container 2');
      expect((await onA).id).toBe(reply.id);
    });

    it('the workers role runs from the same image with the command override and delivers a notification', async () => {
      const metricsPort = await freePort();
      const command = workersCommand();
      expect(command).not.toEqual(api.command);
      const w = await startContainer({ name: 'workers', env: { ...env, WORKERS_METRICS_PORT: String(metricsPort), NODE_ID: 'dt-workers' }, command, flags: runFlags });
      started.push(w);
      await until(async () => (await http1('GET', `http://127.0.0.1:${metricsPort}/healthz`)).status === 200, 60_000, 'workers /healthz', 100);
      expect(await w.logs()).toContain('Workers running');
      const [alice, dave] = await Promise.all([register(nodes[0].url), register(nodes[0].url)]);
      const a = await connectUser(nodes[0].url, alice);
      const room = await createRoom(a, { type: 'private', memberIds: [dave.id] });
      const message = await sendMessage(a, room.id, 'to someone offline');
      await until(() => receiver.delivered().find((r) => r.body?.data?.userId === dave.id), 15_000, 'the notification from the workers container');
      const r = receiver.delivered().find((x) => x.body?.data?.userId === dave.id)!;
      expect(r.body.data.message.id).toBe(message.id);
      expect(signatureValid(NOTIFY_SECRET, r)).toBe(true);
      await dockerOk(['stop', '-t', String(api.stopTimeout ?? 30), w.id], { timeoutMs: 60_000 });
      expect((await w.state()).ExitCode).toBe(0);
    });

    it('`docker stop` drains: /readyz 503, in-flight sends answered, exit 0 within the grace period, no acked message lost', async () => {
      const [a, b] = nodes;
      const users = await Promise.all(Array.from({ length: 5 }, () => register(a.url)));
      const owner = await connectUser(a.url, users[0]);
      const room = await createRoom(owner, { type: 'public', memberIds: users.slice(1).map((u) => u.id) });
      const liveUrls = () => nodes.filter((n) => n.running).map((n) => n.url);
      // Three senders start on container 1, a reader on container 2; all follow the room.
      const clients = users.slice(1).map((u, i) => new ReconnectingClient(u.token, liveUrls, { start: i < 3 ? 0 : 1 }));
      try {
        for (const c of clients) {
          await c.connect();
          await c.follow(room.id);
        }
        const acked: Message[] = [];
        let running = true;
        const loops = clients.slice(0, 3).map(async (s, k) => {
          for (let i = 0; running; i++) {
            acked.push((await s.sendReliably(room.id, `s${k}-${i}`)).message);
            await sleep(20);
          }
        });
        await until(() => acked.length >= 15, 15_000, 'traffic');

        // A probe on one kept-alive connection, opened before the stop.
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        expect((await http1('GET', `${a.url}/readyz`, { agent })).status).toBe(200);
        // Sends in flight when the signal comes. Each is either answered by container 1, or
        // cut off by its disconnect before that node took it in; which one is a race.
        const burst = Array.from({ length: 20 }, (_, i) => sendOrCut(owner, room.id, `burst-${i}-${crypto.randomUUID()}`));
        const t0 = Date.now();
        const stopped = dockerOk(['stop', '-t', String(api.stopTimeout ?? 30), a.c.id], { timeoutMs: 60_000 }).then(() => Date.now() - t0);
        const probes: Array<{ status: number; state?: string }> = [];
        for (let refused = false; !refused && Date.now() - t0 < 20_000; ) {
          try {
            const r = await http1('GET', `${a.url}/readyz`, { agent });
            probes.push({ status: r.status, state: r.body?.status });
          } catch {
            refused = true;
          }
          await sleep(10);
        }
        agent.destroy();
        const burstResults = await Promise.all(burst);
        const stopMs = await stopped;
        a.running = false;
        const state = await a.c.state();
        report('docker stop → exited (ms, under traffic)', stopMs);
        expect(probes.some((p) => p.status === 503 && p.state === 'draining'), `readyz while draining: ${JSON.stringify(probes.slice(-5))}`).toBe(true);
        expect({ exit: state.ExitCode, oom: state.OOMKilled }).toEqual({ exit: 0, oom: false });
        expect(stopMs).toBeLessThan(GRACE_MS + 5000);
        const logLines = (await a.c.logs()).split('\n');
        const drained = logLines.find((l) => l.includes('"msg":"drained"'));
        expect(drained, 'the node logged the end of its drain').toBeDefined();
        const drainMs = JSON.parse(drained!).ms as number;
        report('drain (ms, as the node logged it)', drainMs);
        // Every connection closed by itself before the grace period ran out: nothing was cut.
        expect(drainMs).toBeLessThan(GRACE_MS);

        // Traffic goes on through container 2, then stops.
        const before = acked.length;
        await until(() => acked.length >= before + 10, 20_000, 'traffic after the stop');
        running = false;
        await Promise.all(loops);

        // A send the node took in was answered: none that was cut off is stored. The client
        // retries the cut ones with the same clientMsgId elsewhere, as the contract says.
        const check = await connectUser(b.url, users[4]);
        const storedIds = new Set((await pageAfter(check, room.id)).map((m) => m.clientMsgId));
        const cut = burstResults.filter((r) => !r.message);
        expect(burstResults.filter((r) => r.error), 'refused sends').toEqual([]);
        expect(cut.filter((r) => storedIds.has(r.clientMsgId)).map((r) => r.clientMsgId), 'stored by the draining node but never answered').toEqual([]);
        const retried = await Promise.all(cut.map((r) => ok<Message>(check, 'message:send', { roomId: room.id, clientMsgId: r.clientMsgId, text: 'retried' })));
        const sigtermAt = Date.parse(JSON.parse(logLines.find((l) => l.includes('"msg":"shutting down"'))!).time);
        report('sends in flight at docker stop', { answered: burstResults.filter((r) => r.message).length, answeredAfterSigterm: burstResults.filter((r) => r.message && r.at > sigtermAt).length, cutBeforeReceived: cut.length });

        const all = [...acked, ...burstResults.flatMap((r) => (r.message ? [r.message] : [])), ...retried];
        const expected = [...new Map(all.map((m) => [m.id, m])).values()].sort((x, y) => x.seq - y.seq);
        expect(expected.map((m) => m.seq), 'acked seqs are 1..n').toEqual(expected.map((_, i) => i + 1));
        const stored = await pageAfter(check, room.id);
        expect(stored.map((m) => m.id), 'stored = acked, each once').toEqual(expected.map((m) => m.id));
        for (const c of clients) {
          await until(() => c.highest(room.id) >= expected.length, 15_000, 'client to catch up');
          expect(viewOf(c, room.id).map((m) => m.id)).toEqual(expected.map((m) => m.id));
          expect([c.log.sameSocketDuplicates, c.log.outOfOrder]).toEqual([0, 0]);
        }
        report('drain under traffic', { acked: all.length, senders: 3, readyzProbes: probes.length, reconnects: clients.map((c) => c.reconnects) });
      } finally {
        for (const c of clients) c.close();
      }
      closeClients();
      await dockerOk(['stop', '-t', String(api.stopTimeout ?? 30), b.c.id], { timeoutMs: 60_000 });
      b.running = false;
      expect((await b.c.state()).ExitCode).toBe(0);
    }, 120_000);
  });
});
