// The bare baseline: Socket.IO with no auth, no database and the in-memory
// adapter, speaking just enough of the protocol for the load scenarios. What
// the real server costs is measured as a ratio against this floor.
// Run: npx tsx loadtests/baseline/server.ts --port 4100 [--host 127.0.0.1]
import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { Server, type Socket } from 'socket.io';

interface Message {
  id: string;
  roomId: string;
  seq: number;
  senderId: string;
  clientMsgId: string;
  text: string;
  replyTo: null;
  createdAt: string;
  editedAt: null;
  deletedAt: null;
  reactions: Record<string, string[]>;
}

interface Room {
  id: string;
  type: string;
  name: string;
  createdBy: string;
  createdAt: string;
  seq: number;
  /** Messages 1..seeded are synthesized on read, so seeding a million costs no memory. */
  seeded: number;
  messages: Message[];
  members: Set<string>;
}

type Ack = (res: unknown) => void;
const ok = (data: unknown) => ({ ok: true, data });
const fail = (code: string, message: string) => ({ ok: false, error: { code, message } });
const SEED_EPOCH = Date.UTC(2024, 0, 1);

export interface BaselineServer {
  url: string;
  close(): Promise<void>;
}

export function createBaseline() {
  const rooms = new Map<string, Room>();
  let nextRoom = 1;

  const roomDto = (r: Room) => ({
    id: r.id, type: r.type, name: r.name, createdBy: r.createdBy, createdAt: r.createdAt, lastSeq: r.seq, memberCount: r.members.size,
  });
  const messageAt = (r: Room, seq: number): Message =>
    seq <= r.seeded
      ? { id: `${r.id}:${seq}`, roomId: r.id, seq, senderId: r.createdBy, clientMsgId: `seed-${seq}`, text: `seed message ${seq}`,
          replyTo: null, createdAt: new Date(SEED_EPOCH + seq * 1000).toISOString(), editedAt: null, deletedAt: null, reactions: {} }
      : r.messages[seq - r.seeded - 1];

  /** History pages exactly as the contract pages them (ascending seq, limit ≤ 100). */
  const history = (r: Room, q: { beforeSeq?: number; afterSeq?: number; limit?: number }) => {
    const limit = Math.min(100, Math.max(1, q.limit ?? 50));
    let from: number;
    let to: number;
    let hasMore: boolean;
    if (q.afterSeq !== undefined) {
      from = q.afterSeq + 1;
      to = Math.min(r.seq, q.afterSeq + limit);
      hasMore = to < r.seq;
    } else {
      to = Math.min(r.seq, q.beforeSeq !== undefined ? q.beforeSeq - 1 : r.seq);
      from = Math.max(1, to - limit + 1);
      hasMore = from > 1;
    }
    const items: Message[] = [];
    for (let s = from; s <= to; s++) items.push(messageAt(r, s));
    return { items, hasMore };
  };

  const api = express();
  api.use(express.json({ limit: '64kb' }));
  api.get('/healthz', (_req, res) => void res.json({ status: 'ok', server: 'baseline' }));
  api.get('/metrics', (_req, res) => {
    const m = process.memoryUsage();
    res.type('text/plain; version=0.0.4').send(
      [
        '# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${m.rss}`,
        '# TYPE nodejs_heap_size_used_bytes gauge', `nodejs_heap_size_used_bytes ${m.heapUsed}`,
        '# TYPE nodejs_heap_size_total_bytes gauge', `nodejs_heap_size_total_bytes ${m.heapTotal}`,
        '# TYPE baseline_connected_sockets gauge', `baseline_connected_sockets ${io.engine.clientsCount}`, '',
      ].join('\n'),
    );
  });
  api.post('/api/v1/auth/register', (req, res) => {
    const username = String((req.body as { username?: unknown }).username ?? 'anon');
    res.status(201).json({ user: { id: `u-${username}`, username, displayName: username, createdAt: new Date().toISOString() }, token: `baseline.${username}` });
  });
  api.get('/api/v1/rooms/:roomId/messages', (req, res) => {
    const r = rooms.get(req.params.roomId);
    if (!r) return void res.status(404).json({ error: { code: 'NOT_FOUND', message: 'no such room' } });
    const n = (k: string) => (typeof req.query[k] === 'string' ? Number(req.query[k]) : undefined);
    res.json(history(r, { beforeSeq: n('beforeSeq'), afterSeq: n('afterSeq'), limit: n('limit') }));
  });
  // Extension for the history scenario: the baseline has no database to bulk-insert into.
  api.post('/__baseline/seed', (req, res) => {
    const { roomId, count } = req.body as { roomId?: string; count?: number };
    const r = rooms.get(String(roomId));
    if (!r || typeof count !== 'number' || r.seq !== 0) return void res.status(409).json({ error: { code: 'CONFLICT', message: 'unknown or non-empty room' } });
    r.seeded = r.seq = count;
    res.json({ seeded: count });
  });

  const httpServer = http.createServer(api);
  const io = new Server(httpServer, { serveClient: false, perMessageDeflate: false, maxHttpBufferSize: 64 * 1024, cors: { origin: true } });
  io.on('connection', (socket: Socket) => {
    // Any handshake is accepted; the token's sub (unverified) only names the sender.
    const token = (socket.handshake.auth as { token?: unknown }).token;
    const decoded = typeof token === 'string' ? jwt.decode(token) : null;
    const userId = decoded && typeof decoded === 'object' && typeof decoded.sub === 'string' ? decoded.sub : socket.id;

    socket.on('room:create', (p: { type?: string; name?: string }, ack: Ack) => {
      if (typeof ack !== 'function') return;
      const r: Room = { id: `r${nextRoom++}`, type: p?.type ?? 'public', name: String(p?.name ?? ''), createdBy: userId, createdAt: new Date().toISOString(), seq: 0, seeded: 0, messages: [], members: new Set([userId]) };
      rooms.set(r.id, r);
      void socket.join(r.id);
      ack(ok(roomDto(r)));
    });
    socket.on('room:join', (p: { roomId?: string }, ack: Ack) => {
      if (typeof ack !== 'function') return;
      const r = rooms.get(String(p?.roomId));
      if (!r) return ack(fail('NOT_FOUND', 'no such room'));
      r.members.add(userId);
      void socket.join(r.id);
      ack(ok(roomDto(r)));
    });
    socket.on('message:send', (p: { roomId?: string; clientMsgId?: string; text?: string }, ack: Ack) => {
      if (typeof ack !== 'function') return;
      const r = rooms.get(String(p?.roomId));
      if (!r) return ack(fail('NOT_FOUND', 'no such room'));
      if (!socket.rooms.has(r.id)) return ack(fail('FORBIDDEN', 'not a member'));
      const msg: Message = {
        id: `${r.id}:${r.seq + 1}`, roomId: r.id, seq: ++r.seq, senderId: userId, clientMsgId: String(p.clientMsgId), text: String(p.text),
        replyTo: null, createdAt: new Date().toISOString(), editedAt: null, deletedAt: null, reactions: {},
      };
      r.messages.push(msg);
      ack(ok(msg));
      io.to(r.id).emit('message:new', msg);
    });
    socket.on('message:history', (p: { roomId?: string; beforeSeq?: number; afterSeq?: number; limit?: number }, ack: Ack) => {
      if (typeof ack !== 'function') return;
      const r = rooms.get(String(p?.roomId));
      if (!r) return ack(fail('NOT_FOUND', 'no such room'));
      ack(ok(history(r, p)));
    });
  });

  return {
    listen(port: number, host = '127.0.0.1'): Promise<BaselineServer> {
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const { port: bound } = httpServer.address() as AddressInfo;
          resolve({ url: `http://${host}:${bound}`, close: () => new Promise((done) => io.close(() => done())) });
        });
      });
    },
  };
}

if (require.main === module) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const port = Number(arg('port') ?? 4100);
  void createBaseline()
    .listen(port, arg('host') ?? '127.0.0.1')
    .then((srv) => {
      // The CLI reads this line to learn the port when it starts us with --port 0.
      process.stdout.write(`baseline listening on ${srv.url}\n`);
      const stop = () => void srv.close().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      // Started by the CLI: die with it at once, even if it is killed without cleanup.
      if (process.argv.includes('--exit-with-parent')) process.stdin.on('end', () => process.exit(0)).resume();
    })
    .catch((err: Error) => {
      process.stderr.write(`baseline: ${err.message}\n`);
      process.exit(1);
    });
}
