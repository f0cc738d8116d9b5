// The socket layer's abuse and session guards, built once per app: connection limits and
// revocation in the handshake; the slow-consumer bound, revocation re-check and answers to
// unknown events on every connected socket.
import type { Deps } from '../app';
import type { Revocation } from '../domain/auth/revocation';
import type { ConnectionHooks } from './create-io';
import { createConnectionLimiter, type ConnectionLimiter } from './connection-limits';
import type { SocketHandler } from './define-handler';
import { createSessionRevoker } from './session-revocation';
import { createSlowConsumerGuard } from './slow-consumer';
import type { AppServer, AppSocket } from './types';
import { unknownEventAnswerer } from './unknown-events';

export interface SocketGuards {
  /** For createIo's extraMiddleware (they run after authentication). */
  middleware: Array<(socket: AppSocket, next: (err?: Error) => void) => void>;
  hooks: ConnectionHooks;
  connections: ConnectionLimiter;
  attach(io: AppServer): void;
  close(): void;
}

export function createSocketGuards(deps: Pick<Deps, 'config' | 'log' | 'metrics' | 'redis'>, revocation: Revocation, handlers: SocketHandler[]): SocketGuards {
  const { config, log } = deps;
  const connections = createConnectionLimiter({
    redis: deps.redis,
    nodeId: config.nodeId,
    maxPerUser: config.limits.connectionsPerUser,
    maxPerIp: config.limits.connectionsPerIp,
    leaseMs: config.abuse.connectionLeaseMs,
    trustProxyHops: config.abuse.trustProxyHops,
    log,
    registry: deps.metrics.registry,
    keyPrefix: `${config.redisKeyPrefix}chat:conn`,
  });
  const revoker = createSessionRevoker(revocation, log);
  const slow = createSlowConsumerGuard({
    maxBufferBytes: config.abuse.maxSocketBufferBytes,
    dropVolatileBytes: config.abuse.dropVolatileBytes,
    log,
    registry: deps.metrics.registry,
  });
  const answerUnknownEvents = unknownEventAnswerer(new Set<string>(handlers.map((h) => h.event)));
  return {
    middleware: [connections.middleware],
    hooks: {
      afterConnect(socket) {
        slow.watch(socket);
        answerUnknownEvents(socket);
        revoker.afterConnect(socket);
      },
    },
    connections,
    attach: (io) => revoker.attach(io),
    close: () => connections.close(),
  };
}
