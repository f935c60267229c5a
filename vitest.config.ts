import { defineConfig } from 'vitest/config';

// The end-to-end suite runs twice: against a local SQLite file and against a real sqld
// (CREDITS_TEST_TARGET=remote). Files named *.local.test.ts are about local files only.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e-local', include: ['test/e2e/**/*.test.ts'], env: { CREDITS_TEST_TARGET: 'local' } } },
      {
        extends: true,
        test: { name: 'e2e-remote', include: ['test/e2e/**/*.test.ts'], exclude: ['test/e2e/**/*.local.test.ts'], env: { CREDITS_TEST_TARGET: 'remote' } },
      },
    ],
  },
});
