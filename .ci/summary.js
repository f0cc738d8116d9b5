// CI's closing line from vitest JSON reports: `tests: N passed, N failed[, N skipped]`, then the
// exit code. A failed file (an unimportable file, a failing beforeAll/afterAll) counts as a
// failure even when vitest reports its tests as skipped; a missing or unreadable report counts
// as a failure; a run that exited non-zero never closes with "0 failed".
// Usage: node .ci/summary.js <run name>... (reads .data/ci/<name>.json and <name>.status)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dir = path.join(__dirname, '..', '.data', 'ci');
let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];

for (const name of process.argv.slice(2)) {
  const statusFile = path.join(dir, `${name}.status`);
  const exit = fs.existsSync(statusFile) ? Number(fs.readFileSync(statusFile, 'utf8').trim()) : NaN;
  let report;
  try {
    report = JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
  } catch (err) {
    failed += 1;
    problems.push(`${name}: no readable report (${err.code ?? err.message}); vitest exited ${exit}`);
    continue;
  }
  let runFailed = 0;
  passed += report.numPassedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  for (const file of report.testResults ?? []) {
    const tests = file.assertionResults ?? [];
    const failedTests = tests.filter((t) => t.status === 'failed').length;
    runFailed += failedTests;
    // A file that failed without a failing test: import error, failing hook, crash.
    if (file.status === 'failed' && failedTests === 0) {
      runFailed += 1;
      problems.push(`${name}: ${path.relative(process.cwd(), file.name)} failed outside its tests: ${String(file.message ?? '').split('\n')[0].slice(0, 300)}`);
    }
  }
  if (report.success === false && runFailed === 0) {
    runFailed += 1;
    problems.push(`${name}: vitest reported failure without a failed test or file`);
  }
  if (exit !== 0 && runFailed === 0) {
    runFailed += 1;
    problems.push(`${name}: vitest exited ${exit} with no failure in its report`);
  }
  failed += runFailed;
}

const out = (line) => process.stdout.write(`${line}\n`);
for (const p of problems) out(`ci: ${p}`);
out(`tests: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed === 0 ? 0 : 1);
