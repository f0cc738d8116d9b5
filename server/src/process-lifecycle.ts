// What every process entry (server, workers) does the same way: read config or exit
// with one line, stop gracefully on SIGTERM/SIGINT with a force-quit timer, report a fatal start.
import { ConfigError, loadConfig, type Config, type ConfigRole } from './config';
import type { Logger } from './logger';

/** Prints a one-line reason on stderr and exits 1. */
export function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** The validated config, or exit 1 with the line naming the bad variable. */
export function loadConfigOrExit(role: ConfigRole = 'api'): Config {
  try {
    return loadConfig(process.env, role);
  } catch (err) {
    if (err instanceof ConfigError) fail(`Invalid configuration: ${err.message}`);
    throw err;
  }
}

/**
 * On the first SIGTERM/SIGINT runs `close`, then exits 0 (1 if it fails or outlives grace + 5 s).
 * Returns the same shutdown for other triggers (the ECS task-stop watch).
 */
export function exitOnSignals(log: Logger, graceMs: number, close: () => Promise<void>): (reason: string) => void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, graceMs }, 'shutting down');
    const force = setTimeout(() => {
      log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, graceMs + 5000);
    force.unref();
    close().then(
      () => {
        log.flush?.();
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  return shutdown;
}

/** Runs an entry point; a failure to start is one line on stderr and exit 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => fail(`Fatal: ${err instanceof Error ? err.message : String(err)}`));
}
