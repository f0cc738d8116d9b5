// pino root logger; secrets are redacted wherever they appear in log objects.
import pino, { type Logger } from 'pino';

export type { Logger };

/** Builds the root logger; children carry requestId / socketId / userId. */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...base },
    redact: {
      paths: [
        'token', '*.token', 'password', '*.password', 'authorization', '*.authorization',
        'req.headers.authorization', 'headers.authorization', 'auth.token', 'secret', '*.secret',
      ],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
