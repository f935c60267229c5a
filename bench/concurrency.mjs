// Write latency under contention (issue 8): N processes post a random mix of transfers, usage
// (with a user limit) and purchases on one department for a fixed time, through the store API
// (see bench/lib/concurrencyWorker.mjs), once with the fair write lock (the default: BEGIN
// IMMEDIATE retried after 1-4 ms sleeps) and once with SQLite's own busy_timeout
// (CREDITS_LOCK_MODE=busy_timeout, the old behaviour) as the baseline, in the same run.
// Environment: BENCH_CONCURRENCY_WORKERS (6), BENCH_CONCURRENCY_SECONDS (20 per mode).
import { join } from 'node:path';
import { ADA_DAILY_LIMIT_CREDITS, bundleWorker, formatStats, latencyStats, runLoad, seedConcurrencyLedger } from './lib/concurrencyLoad.mjs';
import { envInt, log, removeDir, row, workDir } from './lib/util.mjs';

export async function concurrency() {
  const workers = envInt('BENCH_CONCURRENCY_WORKERS', 6);
  const seconds = envInt('BENCH_CONCURRENCY_SECONDS', 20);
  const dir = workDir('concurrency');
  const worker = await bundleWorker();
  try {
    const measured = {};
    for (const mode of ['fair', 'busy_timeout']) {
      const ledger = join(dir, `${mode}.db`);
      seedConcurrencyLedger(ledger);
      const { ops, workers: outcomes } = await runLoad({
        worker: worker.path,
        location: ledger,
        workers,
        durationMs: seconds * 1000,
        env: mode === 'busy_timeout' ? { CREDITS_LOCK_MODE: 'busy_timeout' } : {},
      });
      const failed = outcomes.filter((outcome) => outcome.code !== 0);
      if (failed.length > 0) throw new Error(`a worker failed: ${failed[0].stderr}`);
      const stats = latencyStats(ops);
      measured[mode] = { stats, busy: ops.filter((op) => op.code === 'STORAGE_BUSY').length };
      log(formatStats(`${mode}: ${workers} processes, ${seconds} s`, stats).replace(/\n/g, '\n  '));
    }
    const rows = [];
    const note = `${workers} processes for ${seconds} s each mode, mixing transfers, usage (ada limited to ${ADA_DAILY_LIMIT_CREDITS} credits a day) and card purchases on one department; latency of each store call, write-lock wait included`;
    for (const kind of ['all', 'transfer', 'usage', 'purchase']) {
      const fair = measured.fair.stats[kind];
      const old = measured.busy_timeout.stats[kind];
      if (!fair || !old) continue;
      for (const [figure, label] of [
        ['max', 'max'],
        ['p99', 'p99'],
        ['p50', 'p50'],
      ]) {
        if (kind !== 'all' && figure === 'p50') continue;
        rows.push(
          row({
            name: `concurrent writes (${kind}): ${label} latency`,
            value: fair[figure],
            unit: `ms (${label})`,
            baselineName: 'plain SQLite busy_timeout (CREDITS_LOCK_MODE=busy_timeout)',
            baselineValue: old[figure],
            ratio: old[figure] ? fair[figure] / old[figure] : null,
            target: figure === 'max' ? '< 1000 ms' : null,
            meets: figure === 'max' ? fair[figure] < 1000 : null,
            note:
              kind === 'all' && figure === 'max'
                ? `${note}; operations: ${fair.count} fair vs ${old.count} busy_timeout; STORAGE_BUSY: ${measured.fair.busy} vs ${measured.busy_timeout.busy}`
                : null,
          }),
        );
      }
    }
    return rows;
  } finally {
    worker.remove();
    removeDir(dir);
  }
}
