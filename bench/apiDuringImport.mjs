// `credits serve` while another process imports usage into the same local ledger file: p50/p99
// of GET /health and of POST /v1/usage (one event each, a usage-writer token) with no import
// (the baseline), then while `credits usage import` of BENCH_API_IMPORT_EVENTS events runs.
// The server waits for the import's write lock by timer, so /health must stay fast throughout
// (target p99 < 50 ms) and a usage event waits at most about one import batch (p99 < 250 ms).
// Both clients send one request at a time at a bounded rate (health 50/s, usage 20/s).
//
//   node bench/apiDuringImport.mjs       prints the figures (npm run build first)
//   node bench/run.mjs apiimport         the same through the runner
//
// Environment: BENCH_API_IMPORT_EVENTS (events imported, default 1000000),
// BENCH_API_IMPORT_IDLE_SECONDS (length of the baseline, 15), BENCH_IMPORT_TIMEOUT (seconds after
// which the import is stopped, 360).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { client, percentile, startServe } from './api.mjs';
import { DEPARTMENTS, USERS_PER_DEPARTMENT, creditsPerDepartment, userEmails, writeEvents } from './lib/events.mjs';
import { CLI, cli, envInt, log, measureProcess, nowMs, removeDir, row, seedLedger, snapshotCli, workDir } from './lib/util.mjs';

const HEALTH_INTERVAL_MS = 20;
const USAGE_INTERVAL_MS = 50;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls `send` one at a time, at most once per intervalMs, until `running()` is false. */
async function paced(intervalMs, running, send) {
  const latencies = [];
  let failures = 0;
  let firstFailure = null;
  for (let index = 0; running(); index += 1) {
    const started = nowMs();
    try {
      const answer = await send(index);
      latencies.push(answer.ms);
      if (!answer.ok) {
        failures += 1;
        firstFailure ??= `${answer.status}: ${answer.body.slice(0, 200)}`;
      }
    } catch (error) {
      failures += 1;
      firstFailure ??= error instanceof Error ? error.message : String(error);
    }
    await sleep(Math.max(0, intervalMs - (nowMs() - started)));
  }
  latencies.sort((a, b) => a - b);
  return { count: latencies.length, failures, firstFailure, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies.at(-1) ?? null };
}

/** /health and usage events side by side while `running()` holds. */
async function sample(server, token, phase, running) {
  const users = userEmails();
  const health = client(server.url, token, 1);
  const usage = client(server.url, token, 1);
  try {
    const [healthStats, usageStats] = await Promise.all([
      paced(HEALTH_INTERVAL_MS, running, async () => {
        const answer = await health.get('/health');
        return { ...answer, ok: answer.status === 200 };
      }),
      paced(USAGE_INTERVAL_MS, running, async (index) => {
        const event = { eventId: `${phase}-${index}`, user: users[index % users.length], model: 'gpt-4o-mini', inputTokens: 500, outputTokens: 200 };
        const answer = await usage.post('/v1/usage', event);
        return { ...answer, ok: answer.status === 201 };
      }),
    ]);
    return { health: healthStats, usage: usageStats };
  } finally {
    health.close();
    usage.close();
  }
}

function describe(label, stats) {
  const failed = stats.failures ? `, ${stats.failures} failed (${stats.firstFailure})` : '';
  return `${label}: ${stats.count} requests, p50 ${stats.p50?.toFixed(1)} ms, p99 ${stats.p99?.toFixed(1)} ms, max ${stats.max?.toFixed(1)} ms${failed}`;
}

/** Runs the import; samples the server until it ends. */
async function duringImport(server, token, ledger, file, timeoutMs) {
  let importing = true;
  const started = nowMs();
  const imported = measureProcess(process.execPath, [CLI, '--db', ledger, 'usage', 'import', file, '--json'], { timeoutMs }).finally(() => {
    importing = false;
  });
  const measured = await sample(server, token, 'during', () => importing);
  const result = await imported;
  let summary = null;
  try {
    summary = JSON.parse(result.stdout);
  } catch {
    // reported below
  }
  const problem = result.timedOut
    ? `the import was stopped after ${(result.wallMs / 1000).toFixed(0)} s`
    : result.code !== 0
      ? `the import exited with ${result.code}: ${result.stderr.trim().slice(0, 300)}`
      : null;
  return { ...measured, seconds: (nowMs() - started) / 1000, accepted: summary?.accepted ?? 0, problem };
}

function rowsOf(count, idle, during) {
  const note = (stats) =>
    `p50 ${stats.p50?.toFixed(1)} ms, max ${stats.max?.toFixed(1)} ms, ${stats.count} requests${stats.failures ? `; ${stats.failures} FAILED: ${stats.firstFailure}` : ''}`;
  const importNote = `import of ${during.accepted.toLocaleString('en-US')} events took ${during.seconds.toFixed(1)} s${during.problem ? `; PROBLEM: ${during.problem}` : ''}`;
  const figures = [
    ['GET /health', 'health', 50, '< 50 ms'],
    ['POST /v1/usage (one event)', 'usage', 250, '< 250 ms'],
  ];
  return figures.flatMap(([label, key, limitMs, target]) => [
    row({
      name: `${label} p99, idle server`,
      value: idle[key].p99,
      unit: 'ms',
      target,
      meets: idle[key].failures === 0 && idle[key].p99 < limitMs,
      note: note(idle[key]),
    }),
    row({
      name: `${label} p99 during \`usage import\` of ${count.toLocaleString('en-US')} events`,
      value: during[key].p99,
      unit: 'ms',
      baselineName: `${label} p99, idle server`,
      baselineValue: idle[key].p99,
      ratio: during[key].p99 / idle[key].p99,
      target,
      meets: during[key].failures === 0 && !during.problem && during[key].p99 < limitMs,
      note: `${note(during[key])}; ${importNote}`,
    }),
  ]);
}

export async function apiDuringImport() {
  const count = envInt('BENCH_API_IMPORT_EVENTS', 1_000_000);
  const idleSeconds = envInt('BENCH_API_IMPORT_IDLE_SECONDS', 15);
  const timeoutMs = envInt('BENCH_IMPORT_TIMEOUT', 360) * 1000;
  const dir = workDir('api-import');
  let server;
  try {
    const file = join(dir, 'events.jsonl');
    const ledger = join(dir, 'ledger.db');
    log(`generating ${count.toLocaleString('en-US')} events; seeding`);
    await writeEvents(file, count);
    // Enough for the import and for the usage events posted meanwhile (at most 20/s).
    const events = count + 20 * (idleSeconds + 10 + timeoutMs / 1000);
    seedLedger(ledger, { departments: DEPARTMENTS, usersPerDepartment: USERS_PER_DEPARTMENT, creditsPerDepartment: creditsPerDepartment(events) });
    const token = cli(ledger, ['token', 'create', '--role', 'usage-writer', '--name', 'bench', '--json']).token;
    server = await startServe(ledger);
    // Warm-up: lazy modules, JIT, prepared statements.
    await sample(server, token, 'warm', untilMs(nowMs() + 2000));
    log(`idle server, ${idleSeconds} s`);
    const idle = await sample(server, token, 'idle', untilMs(nowMs() + idleSeconds * 1000));
    log(describe('idle /health', idle.health));
    log(describe('idle POST /v1/usage', idle.usage));
    log(`credits usage import of ${count.toLocaleString('en-US')} events into the same ledger`);
    const during = await duringImport(server, token, ledger, file, timeoutMs);
    log(describe('during import /health', during.health));
    log(describe('during import POST /v1/usage', during.usage));
    log(`import: ${during.accepted.toLocaleString('en-US')} events in ${during.seconds.toFixed(1)} s${during.problem ? `; PROBLEM: ${during.problem}` : ''}`);
    return rowsOf(count, idle, during);
  } finally {
    if (server) await server.stop();
    removeDir(dir);
  }
}

function untilMs(deadlineMs) {
  return () => nowMs() < deadlineMs;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const snapshot = snapshotCli();
  try {
    const rows = await apiDuringImport();
    console.log('');
    for (const entry of rows) {
      const baseline = entry.baselineName ? ` (idle ${entry.baselineValue.toFixed(1)} ms, ${entry.ratio.toFixed(2)}x)` : '';
      console.log(`${entry.name}: ${entry.value.toFixed(1)} ms${baseline}; target ${entry.target}: ${entry.meets ? 'met' : 'NOT met'}; ${entry.note}`);
    }
  } finally {
    snapshot.remove();
  }
}
