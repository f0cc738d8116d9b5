// Socket.IO server setup: limits, CORS, handshake auth and per-socket wiring.
import type http from 'node:http';
import { Server } from 'socket.io';
import type { Config } from '../config';
import type { TokenService } from '../domain/auth/token.service';
import type { Metrics } from '../http/metrics';
import type { Logger } from '../logger';
import { toErrorBody } from '../errors';
import { authMiddleware, handshakeError } from './auth.middleware';
import { attachHandlers, type SocketHandler } from './define-handler';
import { userChannel } from './room-names';
import { clearExpiry, scheduleExpiry } from './session';
import type { AppServer, AppSocket } from './types';

export const MAX_PAYLOAD_BYTES = 64 * 1024;

export interface ConnectionHooks {
  /**
   * Runs as handshake middleware after auth, so the socket is subscribed to its
   * rooms before the client sees `connect`; a failure refuses the handshake.
   */
  onConnect?(socket: AppSocket, log: Logger): Promise<void>;
  /** Runs once the socket is connected (paired with onDisconnect). */
  afterConnect?(socket: AppSocket, log: Logger): void;
  onDisconnect?(socket: AppSocket, log: Logger): void;
}

export interface IoDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  tokens: TokenService;
  handlers: SocketHandler[];
  hooks: ConnectionHooks[];
  extraMiddleware?: Array<(socket: AppSocket, next: (err?: Error) => void) => void>;
}

export function createIo(httpServer: http.Server, deps: IoDeps): AppServer {
  const { config } = deps;
  const io: AppServer = new Server(httpServer, {
    maxHttpBufferSize: MAX_PAYLOAD_BYTES,
    perMessageDeflate: false,
    httpCompression: false,
    cors: { origin: config.corsOrigins === '*' ? true : config.corsOrigins, credentials: true },
    serveClient: false,
  });
  io.use(authMiddleware(deps.tokens));
  for (const mw of deps.extraMiddleware ?? []) io.use(mw);
  io.use((socket, next) => {
    const log = deps.log.child({ socketId: socket.id, userId: socket.data.userId });
    void (async () => {
      await socket.join(userChannel(socket.data.userId));
      for (const hook of deps.hooks) await hook.onConnect?.(socket, log);
    })().then(
      () => next(),
      (err: unknown) => {
        const body = toErrorBody(err, log);
        next(handshakeError(body.code, body.message));
      },
    );
  });

  io.on('connection', (socket) => {
    const log = deps.log.child({ socketId: socket.id, userId: socket.data.userId });
    deps.metrics.connectedSockets.inc();
    scheduleExpiry(socket);
    attachHandlers(socket, deps.handlers, deps.metrics, log);
    socket.on('disconnect', (reason) => {
      deps.metrics.connectedSockets.dec();
      clearExpiry(socket);
      log.debug({ reason }, 'socket disconnected');
      for (const hook of deps.hooks) hook.onDisconnect?.(socket, log);
    });
    for (const hook of deps.hooks) hook.afterConnect?.(socket, log);
    log.debug('socket connected');
  });
  return io;
}
