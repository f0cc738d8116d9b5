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

  return {
    watch(socket) {
      const conn = socket.conn;
      let queued = 0; // bytes in engine.io's write buffer
      let killed = false;

      const transportBuffered = (): number => {
        const ws = (conn.transport as unknown as { socket?: { bufferedAmount?: unknown } }).socket;
        return ws && typeof ws.bufferedAmount === 'number' ? ws.bufferedAmount : 0;
      };
      const backlog = () => queued + transportBuffered();

      const kill = () => {
        killed = true;
        cut?.inc();
        opts.log.warn({ socketId: socket.id, userId: socket.data.userId, backlog: backlog() }, 'slow consumer disconnected');
        socket.disconnect(true);
        // Do not wait for the buffer to drain (it will not): drop the transport and its buffers now.
        conn.close(true);
        const ws = (conn.transport as unknown as { socket?: { terminate?: () => void } }).socket;
        if (typeof ws?.terminate === 'function') ws.terminate();
      };

      conn.on('packetCreate', (packet: EnginePacket) => {
        if (killed) return;
        // Judged before adding: one packet larger than the cap (a page of 100 long messages)
        // still goes out; it is more output piling up behind a full buffer that is cut off.
        const before = backlog();
        queued += packetBytes(packet);
        if (before > opts.maxBufferBytes) kill();
      });
      // A flush hands the whole write buffer to the transport.
      conn.on('flush', () => {
        queued = 0;
      });

      const client = socket.client as unknown as EngineClient;
      const write = client.writeToEngine.bind(client);
      // Socket.IO's own `volatile` drops whenever the transport is busy for a moment, which
      // would lose presence in ordinary bursts; here it means "droppable when backed up".
      client.writeToEngine = (packets, packetOpts) => {
        if (packetOpts?.volatile) {
          if (killed || backlog() > opts.dropVolatileBytes) {
            dropped?.inc();
            return;
          }
          packetOpts = { ...packetOpts, volatile: false };
        }
        write(packets, packetOpts);
      };
    },
  };
}
