// Socket.IO server setup: the server with its limits and CORS (made first, so that the
// emitter and the cluster adapter can be built on it), then handshake auth and per-socket
// wiring once the handlers exist.
import type http from 'node:http';
import { Server } from 'socket.io';
import type { Config } from '../config';
import type { TokenService } from '../domain/auth/token.service';
import type { Metrics } from '../http/metrics';
import type { Logger } from '../logger';
import { toErrorBody } from '../errors';
import { authMiddleware, handshakeError } from './auth.middleware';
import { socketHandlers, type SocketHandler } from './define-handler';
import type { Admission } from '../overload/admission';
import { userChannel } from './room-names';
import { clearExpiry, scheduleExpiry } from './session';
import type { AppServer, AppSocket } from './types';

export const MAX_PAYLOAD_BYTES = 64 * 1024;

/**
 * The socket's child logger (socketId, userId), made when called: an idle socket holds no
 * logger of its own, and a handshake that logs nothing builds none.
 */
export type SocketLog = () => Logger;

export interface ConnectionHooks {
  /**
   * Runs as handshake middleware after auth, so the socket is subscribed to its
   * rooms before the client sees `connect`; a failure refuses the handshake.
   */
  onConnect?(socket: AppSocket, log: SocketLog): Promise<void>;
  /** Runs once the socket is connected (paired with onDisconnect). */
  afterConnect?(socket: AppSocket, log: SocketLog): void;
  onDisconnect?(socket: AppSocket, log: SocketLog): void;
}

export interface IoDeps {
  log: Logger;
  metrics: Metrics;
  tokens: TokenService;
  handlers: SocketHandler[];
  hooks: ConnectionHooks[];
  extraMiddleware?: Array<(socket: AppSocket, next: (err?: Error) => void) => void>;
  /** Bounds on the work the node holds (overload/admission.ts). */
  admission?: Admission;
}

/** The io server on the HTTP server; it serves no socket until serveSockets(). */
export function createIoServer(httpServer: http.Server, config: Pick<Config, 'corsOrigins'>): AppServer {
  return new Server(httpServer, {
    maxHttpBufferSize: MAX_PAYLOAD_BYTES,
    perMessageDeflate: false,
    httpCompression: false,
    cors: { origin: config.corsOrigins === '*' ? true : config.corsOrigins, credentials: true },
    serveClient: false,
  });
}

/** Handshake middleware (auth, then extraMiddleware, then hooks' onConnect) and the per-socket wiring. */
export function serveSockets(io: AppServer, deps: IoDeps): void {
  io.use(authMiddleware(deps.tokens));
  for (const mw of deps.extraMiddleware ?? []) io.use(mw);
  const socketLog = (socket: AppSocket): Logger => deps.log.child({ socketId: socket.id, userId: socket.data.userId });
  const debug = deps.log.isLevelEnabled('debug');
  io.use((socket, next) => {
    const log: SocketLog = () => socketLog(socket);
    void (async () => {
      await socket.join(userChannel(socket.data.userId));
      for (const hook of deps.hooks) await hook.onConnect?.(socket, log);
    })().then(
      () => next(),
      (err: unknown) => {
        const body = toErrorBody(err, log());
        next(handshakeError(body.code, body.message));
      },
    );
  });

  const attachHandlers = socketHandlers(deps.handlers, deps.metrics, socketLog, deps.admission);
  // Shared by every socket (`this` is the socket): a connected socket holds no closure for it.
  function onDisconnect(this: AppSocket, reason: string): void {
    disconnected(this, reason);
  }
  function disconnected(socket: AppSocket, reason: string): void {
    deps.metrics.connectedSockets.dec();
    clearExpiry(socket);
    const log: SocketLog = () => socketLog(socket);
    if (debug) log().debug({ reason }, 'socket disconnected');
    for (const hook of deps.hooks) hook.onDisconnect?.(socket, log);
  }

  io.on('connection', (socket) => {
    deps.metrics.connectedSockets.inc();
    scheduleExpiry(socket);
    attachHandlers(socket);
    socket.on('disconnect', onDisconnect);
    const log: SocketLog = () => socketLog(socket);
    for (const hook of deps.hooks) hook.afterConnect?.(socket, log);
    if (debug) log().debug('socket connected');
  });
}
