import { defineConfig } from 'vitest/config';

// `npm run test:stress`: the long crash and concurrency runs (test/stress/), local and sqld.
// Files run one after another so the latency figures of one are not skewed by another's load.
export default defineConfig({
  test: {
    include: ['test/stress/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
