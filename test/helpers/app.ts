// Starts a real app on a free port against the shared test database (a fresh
// database name per app, so test files never see each other's data).
import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import { inject } from 'vitest';
import { createApp, type App } from '../../server/src/app';
import { loadConfig, type Config } from '../../server/src/config';
import { createLogger } from '../../server/src/logger';

export const TEST_JWT_SECRET = 'test-secret-0123456789abcdef';

export interface TestApp {
  app: App;
  config: Config;
  url: string;
  port: number;
  dbName: string;
  close(): Promise<void>;
}

/** Mongo URI for a fresh, uniquely named database on the test server. */
export function freshMongoUri(prefix = 't'): { uri: string; dbName: string } {
  const base = new URL(inject('mongoBaseUri'));
  const dbName = `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
  base.pathname = `/${dbName}`;
  return { uri: base.toString(), dbName };
}

/**
 * Account limits far above what any suite does from 127.0.0.1 (the suites register and log
 * in many users quickly); the account-defence tests set tight ones.
 */
export const GENEROUS_ACCOUNT_LIMITS: Record<string, string> = {
  LOGIN_FREE_FAILURES: '1000',
  LOGIN_ACCOUNT_MAX_FAILURES: '100000',
  LOGIN_ADDRESS_MAX_FAILURES: '1000000',
  REGISTER_PER_ADDRESS: '1000000',
  REGISTER_GLOBAL: '10000000',
};

/**
 * Load-shedding bounds a test never trips by accident; overload.test.ts sets tight ones.
 * - Tests send bursts of up to 45 at once: on a slow machine a burst's own queue can cut the
 *   adaptive send limit (SEND_QUEUE_TARGET_MS), and the floor keeps such a burst whole.
 * - No request budget: with the whole suite on one embedded database (one command at a time),
 *   a request can wait past the default 5 s before its first command.
 * - No bound on database commands in flight: on that shared database an app's commands pile up
 *   behind the other files' (the authorization matrix's GET /rooms was refused with reason "db").
 */
export const UNHURRIED_LOAD_BOUNDS: Record<string, string> = {
  SEND_LIMIT_FLOOR: '64',
  REQUEST_BUDGET_MS: '0',
  MAX_DB_IN_FLIGHT: '100000',
};

/** The environment a test app runs with; overrides win. */
export function testEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SHUTDOWN_GRACE_MS: '500',
    DATA_DIR: '.data/test',
    ...GENEROUS_ACCOUNT_LIMITS,
    ...UNHURRIED_LOAD_BOUNDS,
    // Lets a whole suite run on one history read path: HISTORY_READS=range|points npx vitest run ...
    HISTORY_READS: process.env.HISTORY_READS,
    // Matters only with REDIS_URL; CI runs the Redis-backed tests with both adapter modes.
    REDIS_ADAPTER: process.env.TEST_REDIS_ADAPTER,
    ...overrides,
  };
}

export async function startTestApp(env: Record<string, string | undefined> = {}): Promise<TestApp> {
  const { uri, dbName } = freshMongoUri();
  const config = loadConfig(testEnv({ MONGODB_URI: uri, ...env }));
  const app = await createApp(config, { log: createLogger(config.logLevel) });
  const port = await app.listen();
  return { app, config, url: `http://127.0.0.1:${port}`, port, dbName, close: () => app.close() };
}

/** Signs an HS256 token the way an external issuer sharing the secret would. */
export function signToken(userId: string, opts: jwt.SignOptions = {}, secret = TEST_JWT_SECRET): string {
  return jwt.sign({ sub: userId }, secret, { algorithm: 'HS256', expiresIn: 3600, ...opts });
}
