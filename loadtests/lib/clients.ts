// Socket plumbing shared by the scenarios: one connection per simulated device
// and request/ack with a timeout that always settles.
import { io, type Socket } from 'socket.io-client';
import { now } from './clock';

export type ClientSocket = Socket;

export interface AckResult<T> {
  /** 'ok', the error code of an ok:false ack, 'timeout', or 'BAD_ACK'. */
  code: string;
  ms: number;
  data?: T;
  /** The server's `details.retryAfterMs` of a refusal (RATE_LIMITED, or UNAVAILABLE when it shed load). */
  retryAfterMs?: number;
}

type Envelope<T> = { ok: true; data: T } | { ok: false; error?: { code?: string; details?: { retryAfterMs?: unknown } } };

/** Emits a request and settles with its ack code and latency; never rejects. */
export function request<T>(socket: ClientSocket, event: string, payload: unknown, timeoutMs: number, startedAt = now()): Promise<AckResult<T>> {
  return new Promise((resolve) => {
    socket.timeout(timeoutMs).emit(event, payload, (err: Error | null, res: Envelope<T> | undefined) => {
      const ms = now() - startedAt;
      if (err) resolve({ code: 'timeout', ms });
      else if (res && res.ok === true) resolve({ code: 'ok', ms, data: res.data });
      else {
        const retry = res && res.ok === false ? res.error?.details?.retryAfterMs : undefined;
        resolve({ code: res && res.ok === false ? res.error?.code ?? 'BAD_ACK' : 'BAD_ACK', ms, ...(typeof retry === 'number' ? { retryAfterMs: retry } : {}) });
      }
    });
  });
}

export interface ConnectResult {
  socket: ClientSocket | null;
  /** 'ok', the handshake error message ('UNAUTHORIZED'...), or a transport error. */
  code: string;
  ms: number;
}

/** Opens one socket with its own connection (forceNew: no multiplexing) and no reconnection, so failures are counted, not hidden. */
export function openSocket(url: string, token: string, timeoutMs: number): Promise<ConnectResult> {
  const startedAt = now();
  return new Promise((resolve) => {
    const socket = io(url, {
      auth: { token },
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: timeoutMs,
    });
    // The manager's timeout covers the transport only; this one also bounds a server that never answers the handshake.
    const timer = setTimeout(() => settle('timeout'), timeoutMs + 1000);
    const settle = (code: string) => {
      clearTimeout(timer);
      socket.off('connect').off('connect_error');
      if (code !== 'ok') socket.close();
      resolve({ socket: code === 'ok' ? socket : null, code, ms: now() - startedAt });
    };
    socket.once('connect', () => settle('ok'));
    socket.once('connect_error', (err: Error) => settle(err.message || 'connect_error'));
  });
}
