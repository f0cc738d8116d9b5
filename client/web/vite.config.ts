// Builds the browser client into client/web/dist, which the server serves at `/`.
import path from 'node:path';
import { defineConfig } from 'vite';

const here = path.dirname(new URL(import.meta.url).pathname);

export default defineConfig({
  root: here,
  base: '/',
  logLevel: 'warn',
  build: { outDir: path.join(here, 'dist'), emptyOutDir: true, target: 'es2020', sourcemap: true },
  // `vite --config client/web/vite.config.ts` during development: the API and sockets stay on the server.
  server: { proxy: { '/api': 'http://127.0.0.1:3000', '/socket.io': { target: 'ws://127.0.0.1:3000', ws: true } } },
});
