// Graceful drain of one node: refuse new handshakes, close the listener, tell each
// client when to reconnect, close connections spread over part of the grace period
// (so peers are not hit by every reconnect at once), each once its requests are
// answered, then wait until every request still being handled is done (also those whose
// client left), so that MongoDB and Redis close under no handler.
import type http from 'node:http';
import net from 'node:net';
import type { Logger } from '../logger';
import type { AppServer, AppSocket } from '../socket/types';

/** At most this many reconnects per second are asked of the clients of a draining node... */
const RECONNECTS_PER_SECOND = 200;
/** ...within this share of the grace period; the rest is for requests in flight. */
const SPREAD_SHARE = 0.5;
/** Connections still open at this share of the grace period are closed regardless. */
const HARD_STOP_SHARE = 0.8;

export interface InflightTracker {
  /** Counts socket requests (until acked) and REST requests (until answered). */
  attach(io: AppServer, server: http.Server): void;
  pending(socket: AppSocket): number;
  /** Resolves once `socket` has no request waiting for its ack (or is disconnected). */
  idle(socket: AppSocket): Promise<void>;
  /** Requests being handled: socket requests until their handler acks, REST requests until their handler ends the response, whether or not the client is still there. */
  running(): number;
  /** Resolves once running() is 0. */
  settled(): Promise<void>;
  /**
   * From now on every HTTP response closes its connection: server.close() alone leaves a
   * kept-alive connection open until its idle timeout once its last request is answered.
   */
  closeConnectionsAfterResponses(): void;
}

export function createInflightTracker(): InflightTracker {
  const perSocket = new WeakMap<AppSocket, { count: number; waiters: Array<() => void> }>();
  // A client that leaves does not stop its handler: that work is counted until it is done.
  let running = 0;
  const settledWaiters: Array<() => void> = [];
  const finished = () => {
    running -= 1;
    if (running === 0) settledWaiters.splice(0).forEach((w) => w());
  };
  const open = new Set<http.ServerResponse>();
  let closing = false;
  const markClose = (res: http.ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  };

  const done = (socket: AppSocket) => {
    const s = perSocket.get(socket);
    if (!s) return;
    s.count -= 1;
    if (s.count === 0) s.waiters.splice(0).forEach((w) => w());
  };

  return {
    attach(io, server) {
      io.on('connection', (socket) => {
        perSocket.set(socket, { count: 0, waiters: [] });
        socket.use((packet, next) => {
          const last = packet.length - 1;
          const ack = packet[last];
          if (typeof ack === 'function') {
            perSocket.get(socket)!.count += 1;
            running += 1;
            let answered = false;
            packet[last] = (...args: unknown[]) => {
              if (!answered) {
                done(socket);
                finished();
              }
              answered = true;
              (ack as (...a: unknown[]) => void)(...args);
            };
          }
          next();
        });
        // A disconnected socket's acks go nowhere: do not wait for them.
        socket.on('disconnect', () => perSocket.get(socket)?.waiters.splice(0).forEach((w) => w()));
      });
      const ioPath = `${io.path()}/`;
      server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
        if (closing) markClose(res);
        open.add(res);
        res.once('close', () => open.delete(res));
        if (req.url?.startsWith(ioPath)) return; // long-polls are not requests to finish
        // Done when the handler ends the response: 'finish' never comes if the client left first.
        running += 1;
        const end = res.end;
        let ended = false;
        res.end = function (this: http.ServerResponse, ...args: unknown[]) {
          if (!ended) {
            ended = true;
            finished();
          }
          return (end as (...a: unknown[]) => http.ServerResponse).apply(this, args);
        } as typeof res.end;
      });
    },
    pending: (socket) => perSocket.get(socket)?.count ?? 0,
    idle(socket) {
      const s = perSocket.get(socket);
      if (!s || s.count === 0 || socket.disconnected) return Promise.resolve();
      return new Promise((resolve) => s.waiters.push(resolve));
    },
    running: () => running,
    settled() {
      if (running === 0) return Promise.resolve();
      return new Promise((resolve) => settledWaiters.push(resolve));
    },
    closeConnectionsAfterResponses() {
      closing = true;
      open.forEach(markClose);
    },
  };
}

export interface DrainOptions {
  io: AppServer;
  server: http.Server;
  inflight: InflightTracker;
  graceMs: number;
  log: Logger;
  /** Called first: new handshakes are refused from then on. */
  stopAccepting(): void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function until(deadline: number, p: Promise<void>): Promise<void> {
  return Promise.race([p, sleep(Math.max(0, deadline - Date.now()))]);
}

export async function drainNode({ io, server, inflight, graceMs, log, stopAccepting }: DrainOptions): Promise<void> {
  const started = Date.now();
  stopAccepting();
  // No new TCP connections (in pm2 cluster mode the primary stops routing to us). net's
  // close, not http's: http's also drops idle kept-alive connections at once, and a client
  // sending on one at that instant gets ECONNRESET. Instead each connection closes after
  // its next response; whatever stays idle is closed at the end.
  const closed = server.listening ? new Promise<void>((resolve) => server.once('close', () => resolve())) : Promise.resolve();
  if (server.listening) net.Server.prototype.close.call(server);
  inflight.closeConnectionsAfterResponses();
  const sockets = [...io.of('/').sockets.values()];
  const spreadMs = Math.min(graceMs * SPREAD_SHARE, (sockets.length / RECONNECTS_PER_SECOND) * 1000);
  const hardStop = started + graceMs * HARD_STOP_SHARE;
  log.info({ sockets: sockets.length, spreadMs: Math.round(spreadMs), graceMs }, 'draining');

  await Promise.all(
    sockets.map(async (socket, i) => {
      const at = sockets.length > 1 ? Math.round((spreadMs * i) / (sockets.length - 1)) : 0;
      socket.emit('server:draining', { reconnectInMs: at });
      await sleep(at);
      await until(hardStop, inflight.idle(socket));
      if (socket.connected && inflight.pending(socket) > 0) log.warn({ socketId: socket.id, pending: inflight.pending(socket) }, 'closing a draining socket with requests in flight');
      // Closing the transport (not socket.disconnect()) makes stock clients reconnect by
      // themselves ("transport close"); buffered packets are flushed first.
      if (socket.connected) socket.conn.close();
    }),
  );
  // Sockets whose handshake was under way when the drain began: after this, no request can
  // arrive until the caller closes io (new handshakes are refused).
  const drained = new Set(sockets);
  for (const socket of io.of('/').sockets.values()) {
    if (drained.has(socket)) continue;
    socket.emit('server:draining', { reconnectInMs: 0 });
    socket.conn.close();
  }
  // Handlers still running (REST requests; socket requests of clients that left or were cut
  // off above) finish before the caller closes MongoDB and Redis under them.
  if (inflight.running() > 0) log.info({ requests: inflight.running() }, 'waiting for requests in flight');
  await until(started + graceMs, inflight.settled());
  if (inflight.running() > 0) log.warn({ requests: inflight.running() }, 'grace period over with requests still in flight');
  // Kept-alive connections close after their next response; wait for them (net emits
  // 'close' once none is left) so that only connections idle for the whole grace period
  // are cut, which a client is least likely to be sending on.
  await until(started + graceMs, closed);
  server.closeIdleConnections();
  log.info({ ms: Date.now() - started }, 'drained');
}
