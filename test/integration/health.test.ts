import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/src/app';
import { loadConfig } from '../../server/src/config';
import { startDevdb } from '../../server/src/data/devdb';
import { createLogger } from '../../server/src/logger';
import { startTestApp, testEnv, type TestApp } from '../helpers/app';
import { freePort } from '../helpers/ports';

describe('health, readiness, metrics and the HTTP error model', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('healthz and readyz answer 200', async () => {
    const h = await fetch(`${t.url}/healthz`);
    expect(h.status).toBe(200);
    expect((await h.json()) as any).toEqual({ status: 'ok' });
    const r = await fetch(`${t.url}/readyz`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as any).checks).toEqual({ mongodb: 'ok' });
  });

  it('carries x-request-id in and out', async () => {
    const res = await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    const other = await fetch(`${t.url}/healthz`);
    expect(other.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves Prometheus metrics with the socket metrics', async () => {
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).toContain('chat_connected_sockets');
    expect(text).toContain('chat_ack_latency_seconds');
  });

  it('answers unknown routes, bad JSON and oversize bodies with the error model', async () => {
    const nf = await fetch(`${t.url}/nope`);
    expect(nf.status).toBe(404);
    expect(((await nf.json()) as any).error.code).toBe('NOT_FOUND');
    const bad = await fetch(`${t.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.code).toBe('VALIDATION_FAILED');
    const big = await fetch(`${t.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'a', password: 'x'.repeat(70 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as any).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('sets security headers (helmet)', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('protects /metrics with METRICS_TOKEN when set', async () => {
    const t2 = await startTestApp({ METRICS_TOKEN: 'metrics-secret-1' });
    try {
      expect((await fetch(`${t2.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${t2.url}/metrics`, { headers: { authorization: 'Bearer metrics-secret-1' } })).status).toBe(200);
    } finally {
      await t2.close();
    }
  });
});

describe('readiness follows the database', () => {
  it('turns 503 when the database stops, 503 while draining', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-readyz-'));
    const db = await startDevdb({ port: await freePort(), dir, backend: 'sqlite', stdio: 'ignore' });
    const config = loadConfig(testEnv({ MONGODB_URI: db.uri }));
    const app = await createApp(config, { log: createLogger('silent') });
    const port = await app.listen();
    try {
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      await db.stop();
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as any).checks.mongodb).toBe('down');
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      await app.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports redis when configured, and 503 while draining', async () => {
    const t = await startTestApp({ REDIS_URL: 'redis://127.0.0.1:6379' });
    try {
      const ok = await fetch(`${t.url}/readyz`);
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as any).checks).toEqual({ mongodb: 'ok', redis: 'ok' });
      t.app.startDraining();
      const res = await fetch(`${t.url}/readyz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as any).status).toBe('draining');
    } finally {
      await t.close();
    }
  });
});
