import { defineConfig } from 'vitest/config';

// The end-to-end suite runs twice: against a local SQLite file and against a real sqld
// (CREDITS_TEST_TARGET=remote). Files named *.local.test.ts are about local files only; the
// files in LOCAL_ONLY test what happens before or above the ledger's driver (parsing bad input,
// name keys, the API and remote mode through `serve`, PDF, CSV and footing of invoices and
// statements, usage export paging, the request log, webhook signatures, alerts, the bounds on
// amounts, import crashes, the dashboard, concurrent usage on one file), the same whatever the
// ledger, and the basic commands (foundation, recharge, output files, reports) whose sqld side
// the files that run twice cover on the way: they run once, to keep `npm test` under 10 minutes
// on 2 cores. Those files (usage, holds, soft limits, runway, recharge targets, tags,
// corrections with its statements, import, notify, history shares, scope leaks) and the stress
// suite (concurrency and faults on sqld) cover the remote ledger.
const LOCAL_ONLY = [
  'test/e2e/badInput.test.ts',
  'test/e2e/nameKeys.test.ts',
  'test/e2e/api.remote.test.ts',
  'test/e2e/footing.test.ts',
  'test/e2e/invoices.test.ts',
  'test/e2e/usageHistory.test.ts',
  'test/e2e/holdsApi.test.ts',
  'test/e2e/api.test.ts',
  'test/e2e/statements.test.ts',
  'test/e2e/requestLog.test.ts',
  'test/e2e/standardWebhooks.test.ts',
  'test/e2e/alerts.test.ts',
  'test/e2e/bounds.test.ts',
  'test/e2e/importCrash.test.ts',
  'test/e2e/dashboard.test.ts',
  'test/e2e/usageConcurrency.test.ts',
  'test/e2e/foundation.test.ts',
  'test/e2e/recharge.test.ts',
  'test/e2e/outputFiles.test.ts',
  'test/e2e/reports.test.ts',
];

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
      {
        extends: true,
        test: { name: 'e2e-local', include: ['test/e2e/**/*.test.ts'], env: { CREDITS_TEST_TARGET: 'local' }, globalSetup: ['test/helpers/seedLocal.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'e2e-remote',
          include: ['test/e2e/**/*.test.ts'],
          exclude: ['test/e2e/**/*.local.test.ts', ...LOCAL_ONLY],
          env: { CREDITS_TEST_TARGET: 'remote' },
          globalSetup: ['test/helpers/seedRemote.ts'],
        },
      },
    ],
  },
});
