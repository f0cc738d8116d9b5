// pm2: the API as several processes on one port, the workers as a separate app.
//
// The API runs in pm2 cluster mode: pm2's primary owns PORT and hands each TCP
// connection to any worker. Long-polling clients still work because every worker
// forwards a request carrying another worker's session id to that worker
// (SESSION_FORWARDING, server/src/cluster/session-forwarding.ts); WebSocket clients
// stay on the worker that accepted them. Needs REDIS_URL (adapter, presence, and the
// registry of workers' private ports). `pm2 reload chat-api` is a rolling restart:
// each new worker reports `ready` (wait_ready) before its predecessor gets SIGINT and
// drains (SHUTDOWN_GRACE_MS), and the port never closes. See docs/operations.md.
const shutdownGraceMs = Number(process.env.SHUTDOWN_GRACE_MS || 10000);

module.exports = {
  apps: [
    {
      name: 'chat-api',
      script: 'dist/server/src/main.js',
      exec_mode: 'cluster',
      instances: process.env.API_INSTANCES || 'max',
      wait_ready: true,
      listen_timeout: 30000,
      // The process force-quits at grace + 5 s; pm2 must not SIGKILL it before that.
      kill_timeout: shutdownGraceMs + 10000,
      env: { NODE_ENV: 'production', SESSION_FORWARDING: 'true' },
    },
    {
      name: 'chat-workers',
      script: 'dist/workers/src/main.js',
      instances: 1,
      exec_mode: 'fork',
      kill_timeout: 15000,
      // More instances each serve /metrics on the next port (9464, 9465, …).
      increment_var: 'WORKERS_METRICS_PORT',
      env: { NODE_ENV: 'production', WORKERS_METRICS_PORT: 9464 },
    },
  ],
};
