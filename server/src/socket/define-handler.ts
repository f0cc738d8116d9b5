// The one wrapper for every socket request handler: it checks the ack callback,
// validates the payload, calls the service and turns any error into the ack envelope.
import type { AckCallback, AckResponse } from '../contracts/ack';
import type { ClientCommand } from '../contracts/events';
import type { Validator } from '../contracts/validate';
import { toErrorBody } from '../errors';
import type { Metrics } from '../http/metrics';
import type { Logger } from '../logger';
import type { Admission } from '../overload/admission';
import { isShed } from '../overload/budget';
import type { AppSocket } from './types';

export interface HandlerContext {
  userId: string;
  socket: AppSocket;
  /** The socket's child logger, made on first use (most requests never log). */
  readonly log: Logger;
}

export interface SocketHandler {
  event: ClientCommand;
  /** typing:* may be sent without an ack callback. */
  ackOptional: boolean;
  run(ctx: HandlerContext, payload: unknown): Promise<unknown>;
}

/** Declares a handler: its validator runs before `handle`, which gets the typed payload. */
export function defineHandler<P>(
  event: ClientCommand,
  validate: Validator<P>,
  handle: (ctx: HandlerContext, payload: P) => Promise<unknown>,
  opts: { ackOptional?: boolean } = {},
): SocketHandler {
  return {
    event,
    ackOptional: opts.ackOptional ?? false,
    // async so a synchronous validation throw becomes a rejection, never an uncaught exception.
    run: async (ctx, payload) => handle(ctx, validate(payload === undefined ? {} : payload)),
  };
}

/**
 * Requests that never touch the database: admitted whatever its load (their own limits apply).
 * A delivery receipt writes Redis (or memory) only; like typing it reads a membership only on
 * a cache miss.
 */
const NO_DB = new Set<string>(['typing:start', 'typing:stop', 'auth:refresh', 'message:delivered']);

/**
 * Builds, once per server, one listener per event shared by every socket (Socket.IO calls
 * an event listener with `this` = the socket), so a connected socket holds no closure per
 * event; returns what registers them on a socket. `socketLog` makes a socket's child logger.
 * `admission` (when given) bounds the acks a socket waits for and the node's database load,
 * and gives each request its time budget.
 */
export function socketHandlers(
  handlers: SocketHandler[],
  metrics: Metrics,
  socketLog: (socket: AppSocket) => Logger,
  admission?: Admission,
): (socket: AppSocket) => void {
  const listeners = handlers.map((h) => {
    const handle = (socket: AppSocket, args: unknown[]): void => {
      // A client may emit with only a callback: then the callback is the first argument.
      let payload = args[0];
      let ack = args[1] as AckCallback | undefined;
      if (typeof payload === 'function' && args.length === 1) {
        ack = payload as AckCallback;
        payload = undefined;
      }
      let log: Logger | null = null;
      const ctx: HandlerContext = {
        userId: socket.data.userId,
        socket,
        get log() {
          return (log ??= socketLog(socket));
        },
      };
      if (typeof ack !== 'function') {
        if (!h.ackOptional) {
          metrics.eventsHandled.inc({ event: h.event, outcome: 'NO_ACK' });
          ctx.log.debug({ event: h.event }, 'request without ack callback dropped');
          return;
        }
        ack = undefined;
      }
      const started = process.hrtime.bigint();
      let release: ((shedLater: boolean) => void) | null = null;
      void Promise.resolve()
        .then(() => {
          if (!admission) return h.run(ctx, payload);
          release = admission.enter(socket, !NO_DB.has(h.event));
          return admission.withBudget(() => h.run(ctx, payload));
        })
        .then(
          (data): AckResponse => ({ ok: true, data: data ?? {} }),
          // A shed request is routine under load: answered without a log line (metrics count it).
          (err: unknown): AckResponse =>
            isShed(err) ? { ok: false, error: { code: err.code, message: err.message, details: err.details } } : { ok: false, error: toErrorBody(err, ctx.log.child({ event: h.event })) },
        )
        .then((response) => {
          (release as ((shedLater: boolean) => void) | null)?.(!response.ok && (response.error.details as { reason?: unknown } | undefined)?.reason !== undefined);
          const outcome = response.ok ? 'ok' : response.error.code;
          metrics.eventsHandled.inc({ event: h.event, outcome });
          metrics.ackLatency.observe({ event: h.event, outcome }, Number(process.hrtime.bigint() - started) / 1e9);
          if (!response.ok && response.error.code !== 'INTERNAL' && ctx.log.isLevelEnabled('debug')) {
            ctx.log.debug({ event: h.event, code: response.error.code }, 'request refused');
          }
          ack?.(response);
        });
    };
    function listener(this: AppSocket, ...args: unknown[]): void {
      handle(this, args);
    }
    return { event: h.event, listener };
  });
  return (socket) => {
    for (const { event, listener } of listeners) socket.on(event, listener as never);
  };
}
