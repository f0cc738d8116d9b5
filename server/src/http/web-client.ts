// Serves the built browser client (client/web, `npm run build:client`) at `/` when
// WEB_CLIENT is on; until it is built, `/` says how to build it.
import express, { Router } from 'express';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger';

export function webClientRouter(dir: string, log: Logger): Router {
  const router = Router();
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    log.warn({ dir }, 'web client enabled but not built (npm run build:client)');
    router.get('/', (_req, res) => {
      res.status(404).type('text/plain').send('The web client is not built: run `npm run build:client`, then restart the server.\n');
    });
    return router;
  }
  // Vite names assets by content hash: they can be cached for good, index.html never.
  router.use('/assets', express.static(path.join(dir, 'assets'), { immutable: true, maxAge: '365d' }));
  router.use(express.static(dir, { index: 'index.html', setHeaders: (res) => res.setHeader('cache-control', 'no-cache') }));
  return router;
}
