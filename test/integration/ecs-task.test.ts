// The entry point as ECS runs it: CloudWatch EMF lines on stdout, and a drain that starts when
// the task metadata says the task is stopping (before any SIGTERM), as deploy/cdk configures.
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshMongoUri, signToken, TEST_JWT_SECRET } from '../helpers/app';
import { connect, waitFor } from '../helpers/clients';
import { freePort } from '../helpers/ports';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

describe('main process on ECS', () => {
  let desired = 'RUNNING';
  let polls = 0;
  let metadata: http.Server;
  let metadataUri = '';
  beforeAll(async () => {
    metadata = http.createServer((req, res) => {
      polls++;
      if (req.url !== '/v4/abc/task') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ DesiredStatus: desired, KnownStatus: 'RUNNING' }));
    });
    await new Promise<void>((r) => metadata.listen(0, '127.0.0.1', () => r()));
    metadataUri = `http://127.0.0.1:${(metadata.address() as AddressInfo).port}/v4/abc`;
  });
  afterAll(() => new Promise<void>((r) => metadata.close(() => r())));

  it('writes EMF lines and drains once ECS marks the task STOPPED, without a signal', async () => {
    const port = await freePort();
    const child = spawn(TSX, ['server/src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        HOST: '127.0.0.1',
        MONGODB_URI: freshMongoUri().uri,
        JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: 'warn',
        SHUTDOWN_GRACE_MS: '1000',
        METRICS_EMF_INTERVAL_MS: '200',
        METRICS_EMF_SERVICE: 'chat-api',
        DRAIN_ON_TASK_STOP: 'true',
        ECS_CONTAINER_METADATA_URI_V4: metadataUri,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // Start-up under tsx can take a while on a busy machine.
      const deadline = Date.now() + 60000;
      while (!stdout.includes('listening on') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(stdout).toContain(`listening on http://127.0.0.1:${port}`);
      const socket = await connect(`http://127.0.0.1:${port}`, signToken('ecs-user'));
      const emfLine = async () => {
        const until = Date.now() + 5000;
        for (;;) {
          const lines = stdout.split('\n').filter((l) => l.startsWith('{"_aws"')).map((l) => JSON.parse(l));
          const withSocket = lines.find((l) => l.ConnectedSockets === 1);
          if (withSocket || Date.now() > until) return withSocket;
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      const line = await emfLine();
      expect(line).toMatchObject({ Service: 'chat-api', ConnectedSockets: 1, _aws: { CloudWatchMetrics: [{ Namespace: 'Chat', Dimensions: [['Service']] }] } });
      // Still running while the metadata says RUNNING, after it has been polled (every 2 s).
      const pollDeadline = Date.now() + 10000;
      while (polls === 0 && Date.now() < pollDeadline) await new Promise((r) => setTimeout(r, 100));
      expect(polls).toBeGreaterThan(0);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

      const draining = waitFor(socket, 'server:draining', () => true, 10000);
      desired = 'STOPPED';
      expect(await draining).toEqual({ reconnectInMs: expect.any(Number) });
      expect(await exited).toBe(0);
      socket.close();
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);
});
