// The SDK's build: ESM and CJS bundles of src/ with type declarations for both.
import path from 'node:path';
import { defineConfig } from 'tsup';

const here = path.dirname(new URL(import.meta.url).pathname);

export default defineConfig({
  entry: { index: path.join(here, 'src/index.ts') },
  outDir: path.join(here, 'dist'),
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  // The package is `type: module`: .js is ESM, .cjs is CommonJS (whatever the caller's cwd);
  // the build script copies index.d.ts to index.d.cts for require() callers.
  outExtension: ({ format }) => ({ js: format === 'cjs' ? '.cjs' : '.js' }),
  target: 'es2020',
  external: ['socket.io-client'],
  tsconfig: path.join(here, 'tsconfig.json'),
});
