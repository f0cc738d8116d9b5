// A TCP proxy in front of Redis for one server process, able to swallow everything one of
// that process's connections sends (picked by its CLIENT SETNAME, e.g. the adapter's
// publisher): the process keeps running and believes it sent, but nothing reaches Redis —
// as if it had died just before. Test-only fault injection, no change to the server.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface RedisProxy {
  /** redis://127.0.0.1:<port>, to give the process as REDIS_URL. */
  url: string;
  /** From now on, drops what connections named `connectionName` send (existing and new ones). */
  blackhole(connectionName: string): void;
  /** Everything dropped so far, as latin1 text (RESP and msgpack keep strings readable). */
  dropped(): string;
  close(): Promise<void>;
}

export async function startRedisProxy(targetUrl: string): Promise<RedisProxy> {
  const target = new URL(targetUrl);
  const holes = new Set<string>();
  const sockets = new Set<net.Socket>();
  let dropped = '';

  const server = net.createServer((client) => {
    const upstream = net.connect({ host: target.hostname, port: Number(target.port || 6379) });
    sockets.add(client);
    sockets.add(upstream);
    // ioredis names the connection first thing (`CLIENT SETNAME <name>`): kept until seen.
    let head = '';
    let name: string | null = null;
    client.on('data', (chunk: Buffer) => {
      if (name === null && head.length < 4096) {
        head += chunk.toString('latin1');
        const m = /setname\r\n\$\d+\r\n([^\r]*)\r\n/i.exec(head);
        if (m) name = m[1];
      }
      if (name !== null && holes.has(name)) {
        dropped += chunk.toString('latin1');
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);

  return {
    url: url.toString().replace(/\/$/, ''),
    blackhole: (connectionName) => void holes.add(connectionName),
    dropped: () => dropped,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
