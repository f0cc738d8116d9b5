// Liveness, readiness and metrics for the load balancer and Prometheus.
import { Router } from 'express';
import crypto from 'node:crypto';
import type { Metrics } from './metrics';

export interface HealthDeps {
  metrics: Metrics;
  metricsToken: string | null;
  isDraining(): boolean;
  /** Each named dependency answers true when healthy. */
  checks: Record<string, () => Promise<boolean>>;
  /** True while the node refuses much of its load (overload/admission.ts): not ready then. */
  isShedding?(): boolean;
}

function tokenMatches(header: string | undefined, expected: string): boolean {
  const given = Buffer.from(header ?? '');
  const want = Buffer.from(`Bearer ${expected}`);
  return given.length === want.length && crypto.timingSafeEqual(given, want);
}

export function healthRouter(deps: HealthDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const names = Object.keys(deps.checks);
    const results = await Promise.all(names.map((n) => deps.checks[n]().catch(() => false)));
    const checks = Object.fromEntries(names.map((n, i) => [n, results[i] ? 'ok' : 'down']));
    const draining = deps.isDraining();
    const shedding = deps.isShedding?.() ?? false;
    const ready = !draining && !shedding && results.every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : draining ? 'draining' : 'unavailable', checks, load: shedding ? 'shedding' : 'ok' });
  });
  router.get('/metrics', async (req, res) => {
    if (deps.metricsToken && !tokenMatches(req.header('authorization'), deps.metricsToken)) {
      res.status(401).json({ error: { code: 'UNAUTHORIZED', message: 'metrics token required' } });
      return;
    }
    res.setHeader('content-type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  return router;
}
