import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Code under src/hosts/fastly imports `fastly:*`; unit tests get doubles instead.
    alias: [{ find: /^fastly:(.*)$/, replacement: fileURLToPath(new URL('./test/doubles/fastly/$1.ts', import.meta.url)) }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Two cores: integration suites start real servers and render; keep parallelism modest.
    maxWorkers: 2,
  },
});
