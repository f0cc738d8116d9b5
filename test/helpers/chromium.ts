// Debian's chromium for the browser test. playwright-core downloads no browser, and this
// kind of machine has none until the project installs it: as root with apt (CI, a fresh
// machine), the test installs it itself, so `npm test` passes on a fresh machine; elsewhere
// it fails with what to do (it never skips).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export function ensureChromium(path: string): void {
  if (fs.existsSync(path)) return;
  const canInstall = process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0;
  if (canInstall && path === '/usr/bin/chromium') {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-q'], { env, stdio: 'ignore' });
    const res = spawnSync('apt-get', ['install', '-y', '-q', 'chromium'], { env, encoding: 'utf8' });
    if (res.status === 0 && fs.existsSync(path)) return;
    throw new Error(`chromium not found at ${path} and apt-get install chromium failed:\n${res.stderr ?? ''}`);
  }
  throw new Error(`chromium not found at ${path}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
}
