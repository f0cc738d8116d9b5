// What a run cost the server, read from its /metrics while the run goes on: database
// commands (chat_db_commands_total) and CPU seconds (process_cpu_seconds_total) per
// message, over the measured phase only (setup such as registering users is left out).
import { now } from './clock';
import { parsePrometheus } from './target';

interface Sample {
  at: number;
  dbCommands: number;
  stored: number;
  cpuSeconds: number;
}

export interface ServerCost {
  /** Database commands sent by all nodes during the measured phase. */
  dbCommands: number;
  /** Messages stored by all nodes during the measured phase. */
  messagesStored: number;
  dbCommandsPerMessage: number | null;
  /** Server CPU (user + system, all nodes) per delivered message, ms. */
  cpuMsPerDelivered: number | null;
  /** How far the samples bracketing the measured phase are from its ends, ms. */
  sampleSkewMs: number;
}

async function sample(urls: string[]): Promise<Sample | null> {
  const total: Sample = { at: now(), dbCommands: 0, stored: 0, cpuSeconds: 0 };
  for (const url of urls) {
    const res = await fetch(`${url}/metrics`).catch(() => null);
    if (!res?.ok) return null;
    const m = parsePrometheus(await res.text());
    total.dbCommands += m.get('chat_db_commands_total') ?? 0;
    total.stored += m.get('chat_messages_stored_total') ?? 0;
    total.cpuSeconds += m.get('process_cpu_seconds_total') ?? 0;
  }
  return total;
}

/** Samples every node's /metrics every `periodMs` until stopped. */
export function startCostSampler(urls: string[], periodMs = 500) {
  const samples: Sample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const s = await sample(urls);
      if (s) samples.push(s);
      await new Promise((r) => setTimeout(r, periodMs));
    }
  })();
  return {
    /** The cost between the samples nearest to [from, to]; null if /metrics could not be read. */
    async stop(from: number, to: number, delivered: number): Promise<ServerCost | null> {
      stopped = true;
      await loop;
      const last = await sample(urls);
      if (last) samples.push(last);
      if (samples.length < 2) return null;
      const nearest = (t: number) => samples.reduce((best, s) => (Math.abs(s.at - t) < Math.abs(best.at - t) ? s : best));
      const a = nearest(from);
      const b = nearest(to);
      const dbCommands = b.dbCommands - a.dbCommands;
      const messagesStored = b.stored - a.stored;
      const cpuMs = (b.cpuSeconds - a.cpuSeconds) * 1000;
      return {
        dbCommands,
        messagesStored,
        dbCommandsPerMessage: messagesStored > 0 ? Math.round((dbCommands / messagesStored) * 100) / 100 : null,
        cpuMsPerDelivered: delivered > 0 ? Math.round((cpuMs / delivered) * 1000) / 1000 : null,
        sampleSkewMs: Math.round(Math.max(Math.abs(a.at - from), Math.abs(b.at - to))),
      };
    },
  };
}
