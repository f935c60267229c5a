// Runs the benchmarks, prints a table and writes bench/RESULTS.md. Figures only, no assertions.
//
//   npm run bench                          build, then every benchmark
//   node bench/run.mjs coldstart import    a subset (names: coldstart, transfers, import, remote, reports, api, api-import, holds,
//                                          completion, concurrency, statelog, remote-writes, verify, verify-since)
//
// Environment: BENCH_EVENTS (local import size, default 1000000), BENCH_REMOTE_EVENTS (sqld
// import size, default 100000), BENCH_COLDSTART_RUNS (15), BENCH_TRANSFERS (2000 per round),
// BENCH_TRANSFER_ROUNDS (3), BENCH_IMPORT_TIMEOUT and BENCH_REMOTE_TIMEOUT (seconds after which
// an import is stopped and its committed events counted: 360 and 120), BENCH_RESULTS (where to
// write the report, default bench/RESULTS.md). The reports benchmark: BENCH_REPORT_EVENTS
// (1000000), BENCH_REPORT_RUNS (7), BENCH_LEDGER_RUNS (3), BENCH_REPORT_FRESH=1 (regenerate its
// ledger instead of reusing the one cached in bench/out/), BENCH_LEDGER_BIN (a ledger binary).
// The api-import benchmark: BENCH_API_IMPORT_EVENTS (1000000), BENCH_API_IMPORT_IDLE_SECONDS (15).
// The statelog benchmark (the code before the state log, 5203653^1, checked out and built in
// bench/out/statelog-before, against this tree, alternating): BENCH_STATELOG_EVENTS (usage import
// size, 200000), BENCH_STATELOG_SINGLE (POST /v1/usage single events on a local ledger, 3000),
// BENCH_STATELOG_REMOTE_SINGLE (the same on sqld, 1000), BENCH_STATELOG_CLIENTS (clients posting
// at once, 4), BENCH_STATELOG_ROUNDS (runs of each version for those, 2),
// BENCH_STATELOG_VERIFY_EVENTS (events in the ledger verify checks, 1000000),
// BENCH_STATELOG_VERIFY_RUNS (verify runs per version, median, 3).
// The remote-writes benchmark (local file, sqld on loopback, sqld behind a delay proxy; see
// bench/remoteWrites.mjs): BENCH_REMOTE_WRITES_SECONDS (8 per measurement),
// BENCH_REMOTE_WRITES_WRITERS (4 writer processes and HTTP clients), BENCH_REMOTE_WRITES_EVENTS
// (10000 in the usage import), BENCH_REMOTE_WRITES_RTT_MS (10 ms added round trip, half each
// way), BENCH_REMOTE_WRITES_SCHEME (ws, or http: how writers reach sqld); CREDITS_BUSY_TIMEOUT_MS
// and CREDITS_DB_TIMEOUT_MS reach its writers, imports and servers.
// The verify benchmark (threaded verify vs one thread vs a two-thread scan-and-hash floor):
// BENCH_VERIFY_EVENTS (1000000), BENCH_VERIFY_RUNS (3), BENCH_VERIFY_LEDGER (verify this ledger file instead).
// The verify-since benchmark (verify --since-checkpoint vs the full verify, same run): BENCH_VERIFY_SINCE_EVENTS
// (events before the checkpoint, 1000000; the ledger is cached in bench/out/), BENCH_VERIFY_SINCE_NEW (after it,
// 100000), BENCH_VERIFY_SINCE_RUNS (3), BENCH_VERIFY_SINCE_FRESH=1 (regenerate the cached ledger).
// The holds benchmark: BENCH_HOLDS_SINGLE (4000), BENCH_HOLDS_CONCURRENCY (32), BENCH_HOLDS_ROUNDS (3),
// BENCH_HOLDS_REMOTE_SINGLE (1000), BENCH_HOLDS_REMOTE=0 (local ledger only).
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { apiThroughput } from './api.mjs';
import { apiDuringImport } from './apiDuringImport.mjs';
import { coldStart } from './coldstart.mjs';
import { holdsThroughput } from './holds.mjs';
import { completion } from './completion.mjs';
import { concurrency } from './concurrency.mjs';
import { importLocal } from './import.mjs';
import { ROOT, nowMs, snapshotCli } from './lib/util.mjs';
import { importRemote } from './remote.mjs';
import { remoteWrites } from './remoteWrites.mjs';
import { reports } from './reports.mjs';
import { stateLogCost } from './statelog.mjs';
import { transfers } from './transfers.mjs';
import { verifyThreads } from './verify.mjs';
import { verifySince } from './verifySince.mjs';

const BENCHMARKS = [
  { key: 'coldstart', title: 'Cold start', run: coldStart },
  { key: 'transfers', title: 'Transfers per second', run: transfers },
  { key: 'import', title: 'Usage import, local ledger', run: importLocal },
  { key: 'remote', title: 'Usage import, sqld on loopback', run: importRemote },
  { key: 'reports', title: 'Report, statement and forecast on 1M events vs ledger balance', run: reports },
  { key: 'api', title: 'Usage events through the HTTP API', run: apiThroughput },
  { key: 'api-import', title: 'HTTP API latency while another process imports usage', run: apiDuringImport },
  { key: 'holds', title: 'Hold+capture pairs through the HTTP API vs single usage events', run: holdsThroughput },
  { key: 'completion', title: 'Shell completion latency', run: completion },
  { key: 'concurrency', title: 'Write latency with concurrent processes', run: concurrency },
  { key: 'statelog', title: 'State log cost: before vs after, same run', run: stateLogCost },
  { key: 'verify', title: 'Full verify of a local ledger: threads vs one thread vs a two-thread scan-and-hash floor', run: verifyThreads },
  { key: 'verify-since', title: 'Incremental verify (--since-checkpoint) of 100k new events vs the full verify', run: verifySince },
  { key: 'remote-writes', title: 'Remote transfers and usage at 0 and 10 ms added round-trip time', run: remoteWrites },
];

const wanted = process.argv.slice(2).map((name) => name.toLowerCase());
const unknown = wanted.filter((name) => !BENCHMARKS.some((bench) => bench.key === name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; the benchmarks are ${BENCHMARKS.map((bench) => bench.key).join(', ')}`);
  process.exit(2);
}
const selected = wanted.length === 0 ? BENCHMARKS : BENCHMARKS.filter((bench) => wanted.includes(bench.key));

function machine() {
  const list = cpus();
  return {
    cores: list.length,
    memoryGb: totalmem() / 1024 ** 3,
    cpuModel: list[0]?.model?.trim() || 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  };
}

function format(value, unit = '') {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'NO';
  if (typeof value === 'string') return value;
  if (unit.startsWith('ms') || unit.startsWith('MB')) return value.toFixed(1);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(2);
}

function ratioText(ratio) {
  return ratio === null || ratio === undefined ? '-' : `${ratio.toFixed(2)}x`;
}

function loadText(values) {
  return values.map((value) => value.toFixed(2)).join(' / ');
}

const snapshot = snapshotCli();
// Ctrl-C: remove the snapshot; exiting runs the handler that ends a running sqld.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    snapshot.remove();
    process.exit(130);
  });
}
const info = machine();
const loadBefore = loadavg();
const started = nowMs();
const results = [];
for (const bench of selected) {
  process.stderr.write(`\n${bench.title} (${bench.key})\n`);
  const benchStarted = nowMs();
  try {
    const rows = await bench.run();
    results.push({ bench, rows, seconds: (nowMs() - benchStarted) / 1000 });
  } catch (error) {
    process.stderr.write(`  FAILED: ${error instanceof Error ? error.stack : String(error)}\n`);
    results.push({ bench, rows: [], seconds: (nowMs() - benchStarted) / 1000, error: error instanceof Error ? error.message : String(error) });
  }
}
snapshot.remove();
const totalSeconds = (nowMs() - started) / 1000;
const loadAfter = loadavg();

const header = ['benchmark', 'value', 'unit', 'baseline (same run)', 'baseline value', 'ratio', 'target', 'meets'];
const tableRows = results.flatMap(({ rows }) =>
  rows.map((entry) => [
    entry.name,
    format(entry.value, entry.unit),
    entry.unit,
    entry.baselineName ?? '-',
    format(entry.baselineValue, entry.unit),
    ratioText(entry.ratio),
    entry.target ?? '-',
    format(entry.meets),
  ]),
);

// Terminal table.
const widths = header.map((title, column) => Math.min(60, Math.max(title.length, ...tableRows.map((cells) => cells[column].length))));
const clip = (text, width) => (text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width));
console.log('');
console.log(header.map((title, column) => clip(title, widths[column])).join('  '));
console.log(widths.map((width) => '-'.repeat(width)).join('  '));
for (const cells of tableRows) console.log(cells.map((cell, column) => clip(cell, widths[column])).join('  '));
for (const { bench, error } of results) if (error) console.log(`${bench.key}: FAILED: ${error}`);
console.log(
  `\n${info.cores} cores, ${info.memoryGb.toFixed(1)} GB, ${info.cpuModel}, node ${info.node}; load ${loadText(loadBefore)} before, ${loadText(loadAfter)} after; ${totalSeconds.toFixed(0)} s`,
);

// bench/RESULTS.md
const envUsed = [
  'BENCH_EVENTS',
  'BENCH_REMOTE_EVENTS',
  'BENCH_COLDSTART_RUNS',
  'BENCH_TRANSFERS',
  'BENCH_TRANSFER_ROUNDS',
  'BENCH_IMPORT_TIMEOUT',
  'BENCH_REMOTE_TIMEOUT',
  'BENCH_API_IMPORT_EVENTS',
  'BENCH_STATELOG_EVENTS',
  'BENCH_STATELOG_SINGLE',
  'BENCH_STATELOG_REMOTE_SINGLE',
  'BENCH_STATELOG_CLIENTS',
  'BENCH_STATELOG_ROUNDS',
  'BENCH_STATELOG_VERIFY_EVENTS',
  'BENCH_STATELOG_VERIFY_RUNS',
  'BENCH_REMOTE_WRITES_SECONDS',
  'BENCH_REMOTE_WRITES_WRITERS',
  'BENCH_REMOTE_WRITES_EVENTS',
  'BENCH_REMOTE_WRITES_RTT_MS',
  'BENCH_REMOTE_WRITES_SCHEME',
  'CREDITS_BUSY_TIMEOUT_MS',
  'CREDITS_DB_TIMEOUT_MS',
  'BENCH_VERIFY_EVENTS',
  'BENCH_VERIFY_RUNS',
  'BENCH_VERIFY_LEDGER',
  'BENCH_HOLDS_SINGLE',
  'BENCH_HOLDS_CONCURRENCY',
  'BENCH_HOLDS_ROUNDS',
  'BENCH_HOLDS_REMOTE_SINGLE',
]
  .filter((name) => process.env[name])
  .map((name) => `${name}=${process.env[name]}`);
const command = `${envUsed.length ? `${envUsed.join(' ')} ` : ''}${wanted.length === 0 && process.env.npm_lifecycle_event === 'bench' ? 'npm run bench' : `node bench/run.mjs${wanted.length ? ` ${wanted.join(' ')}` : ''}`}`;
const escapeCell = (text) => String(text).replace(/\|/g, '\\|');
const lines = [
  '# Benchmark results',
  '',
  `Written by \`${escapeCell(command)}\` on ${info.date} (${totalSeconds.toFixed(0)} s in all). Benchmarks run: ${selected.map((bench) => bench.key).join(', ')}.`,
  'Every baseline was measured in the same run on the same machine. These are figures, not pass/fail tests.',
  '',
  '## Machine',
  '',
  `- CPU: ${info.cpuModel}, ${info.cores} cores`,
  `- Memory: ${info.memoryGb.toFixed(1)} GB`,
  `- Node.js: ${info.node} (${info.platform})`,
  `- Date: ${info.date}`,
  `- Load average (1/5/15 min): ${loadText(loadBefore)} before, ${loadText(loadAfter)} after`,
  '',
  '## Figures',
  '',
  `| ${header.join(' | ')} |`,
  `|${header.map((_, column) => (column === 0 || column === 2 || column === 3 || column === 6 ? '---' : '---:')).join('|')}|`,
  ...tableRows.map((cells) => `| ${cells.map(escapeCell).join(' | ')} |`),
  '',
  '## Notes',
  '',
];
for (const { bench, rows, seconds, error } of results) {
  lines.push(`- **${bench.title}** (\`${bench.key}\`, ${seconds.toFixed(0)} s)${error ? `: FAILED: ${escapeCell(error)}` : ''}`);
  for (const entry of rows) if (entry.note) lines.push(`  - ${escapeCell(entry.name)}: ${entry.note}`);
}
lines.push(
  '',
  'Ratios are value / baseline. For cold start lower is better (target <= 1.5x `node -e 0`); for',
  'throughput higher is better. The import rate covers the whole `credits usage import` command',
  '(start-up, reading, parsing, pricing, posting); the raw rate covers the insert loop alone.',
  '',
  Math.max(...loadBefore, ...loadAfter) > info.cores
    ? `Noise: the load average passed the ${info.cores} cores during this run: other work (such as test runs) shared the machine, so every figure, the baselines included, is slower and less steady than on an idle machine. Interleaved runs and same-run baselines keep the ratios more meaningful than the absolute figures.`
    : 'Noise: the load average stayed below the core count during this run; figures still vary from run to run.',
  '',
);
const resultsFile = process.env.BENCH_RESULTS ? resolve(process.env.BENCH_RESULTS) : join(ROOT, 'bench', 'RESULTS.md');
writeFileSync(resultsFile, `${lines.join('\n')}`);
console.log(`wrote ${relative(process.cwd(), resultsFile) || resultsFile}`);
process.exitCode = results.some((result) => result.error) ? 1 : 0;
