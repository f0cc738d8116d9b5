// The devdb Go program's own tests (tools/devdb: flags and errors, both backends,
// the _id index FerretDB's filters use, FerretDB's DDL still working): `npm test`
// runs `go test` there and fails, never skips, when it fails or Go is missing.
// The postgresql cases need the PostgreSQL server at 127.0.0.1:5432 (trust auth,
// or DEVDB_TEST_POSTGRESQL_URL); they create and drop their own databases.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../server/src/data/devdb';

function goTest(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // -count=1: never report a cached pass; the tests depend on live processes and PostgreSQL.
    const child = spawn('go', ['test', '-count=1', './...'], {
      cwd: path.join(PROJECT_ROOT, 'tools', 'devdb'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', (err) => resolve({ code: null, output: `cannot run "go test": ${err.message} (is Go installed and on PATH?)` }));
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('tools/devdb (go test ./...)', () => {
  it('passes', async () => {
    const { code, output } = await goTest();
    // The whole output goes into the failure message: it names the failing Go test.
    expect({ code, output: code === 0 ? 'ok' : output }).toEqual({ code: 0, output: 'ok' });
  }, 900_000);
});
