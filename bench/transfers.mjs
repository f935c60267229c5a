// Transfers per second in one process (issue 2) against single-row inserts on the same machine.
// The ledger side calls the store API (transferCredits), not the CLI, so process start-up is not
// measured: esbuild bundles bench/lib/transferEntry.mjs from the TypeScript sources into
// bench/out/ (git-ignored; bare imports resolve from the project's node_modules there).
// Rounds alternate ledger and raw runs, each in a fresh child process; the median round counts.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, ensureOutDir, envInt, log, median, removeDir, row, runNodeJson, seedLedger, workDir } from './lib/util.mjs';

async function bundleEntry() {
  const outfile = join(ensureOutDir(), `transfer-bench-${process.pid}.mjs`);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  await build({
    entryPoints: [join(ROOT, 'bench', 'lib', 'transferEntry.mjs')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: ['better-sqlite3', '@libsql/client', 'drizzle-orm', 'drizzle-orm/*', 'pdfkit', '@inquirer/prompts'],
    define: { CREDITS_VERSION: JSON.stringify(pkg.version) },
    banner: { js: "import { createRequire as __credits_createRequire } from 'node:module'; const require = __credits_createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return outfile;
}

export async function transfers() {
  const count = envInt('BENCH_TRANSFERS', 2000);
  const rounds = envInt('BENCH_TRANSFER_ROUNDS', 3);
  const dir = workDir('transfers');
  let bundle;
  try {
    bundle = await bundleEntry();
    const ledger = join(dir, 'ledger.db');
    seedLedger(ledger, { departments: ['Engineering', 'Marketing'], usersPerDepartment: 1, creditsPerDepartment: 500_000 });
    const ledgerRates = [];
    const rawRates = [];
    for (let round = 0; round < rounds; round += 1) {
      const transfer = await runNodeJson(bundle, [ledger, String(count), 'Engineering', 'Marketing']);
      const raw = await runNodeJson(join(ROOT, 'bench', 'lib', 'rawInsert.mjs'), [join(dir, `raw-${round}.db`), 'per-tx', String(count)]);
      ledgerRates.push(transfer.perSecond);
      rawRates.push(raw.perSecond);
      log(`round ${round + 1}/${rounds}: ${transfer.perSecond.toFixed(0)} transfers/s, raw ${raw.perSecond.toFixed(0)} inserts/s`);
    }
    const value = median(ledgerRates);
    const baseline = median(rawRates);
    return [
      row({
        name: 'transfers in one process (store API, one write tx each)',
        value,
        unit: 'transfers/s',
        baselineName: 'raw better-sqlite3 single-row insert, one tx each (WAL, synchronous=FULL)',
        baselineValue: baseline,
        ratio: value / baseline,
        target: 'none set (issue 2 asks for the figure)',
        meets: null,
        note: `median of ${rounds} rounds of ${count.toLocaleString('en-US')} each; every transfer and every insert commits (and fsyncs the WAL) on its own`,
      }),
    ];
  } finally {
    if (bundle) rmSync(bundle, { force: true });
    removeDir(dir);
  }
}
