// connect: ramp to --clients authenticated idle sockets at --ramp per second,
// hold them for --duration seconds, and read the server's memory per socket.
import { now, sleep } from '../lib/clock';
import type { ClientSocket } from '../lib/clients';
import { paramsOf, type RunResult } from '../lib/recorder';
import { fetchMemory, type ServerMemory } from '../lib/target';
import { closeAll, connectAll, prepareUsers, waitUntil } from './setup';
import type { ScenarioContext } from './types';

async function memory(urls: string[]): Promise<ServerMemory | null> {
  try {
    return await fetchMemory(urls);
  } catch (err) {
    process.stderr.write(`connect: cannot read /metrics (${(err as Error).message})\n`);
    return null;
  }
}

export async function connect(ctx: ScenarioContext): Promise<RunResult> {
  const { opts, rec, urls } = ctx;
  const users = await prepareUsers(ctx, opts.clients);
  const before = await memory(urls);
  const sockets: ClientSocket[] = [];
  let dropped = 0;
  let closing = false;
  let lastConnectAt = 0;

  rec.startMeasuring();
  await connectAll(ctx, users.map((u, i) => ({ url: urls[i % urls.length], token: u.token })), true, (socket) => {
    sockets.push(socket);
    lastConnectAt = now();
    socket.on('disconnect', (reason: string) => {
      if (closing) return;
      dropped++;
      rec.connected--;
      rec.error(`disconnect:${reason}`);
    });
  });
  const rampMs = (lastConnectAt || now()) - rec.measureStart;
  rec.measureEnd = now();

  const holdMs = opts.durationS * 1000;
  const holdStart = now();
  ctx.progress.phase('hold', opts.durationS, () => Math.floor((now() - holdStart) / 1000));
  await waitUntil(() => false, holdMs, ctx.stopped);
  // Let the server settle (per-socket buffers, timers) before the after-reading.
  await sleep(500);
  const after = await memory(urls);
  const held = rec.connected;
  closing = true;
  closeAll(sockets);

  const per = (a: number, b: number) => (held > 0 ? Math.round((a - b) / held) : null);
  return rec.finish({
    scenario: 'connect',
    server: ctx.server,
    urls,
    params: paramsOf(opts, ctx.users),
    throughputPerSec: rampMs > 0 ? Math.round((sockets.length / rampMs) * 1000 * 10) / 10 : 0,
    details: {
      attempted: rec.sent,
      connectedAtPeak: sockets.length,
      heldAtEnd: held,
      failures: rec.sent - sockets.length,
      droppedWhileIdle: dropped,
      rampMs: Math.round(rampMs),
      memoryBefore: before,
      memoryAfter: after,
      rssPerSocketBytes: before && after ? per(after.rssBytes, before.rssBytes) : null,
      heapPerSocketBytes: before && after ? per(after.heapUsedBytes, before.heapUsedBytes) : null,
    },
  });
}
