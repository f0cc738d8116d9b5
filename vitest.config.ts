import { configDefaults, defineConfig } from 'vitest/config';

/** Run on their own, after the rest (vitest.serial.config.ts; `npm test` runs both). */
export const SERIAL_FILES = ['test/integration/cluster-failover.test.ts', 'test/integration/cluster-pm2.test.ts'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The container image has its own run (`npm run test:docker`, vitest.docker.config.ts).
    exclude: [...configDefaults.exclude, 'test/docker/**', ...SERIAL_FILES],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    // Two cores: more workers only make the database and the servers fight for CPU.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 30_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    reporters: ['default'],
  },
});
