// What the generator learns from the server outside the protocol: its memory
// (Prometheus /metrics) and whether it is the bare baseline server.

export interface ServerMemory {
  rssBytes: number;
  heapUsedBytes: number;
}

/** Sums each metric over its label sets; enough for gauges like process_resident_memory_bytes. */
export function parsePrometheus(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v)) values.set(m[1], (values.get(m[1]) ?? 0) + v);
  }
  return values;
}

/** Reads process memory from /metrics on every node and sums it. */
export async function fetchMemory(urls: string[]): Promise<ServerMemory> {
  const total: ServerMemory = { rssBytes: 0, heapUsedBytes: 0 };
  for (const url of urls) {
    const res = await fetch(`${url}/metrics`);
    if (!res.ok) throw new Error(`${url}/metrics: HTTP ${res.status}`);
    const m = parsePrometheus(await res.text());
    const rss = m.get('process_resident_memory_bytes');
    const heap = m.get('nodejs_heap_size_used_bytes');
    if (rss === undefined || heap === undefined) throw new Error(`${url}/metrics lacks process_resident_memory_bytes or nodejs_heap_size_used_bytes`);
    total.rssBytes += rss;
    total.heapUsedBytes += heap;
  }
  return total;
}

/** The baseline server says so in /healthz; the real server does not. */
export async function isBaselineServer(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`);
    const body = (await res.json()) as { server?: string };
    return body.server === 'baseline';
  } catch {
    return false;
  }
}
