// Answers a request for an event this server does not know, so a client waiting on its ack
// is told (NOT_FOUND, like an unknown REST route) instead of timing out. Without an ack
// callback there is no one to tell, and nothing happens.
import type { AckResponse } from '../contracts/ack';
import type { AppSocket } from './types';

/** Builds once per server the catch-all listener (shared by every socket) and returns its installer. */
export function unknownEventAnswerer(known: ReadonlySet<string>): (socket: AppSocket) => void {
  function answer(event: unknown, ...args: unknown[]): void {
    if (typeof event === 'string' && known.has(event)) return;
    const ack = args[args.length - 1];
    if (typeof ack !== 'function') return;
    const name = String(event).slice(0, 64);
    const response: AckResponse = { ok: false, error: { code: 'NOT_FOUND', message: `unknown event ${JSON.stringify(name)}` } };
    (ack as (r: AckResponse) => void)(response);
  }
  return (socket) => {
    socket.onAny(answer);
  };
}
