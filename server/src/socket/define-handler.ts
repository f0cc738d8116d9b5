// The one wrapper for every socket request handler: it checks the ack callback,
// validates the payload, calls the service and turns any error into the ack envelope.
import type { AckCallback, AckResponse } from '../contracts/ack';
import type { ClientCommand } from '../contracts/events';
import type { Validator } from '../contracts/validate';
import { toErrorBody } from '../errors';
import type { Metrics } from '../http/metrics';
import type { Logger } from '../logger';
import type { AppSocket } from './types';

export interface HandlerContext {
  userId: string;
  socket: AppSocket;
  log: Logger;
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

/** Registers handlers on a connected socket, with metrics and per-request logs. */
export function attachHandlers(socket: AppSocket, handlers: SocketHandler[], metrics: Metrics, log: Logger): void {
  for (const h of handlers) {
    socket.on(h.event, (...args: unknown[]) => {
      // A client may emit with only a callback: then the callback is the first argument.
      let payload = args[0];
      let ack = args[1] as AckCallback | undefined;
      if (typeof payload === 'function' && args.length === 1) {
        ack = payload as AckCallback;
        payload = undefined;
      }
      if (typeof ack !== 'function') {
        if (!h.ackOptional) {
          metrics.eventsHandled.inc({ event: h.event, outcome: 'NO_ACK' });
          log.debug({ event: h.event }, 'request without ack callback dropped');
          return;
        }
        ack = undefined;
      }
      const started = process.hrtime.bigint();
      const ctx: HandlerContext = { userId: socket.data.userId, socket, log };
      void Promise.resolve()
        .then(() => h.run(ctx, payload))
        .then(
          (data): AckResponse => ({ ok: true, data: data ?? {} }),
          (err: unknown): AckResponse => ({ ok: false, error: toErrorBody(err, log.child({ event: h.event })) }),
        )
        .then((response) => {
          const outcome = response.ok ? 'ok' : response.error.code;
          metrics.eventsHandled.inc({ event: h.event, outcome });
          metrics.ackLatency.observe({ event: h.event, outcome }, Number(process.hrtime.bigint() - started) / 1e9);
          if (!response.ok && response.error.code !== 'INTERNAL') log.debug({ event: h.event, code: response.error.code }, 'request refused');
          ack?.(response);
        });
    });
  }
}
