import { defineConfig } from 'vitest/config';

// `npm run test:docker`: the container image on a real engine (test/docker), after
// tools/docker/prepare.sh has started the engine and built the image. Kept out of `npm test`.
export default defineConfig({
  test: {
    include: ['test/docker/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    reporters: ['default'],
  },
});
