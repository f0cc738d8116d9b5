// Sticky sessions for pm2 cluster mode. pm2's primary hands each TCP connection to any
// worker, but an Engine.IO long-polling session lives in the one process that created
// it. So each worker also listens on a private loopback port, writes that port into
// the session ids it creates, and forwards a request (or WebSocket upgrade) carrying
// another worker's session id to that worker's port. Only ports registered in Redis
// by live workers of this host are forwarded to: a crafted sid cannot open a tunnel
// to an arbitrary local port.
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import type { Duplex } from 'node:stream';
import type Redis from 'ioredis';
import type { Logger } from '../logger';
import type { AppServer } from '../socket/types';

export interface SessionForwardingOptions {
  io: AppServer;
  server: http.Server;
  redis: Redis;
  keyPrefix: string;
  /** How long a registration lives without a refresh. */
  ttlMs: number;
  log: Logger;
}

export interface SessionForwarding {
  /** This worker's private port. */
  readonly port: number;
  close(): Promise<void>;
}

type RequestListener = (req: http.IncomingMessage, res: http.ServerResponse) => void;
type UpgradeListener = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

const SID_RE = /[?&]sid=([^&]+)/;

/** Engine.IO's own answer to an unknown session: the client reconnects. */
function unknownSession(res: http.ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(400, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ code: 1, message: 'Session ID unknown' }));
}

export async function startSessionForwarding(opts: SessionForwardingOptions): Promise<SessionForwarding> {
  const { io, server, redis, log } = opts;
  const registryKey = (port: number) => `${opts.keyPrefix}forward:${os.hostname()}:${port}`;
  const ioPath = `${io.path()}/`;
  const agent = new http.Agent({ keepAlive: true });

  // The private listener feeds the public server's own handlers; `exclusive` gives this
  // worker its own port instead of sharing one through the cluster primary.
  const internal = http.createServer();
  internal.on('request', (req, res) => server.emit('request', req, res));
  internal.on('upgrade', (req, socket, head) => server.emit('upgrade', req, socket, head));
  await new Promise<void>((resolve, reject) => {
    internal.once('error', reject);
    internal.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve());
  });
  const port = (internal.address() as net.AddressInfo).port;
  const tag = port.toString(36);
  io.engine.generateId = () => `${tag}.${crypto.randomBytes(15).toString('base64url')}`;

  const register = () => redis.set(registryKey(port), '1', 'PX', opts.ttlMs);
  await register().catch((err: unknown) => log.warn({ err }, 'session forwarding: registration failed'));
  const refresher = setInterval(() => void register().catch(() => undefined), Math.max(250, Math.floor(opts.ttlMs / 3)));
  refresher.unref();

  const verified = new Map<number, number>();
  async function isPeer(peerPort: number): Promise<boolean> {
    if ((verified.get(peerPort) ?? 0) > Date.now()) return true;
    const ok = (await redis.exists(registryKey(peerPort)).catch(() => 0)) === 1;
    if (ok) verified.set(peerPort, Date.now() + opts.ttlMs / 2);
    else verified.delete(peerPort);
    return ok;
  }

  /** The peer port a request must go to, or null when it is ours (or not a session request). */
  function peerPortOf(req: http.IncomingMessage): number | null {
    if (!req.url?.startsWith(ioPath)) return null;
    const match = SID_RE.exec(req.url);
    if (!match) return null;
    const sid = decodeURIComponent(match[1]);
    const dot = sid.indexOf('.');
    if (dot <= 0) return null;
    const peer = parseInt(sid.slice(0, dot), 36);
    if (!Number.isInteger(peer) || peer <= 0 || peer > 65535 || peer === port) return null;
    return peer;
  }

  const forwardedFor = (req: http.IncomingMessage) =>
    [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');

  function forwardRequest(peer: number, req: http.IncomingMessage, res: http.ServerResponse): void {
    const upstream = http.request(
      { host: '127.0.0.1', port: peer, method: req.method, path: req.url, headers: { ...req.headers, 'x-forwarded-for': forwardedFor(req) }, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => unknownSession(res));
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  function forwardUpgrade(peer: number, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const upstream = net.connect(peer, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        if (req.rawHeaders[i].toLowerCase() !== 'x-forwarded-for') lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      }
      lines.push(`X-Forwarded-For: ${forwardedFor(req)}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
  }

  // Wrap the handlers Engine.IO installed, as Engine.IO itself wraps Express's.
  const requestListeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const peer = peerPortOf(req);
    if (peer === null) {
      for (const l of requestListeners) l.call(server, req, res);
      return;
    }
    void isPeer(peer).then((ok) => (ok ? forwardRequest(peer, req, res) : unknownSession(res)));
  });
  const upgradeListeners = server.listeners('upgrade') as UpgradeListener[];
  server.removeAllListeners('upgrade');
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const peer = peerPortOf(req);
    if (peer === null) {
      for (const l of upgradeListeners) l.call(server, req, socket, head);
      return;
    }
    void isPeer(peer).then((ok) => (ok ? forwardUpgrade(peer, req, socket, head) : socket.destroy()));
  });
  log.info({ port }, 'session forwarding: listening on a private port');

  return {
    port,
    async close() {
      clearInterval(refresher);
      await redis.del(registryKey(port)).catch(() => undefined);
      agent.destroy();
      await new Promise<void>((resolve) => {
        internal.close(() => resolve());
        internal.closeAllConnections();
      });
    },
  };
}
