// Bounds what a socket that stops reading can make this node hold. Output waits in two
// places: engine.io's write buffer (packets not yet handed to the transport) and, for
// WebSocket, ws's bufferedAmount (handed over, not yet taken by the kernel). Above
// `dropVolatileBytes` the droppable events (emitted with the `volatile` flag: typing and
// presence) are not queued for that socket; a packet that arrives while more than
// `maxBufferBytes` wait gets the socket cut off (so it holds at most the cap plus two packets).
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../logger';
import type { AppSocket } from './types';

export interface SlowConsumerOptions {
  maxBufferBytes: number;
  dropVolatileBytes: number;
  log: Logger;
  registry?: Registry;
}

interface EnginePacket {
  data?: string | Buffer | ArrayBuffer;
  options?: { wsPreEncodedFrame?: Buffer[] };
}

interface EngineClient {
  writeToEngine(packets: unknown, opts: { volatile?: boolean } & Record<string, unknown>): void;
}

function packetBytes(packet: EnginePacket): number {
  // A broadcast's WebSocket frame is encoded once for all sockets: its size is free to read.
  const frame = packet.options?.wsPreEncodedFrame;
  if (Array.isArray(frame)) return frame.reduce((n, b) => n + b.length, 0);
  const { data } = packet;
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data && typeof (data as ArrayBuffer).byteLength === 'number') return (data as ArrayBuffer).byteLength;
  return 0;
}

export interface SlowConsumerGuard {
  /** Installs the guard on a connected socket. */
  watch(socket: AppSocket): void;
}

export function createSlowConsumerGuard(opts: SlowConsumerOptions): SlowConsumerGuard {
  const dropped = opts.registry
    ? new Counter({ name: 'chat_volatile_dropped_total', help: 'Typing and presence events not sent to a socket whose output is backed up', registers: [opts.registry] })
    : null;
  const cut = opts.registry
    ? new Counter({ name: 'chat_slow_consumer_disconnects_total', help: 'Sockets disconnected because their unsent output exceeded MAX_SOCKET_BUFFER_BYTES', registers: [opts.registry] })
    : null;

  // One set of listeners for every socket (`this` is the engine connection or the client);
  // what each socket needs is one small state object, found through the connection.
  interface Watched {
    socket: AppSocket;
    /** Bytes in engine.io's write buffer. */
    queued: number;
    killed: boolean;
  }
  const watched = new WeakMap<object, Watched>();
  type Conn = AppSocket['conn'];

  const transportBuffered = (conn: Conn): number => {
    const ws = (conn.transport as unknown as { socket?: { bufferedAmount?: unknown } }).socket;
    return ws && typeof ws.bufferedAmount === 'number' ? ws.bufferedAmount : 0;
  };
  const backlog = (conn: Conn, w: Watched) => w.queued + transportBuffered(conn);

  const kill = (conn: Conn, w: Watched) => {
    w.killed = true;
    cut?.inc();
    opts.log.warn({ socketId: w.socket.id, userId: w.socket.data.userId, backlog: backlog(conn, w) }, 'slow consumer disconnected');
    w.socket.disconnect(true);
    // Do not wait for the buffer to drain (it will not): drop the transport and its buffers now.
    conn.close(true);
    const ws = (conn.transport as unknown as { socket?: { terminate?: () => void } }).socket;
    if (typeof ws?.terminate === 'function') ws.terminate();
  };

  function onPacketCreate(this: Conn, packet: EnginePacket): void {
    const w = watched.get(this);
    if (!w || w.killed) return;
    // Judged before adding: one packet larger than the cap (a page of 100 long messages)
    // still goes out; it is more output piling up behind a full buffer that is cut off.
    const before = backlog(this, w);
    w.queued += packetBytes(packet);
    if (before > opts.maxBufferBytes) kill(this, w);
  }
  // A flush hands the whole write buffer to the transport.
  function onFlush(this: Conn): void {
    const w = watched.get(this);
    if (w) w.queued = 0;
  }
  // Socket.IO's own `volatile` drops whenever the transport is busy for a moment, which
  // would lose presence in ordinary bursts; here it means "droppable when backed up".
  function writeToEngine(this: EngineClient & { conn: Conn }, packets: unknown, packetOpts: { volatile?: boolean } & Record<string, unknown>): void {
    const write = (Object.getPrototypeOf(this) as EngineClient).writeToEngine;
    if (packetOpts?.volatile) {
      const w = watched.get(this.conn);
      if (w && (w.killed || backlog(this.conn, w) > opts.dropVolatileBytes)) {
        dropped?.inc();
        return;
      }
      packetOpts = { ...packetOpts, volatile: false };
    }
    write.call(this, packets, packetOpts);
  }

  return {
    watch(socket) {
      const conn = socket.conn;
      watched.set(conn, { socket, queued: 0, killed: false });
      conn.on('packetCreate', onPacketCreate);
      conn.on('flush', onFlush);
      (socket.client as unknown as EngineClient).writeToEngine = writeToEngine;
    },
  };
}
