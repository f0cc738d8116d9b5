// Fails when an import points the wrong way between the layers (docs/architecture.md,
// "Layers"): transport (socket/, http/) → domain/ → data/; cluster/ and jobs/ are
// adapters plugged in through the domain's interfaces; lib/ imports nothing of ours; only
// the composition roots (server/src/app.ts, workers/src/workers.ts) and entry points see
// everything; the server never imports workers/, and the workers only the shared layers.
// The import graph is madge's (type-only imports included), as in `npm run check:cycles`.
import path from 'node:path';

// madge ships no types; this is the part of its API used here.
type Madge = (paths: string[], config: { baseDir: string; fileExtensions: string[]; tsConfig: string }) => Promise<{ obj(): Record<string, string[]> }>;
const madge = require('madge') as Madge;

const ROOT = path.resolve(__dirname, '..');

/** [importer prefix, forbidden target prefixes, allowed exceptions]; paths from the repo root. */
const RULES: Array<{ from: string; to: string[]; except?: string[]; why: string }> = [
  { from: 'server/src/', to: ['workers/'], why: 'the server never imports the workers process' },
  {
    from: 'workers/src/',
    to: ['server/src/app', 'server/src/main', 'server/src/deps', 'server/src/cluster/', 'server/src/socket/', 'server/src/http/'],
    except: ['server/src/http/emf-metrics.ts'],
    why: "the workers reuse the shared layers, never the API's composition or transports",
  },
  { from: 'server/src/lib/', to: ['server/src/', 'workers/'], except: ['server/src/lib/'], why: 'lib/ is generic and imports nothing of ours' },
  {
    from: 'server/src/contracts/',
    to: ['server/src/domain/', 'server/src/data/', 'server/src/socket/', 'server/src/http/', 'server/src/cluster/', 'server/src/jobs/'],
    why: 'contracts describe the wire and depend on no layer',
  },
  {
    from: 'server/src/data/',
    to: ['server/src/domain/', 'server/src/socket/', 'server/src/http/', 'server/src/cluster/', 'server/src/jobs/', 'server/src/app'],
    why: 'data is the bottom layer',
  },
  {
    from: 'server/src/domain/',
    to: ['server/src/socket/', 'server/src/http/', 'server/src/cluster/', 'server/src/jobs/', 'server/src/app'],
    why: 'the domain knows no transport and no adapter (it owns their interfaces)',
  },
  {
    from: 'server/src/socket/',
    to: ['server/src/cluster/', 'server/src/jobs/', 'server/src/http/', 'server/src/app'],
    except: ['server/src/http/metrics.ts'],
    why: 'a transport calls the domain; adapters are plugged in by the composition root',
  },
  {
    from: 'server/src/http/',
    to: ['server/src/cluster/', 'server/src/jobs/', 'server/src/socket/', 'server/src/app'],
    why: 'a transport calls the domain; adapters are plugged in by the composition root',
  },
  { from: 'server/src/cluster/', to: ['server/src/app', 'server/src/http/', 'server/src/jobs/'], except: ['server/src/http/metrics.ts'], why: 'an adapter never reaches into the app' },
  { from: 'server/src/jobs/', to: ['server/src/app', 'server/src/socket/', 'server/src/http/', 'server/src/cluster/'], why: 'an adapter never reaches into the app or a transport' },
];

async function main(): Promise<void> {
  const result = await madge(['server/src', 'workers/src'], { baseDir: ROOT, fileExtensions: ['ts'], tsConfig: path.join(ROOT, 'tsconfig.json') });
  const graph = result.obj();
  const problems: string[] = [];
  for (const [from, targets] of Object.entries(graph)) {
    for (const to of targets) {
      for (const rule of RULES) {
        if (!from.startsWith(rule.from)) continue;
        if (!rule.to.some((t) => to.startsWith(t))) continue;
        if (rule.except?.some((e) => to.startsWith(e))) continue;
        problems.push(`${from} → ${to}: ${rule.why}`);
      }
    }
  }
  if (problems.length > 0) {
    process.stderr.write(`${problems.length} import(s) against the layers (docs/architecture.md):\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`layers: ${Object.keys(graph).length} files, every import points the right way\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(2);
});
