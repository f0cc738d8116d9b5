// The heaviest multi-process suites (three server processes killed and restarted under
// traffic, pm2 reloads), run after the rest, one file at a time: on two cores, running them
// beside another file's servers starved them past their liveness bounds.
import { defineConfig } from 'vitest/config';
import base, { SERIAL_FILES } from './vitest.config';

export default defineConfig({
  test: {
    ...base.test,
    include: SERIAL_FILES,
    exclude: [],
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
  },
});
