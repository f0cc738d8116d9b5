// Real socket.io-client helpers: connect, request with ack, wait for events.
import { io, type Socket } from 'socket.io-client';

export type Client = Socket;

export interface ConnectOptions {
  transports?: Array<'websocket' | 'polling'>;
  headers?: Record<string, string>;
  auth?: Record<string, unknown>;
}

/** Connects with `auth: { token }` and resolves once connected (rejects on connect_error). */
export function connect(url: string, token: string | null, opts: ConnectOptions = {}): Promise<Client> {
  const socket = io(url, {
    auth: opts.auth ?? (token === null ? {} : { token }),
    transports: opts.transports ?? ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: opts.headers,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** Resolves with the connect_error a refused handshake produces. */
export function connectError(url: string, token: unknown, opts: ConnectOptions = {}): Promise<Error & { data?: { code: string; message: string } }> {
  const socket = io(url, {
    auth: opts.auth ?? { token },
    transports: opts.transports ?? ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: opts.headers,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.close();
      reject(new Error('handshake unexpectedly accepted'));
    });
    socket.once('connect_error', (err) => {
      socket.close();
      resolve(err as Error & { data?: { code: string; message: string } });
    });
  });
}

export interface Ack<T = any> {
  ok: boolean;
  data?: T;
  error?: { code: string; message: string; details?: any };
}

/**
 * Bounds for waits that only fail a broken test: generous, because the suite shares two
 * cores with everything else on the machine and an ack may well take seconds there.
 */
export const WAIT_MS = 20_000;

/** Emits a request and resolves with its ack (fails the test after WAIT_MS). */
export function request<T = any>(socket: Client, event: string, payload?: unknown, timeoutMs = WAIT_MS): Promise<Ack<T>> {
  return socket.timeout(timeoutMs).emitWithAck(event, payload);
}

/** Resolves with the next `event` whose payload passes `match`. */
export function waitFor<T = any>(socket: Client, event: string, match: (p: T) => boolean = () => true, timeoutMs = WAIT_MS): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, on);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    const on = (p: T) => {
      if (!match(p)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(p);
    };
    socket.on(event, on);
  });
}

/** Collects every `event` payload from now on. */
export function collect<T = any>(socket: Client, event: string): T[] {
  const items: T[] = [];
  socket.on(event, (p: T) => items.push(p));
  return items;
}

/** Resolves true if no `event` arrives within ms. */
export function noEvent(socket: Client, event: string, ms = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const on = () => {
      clearTimeout(timer);
      socket.off(event, on);
      resolve(false);
    };
    const timer = setTimeout(() => {
      socket.off(event, on);
      resolve(true);
    }, ms);
    socket.on(event, on);
  });
}

/**
 * "Nothing arrived" without a fixed wait: collects `event` on `socket` from now on; after the
 * action under test, the test causes a marker event that the server emits to this socket
 * after anything the action could have caused, and `before(marker)` resolves with what
 * arrived ahead of the marker (the marker excluded) once the marker is in.
 */
export function eventsUntil<T = any>(socket: Client, event: string) {
  const items: T[] = [];
  socket.on(event, (p: T) => items.push(p));
  return {
    items,
    async before(marker: (p: T) => boolean, timeoutMs = WAIT_MS): Promise<T[]> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = items.findIndex(marker);
        if (i >= 0) return items.slice(0, i);
        if (Date.now() > deadline) throw new Error(`no marker ${event} within ${timeoutMs} ms (got ${items.length} others)`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}
