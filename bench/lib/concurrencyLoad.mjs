// Shared by bench/concurrency.mjs and test/stress/concurrency.stress.test.ts: N processes post a
// random mix of operations on one department at once for a fixed time (see concurrencyWorker.mjs),
// and this collects what each process reports: every operation with its outcome and latency.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CHILD_ENV, ROOT, cli, ensureOutDir } from './util.mjs';

export const ADA_DAILY_LIMIT_CREDITS = 150;
export const USAGE_DAY = '2026-06-10';

/** Bundles the worker (it imports the TypeScript sources) into bench/out/; returns its path and a remover. */
export async function bundleWorker() {
  const outfile = join(ensureOutDir(), `concurrency-worker-${process.pid}-${Date.now()}.mjs`);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  await build({
    entryPoints: [join(ROOT, 'bench', 'lib', 'concurrencyWorker.mjs')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: ['better-sqlite3', '@libsql/client', 'drizzle-orm', 'drizzle-orm/*', 'pdfkit', '@inquirer/prompts', 'nodemailer'],
    define: { CREDITS_VERSION: JSON.stringify(pkg.version) },
    banner: { js: "import { createRequire as __credits_createRequire } from 'node:module'; const require = __credits_createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return { path: outfile, remove: () => rmSync(outfile, { force: true }) };
}

/**
 * The ledger the workers share: Engineering (ada with a daily limit, bea without) holds 500
 * credits, Marketing none, org 10,000 minus that. Works for a path and a libSQL URL alike.
 */
export function seedConcurrencyLedger(db) {
  cli(db, ['init', '--org', 'Load GmbH', '--timezone', 'UTC', '--json']);
  cli(db, ['dept', 'add', 'Engineering', '--json']);
  cli(db, ['dept', 'add', 'Marketing', '--json']);
  cli(db, ['user', 'add', 'ada@example.com', '--dept', 'Engineering', '--json']);
  cli(db, ['user', 'add', 'bea@example.com', '--dept', 'Engineering', '--json']);
  cli(db, ['buy', 'professional', '--method', 'card', '--yes', '--json']);
  cli(db, ['transfer', '500', '--from', 'org', '--to', 'Engineering', '--yes', '--json']);
  cli(db, ['limits', 'set', '--user', 'ada@example.com', '--daily', String(ADA_DAILY_LIMIT_CREDITS), '--yes', '--json']);
}

export function percentile(sorted, fraction) {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index];
}

/** p50/p99/max latency (ms) and counts per operation kind, and over all. */
export function latencyStats(ops) {
  const kinds = [...new Set(ops.map((op) => op.kind))].sort();
  const stats = {};
  for (const kind of [...kinds, 'all']) {
    const chosen = kind === 'all' ? ops : ops.filter((op) => op.kind === kind);
    const sorted = chosen.map((op) => op.ms).sort((a, b) => a - b);
    stats[kind] = {
      count: chosen.length,
      accepted: chosen.filter((op) => op.ok).length,
      refused: chosen.filter((op) => !op.ok).length,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.length ? sorted[sorted.length - 1] : null,
    };
  }
  return stats;
}

export function formatStats(label, stats) {
  const lines = [`${label}`];
  for (const [kind, s] of Object.entries(stats)) {
    const f = (value) => (value === null ? '-' : value.toFixed(1).padStart(8));
    lines.push(
      `  ${kind.padEnd(9)} n=${String(s.count).padStart(6)} accepted=${String(s.accepted).padStart(6)} refused=${String(s.refused).padStart(6)}  p50 ${f(s.p50)} ms  p99 ${f(s.p99)} ms  max ${f(s.max)} ms`,
    );
  }
  return lines.join('\n');
}

/**
 * Runs `workers` worker processes against `location` for `durationMs`, all started together.
 * `env` adds to the children's environment (CREDITS_LOCK_MODE=busy_timeout for the baseline).
 * Resolves with every reported operation and each worker's exit code and stderr.
 */
export async function runLoad({ worker, location, workers, durationMs, env = {}, seed = 1 }) {
  const children = Array.from({ length: workers }, (_unused, index) => {
    const child = spawn(process.execPath, [worker, location, String(index), String(durationMs), String(seed * 1000 + index + 1)], {
      env: { ...CHILD_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr = (stderr + chunk).slice(-10000)));
    const exited = new Promise((resolveExit) => child.once('close', (code, signal) => resolveExit({ code: code ?? signal, stdout, stderr })));
    return { child, exited };
  });
  const killTimer = setTimeout(() => {
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
  }, durationMs + 60_000);
  try {
    const outcomes = await Promise.all(children.map((entry) => entry.exited));
    const ops = outcomes.flatMap((outcome) =>
      outcome.stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line)),
    );
    return { ops, workers: outcomes.map(({ code, stderr }) => ({ code, stderr })) };
  } finally {
    clearTimeout(killTimer);
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
