// Remote writes with added round-trip time (issue 17): the figures to compare before and after a
// remote write holds sqld's write lock for one round trip only. In one run, on three targets:
//   - a local ledger file (the baseline of every ratio),
//   - sqld on loopback, connected directly (0 ms added),
//   - the same through bench/lib/delayProxy.mjs, a TCP proxy on loopback that adds
//     BENCH_REMOTE_WRITES_RTT_MS (10) of round-trip time, half each way,
// it measures, each for BENCH_REMOTE_WRITES_SECONDS (8):
//   - transfers/s from 1 writer process and from BENCH_REMOTE_WRITES_WRITERS (4) writer processes
//     at once, back and forth between Engineering and Marketing;
//   - usage events/s posted one at a time (one write transaction each) by 1 writer process;
//   - `credits usage import` of BENCH_REMOTE_WRITES_EVENTS (10,000) events: events/s over the
//     whole command (start-up included), as bench/import.mjs counts it;
//   - transfers/s through `credits serve` (one writer for the ledger, the proxy between serve and
//     sqld) from BENCH_REMOTE_WRITES_WRITERS concurrent HTTP clients (POST /v1/transfers, an
//     operator token, keep-alive).
// Writer processes call the store API (transferCredits, recordUsage), as
// bench/lib/transferEntry.mjs and concurrencyWorker.mjs do, not the CLI: the worker below is
// bundled from the TypeScript sources by esbuild into bench/out/ and started once per writer;
// every writer opens its own connection, warms up with two writes, then all start together.
// A remote writer connects with BENCH_REMOTE_WRITES_SCHEME (ws, what libsql:// URLs use; or
// http). CREDITS_BUSY_TIMEOUT_MS and CREDITS_DB_TIMEOUT_MS reach every writer, import and server.
//
// Several direct writers on sqld 0.24.32 can hit its write-lock bug (the lock is never granted
// again until sqld restarts): a writer then ends each write with STORAGE_BUSY after its wait.
// Such failures are counted (STORAGE_BUSY, STORAGE_TIMEOUT, OUTCOME_UNKNOWN as stalls, anything
// else as errors) and reported as figures; after a measurement with any, sqld is restarted with
// a fresh ledger before the next one. Figures only, no assertions.
//
//   node bench/run.mjs remote-writes      (npm run build first)
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { client as httpClient, percentile, startServe } from './api.mjs';
import { timedImport } from './import.mjs';
import { startDelayProxy } from './lib/delayProxy.mjs';
import { DEPARTMENTS, USERS_PER_DEPARTMENT, writeEvents } from './lib/events.mjs';
import { CHILD_ENV, ROOT, cli, ensureOutDir, envInt, log, median, nowMs, removeDir, row, seedLedger, startSqld, workDir } from './lib/util.mjs';

/** Failures that mean a write never got its lock or its answer; anything else is an error. */
const STALL_CODES = new Set(['STORAGE_BUSY', 'STORAGE_TIMEOUT', 'OUTCOME_UNKNOWN', 'KILLED', 'NO_ANSWER', 'IMPORT_STOPPED', 'IMPORT_STALLED']);
const CREDITS_PER_DEPARTMENT = 2_000_000;
const BUSY_TIMEOUT_MS = Number(process.env.CREDITS_BUSY_TIMEOUT_MS || 5000);
const DB_TIMEOUT_MS = Number(process.env.CREDITS_DB_TIMEOUT_MS || 30_000);

// The writer process, bundled by bundleWorker() with its imports resolved from bench/lib/.
// Usage: node worker.mjs LOCATION transfer|usage WORKER DURATION_MS RUN_ID
// Opens the ledger, makes two writes to warm up, prints "ready", waits for a line on stdin, then
// writes one at a time for DURATION_MS and prints one JSON line: its counts, failures by error
// code, when it started and ended (epoch ms) and the p50/p99/max latency of its writes.
const WORKER_SOURCE = `
import { performance } from 'node:perf_hooks';
import { parseUsageRecord } from '../../src/core/usageRecord.ts';
import { openLedger } from '../../src/store/open.ts';
import { transferCredits } from '../../src/store/ops/money.ts';
import { recordUsage } from '../../src/store/ops/usage.ts';
import { userEmails } from './events.mjs';

const [location, kind, workerText, durationText, runId] = process.argv.slice(2);
const worker = Number(workerText);
const durationMs = Number(durationText);
const busyTimeoutMs = Number(process.env.CREDITS_BUSY_TIMEOUT_MS || 5000);
const timeoutMs = Number(process.env.CREDITS_DB_TIMEOUT_MS || 30000);
const db = await openLedger({ location, busyTimeoutMs, timeoutMs }, { mayCreate: false });
const users = userEmails();
const actor = 'bench-' + worker;
let index = 0;

async function once() {
  index += 1;
  if (kind === 'transfer') {
    // Writers start in turns of direction, so that the balances stay where they were.
    const [from, to] = (index + worker) % 2 === 0 ? ['Engineering', 'Marketing'] : ['Marketing', 'Engineering'];
    const args = { from, to, millicredits: 1500, reason: 'bench' };
    await transferCredits(db, { command: 'transfer', args, actor, nowMs: Date.now() }, args);
  } else {
    const raw = { eventId: runId + '-w' + worker + '-' + index, user: users[index % users.length], model: 'gpt-4o-mini', inputTokens: 500, outputTokens: 200 };
    const record = parseUsageRecord(raw, { timeZone: 'UTC', nowMs: Date.now(), requireEventId: false });
    await recordUsage(db, { command: 'usage record', args: raw, actor, nowMs: Date.now() }, record, 'UTC');
  }
}

const outcome = { worker, ok: 0, errors: {}, firstError: null, warmupErrors: {}, startMs: 0, endMs: 0, p50: null, p99: null, max: null };
function failed(counts, error) {
  const code = error?.code ?? 'THROWN';
  counts[code] = (counts[code] ?? 0) + 1;
  outcome.firstError ??= code + ': ' + String(error?.message ?? error).slice(0, 300);
}
try {
  for (let warm = 0; warm < 2; warm += 1) await once().catch((error) => failed(outcome.warmupErrors, error));
  process.stdout.write('ready\\n');
  await new Promise((resolveGo) => process.stdin.once('data', resolveGo));
  const latencies = [];
  outcome.startMs = Date.now();
  while (Date.now() - outcome.startMs < durationMs) {
    const started = performance.now();
    try {
      await once();
      outcome.ok += 1;
    } catch (error) {
      failed(outcome.errors, error);
    }
    latencies.push(performance.now() - started);
  }
  outcome.endMs = Date.now();
  latencies.sort((a, b) => a - b);
  const pick = (fraction) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(fraction * latencies.length) - 1))] : null);
  Object.assign(outcome, { p50: pick(0.5), p99: pick(0.99), max: latencies.at(-1) ?? null });
  process.stdout.write(JSON.stringify(outcome) + '\\n');
} finally {
  process.stdin.destroy();
  await db.close();
}
`;

async function bundleWorker() {
  const outfile = join(ensureOutDir(), `remote-writes-worker-${process.pid}.mjs`);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  await build({
    stdin: { contents: WORKER_SOURCE, resolveDir: join(ROOT, 'bench', 'lib'), sourcefile: 'remoteWritesWorker.mjs', loader: 'js' },
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

function addCounts(into, from) {
  for (const [code, count] of Object.entries(from ?? {})) into[code] = (into[code] ?? 0) + count;
  return into;
}

function countsText(counts) {
  const entries = Object.entries(counts);
  return entries.length ? entries.map(([code, count]) => `${count} ${code}`).join(', ') : 'none';
}

/** Failures split into stalls (the write lock or the server never answered) and other errors. */
function splitFailures(counts) {
  let stalls = 0;
  let errors = 0;
  for (const [code, count] of Object.entries(counts)) {
    if (STALL_CODES.has(code)) stalls += count;
    else errors += count;
  }
  return { stalls, errors };
}

/**
 * Runs `writers` worker processes on `location`: all open the ledger and warm up, then start
 * together and write for durationMs. A worker that does not end in time is killed and counted.
 */
async function runWriters(worker, location, kind, writers, durationMs, runId) {
  const children = Array.from({ length: writers }, (_unused, index) => {
    const child = spawn(process.execPath, [worker, location, kind, String(index), String(durationMs), runId], {
      env: CHILD_ENV,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const state = { child, stdout: '', stderr: '' };
    state.exited = new Promise((resolveExit) => child.once('close', (code, signal) => resolveExit(code ?? signal)));
    state.ready = new Promise((resolveReady) => {
      child.stdout.setEncoding('utf8').on('data', (chunk) => {
        state.stdout += chunk;
        if (state.stdout.startsWith('ready\n')) resolveReady(true);
      });
      state.exited.then(() => resolveReady(false));
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => (state.stderr = (state.stderr + chunk).slice(-4000)));
    child.stdin.on('error', () => undefined);
    return state;
  });
  const killAll = () => {
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  // Opening and two warm-up writes, each of which may wait out its deadlines once.
  let killed = false;
  let killTimer = setTimeout(
    () => {
      killed = true;
      killAll();
    },
    30_000 + 2 * (BUSY_TIMEOUT_MS + DB_TIMEOUT_MS),
  );
  try {
    await Promise.all(children.map((state) => state.ready));
    clearTimeout(killTimer);
    killTimer = setTimeout(
      () => {
        killed = true;
        killAll();
      },
      durationMs + BUSY_TIMEOUT_MS + DB_TIMEOUT_MS + 15_000,
    );
    for (const { child } of children) if (child.exitCode === null) child.stdin.write('go\n');
    const codes = await Promise.all(children.map((state) => state.exited));
    const failures = {};
    const warmupFailures = {};
    const outcomes = [];
    let firstError = null;
    children.forEach((state, index) => {
      const last = state.stdout.trim().split('\n').at(-1) ?? '';
      let outcome = null;
      try {
        outcome = last.startsWith('{') ? JSON.parse(last) : null;
      } catch {
        // counted below
      }
      if (outcome) {
        outcomes.push(outcome);
        addCounts(failures, outcome.errors);
        addCounts(warmupFailures, outcome.warmupErrors);
        firstError ??= outcome.firstError;
      } else {
        addCounts(failures, { [killed ? 'KILLED' : 'WORKER_FAILED']: 1 });
        firstError ??= `writer ${index} ${killed ? 'killed after its time' : `exited with ${codes[index]}`}: ${state.stderr.trim().slice(-300)}`;
      }
    });
    const ok = outcomes.reduce((sum, outcome) => sum + outcome.ok, 0);
    const spanMs = outcomes.length ? Math.max(...outcomes.map((o) => o.endMs)) - Math.min(...outcomes.map((o) => o.startMs)) : durationMs;
    const p50 = outcomes.length ? median(outcomes.map((o) => o.p50 ?? 0)) : null;
    const p99 = outcomes.length ? Math.max(...outcomes.map((o) => o.p99 ?? 0)) : null;
    const max = outcomes.length ? Math.max(...outcomes.map((o) => o.max ?? 0)) : null;
    const all = addCounts({ ...failures }, warmupFailures);
    // Every write made, warm-up included (two per writer).
    const attempts = outcomes.reduce((sum, outcome) => sum + outcome.ok + 2 + Object.values(outcome.errors).reduce((a, b) => a + b, 0), 0);
    return { ok, attempts, perSecond: ok / (spanMs / 1000), spanMs, failures, warmupFailures, firstError, p50, p99, max, ...splitFailures(all) };
  } finally {
    clearTimeout(killTimer);
    killAll();
  }
}

function transferBody(index) {
  const [from, to] = index % 2 === 0 ? ['Engineering', 'Marketing'] : ['Marketing', 'Engineering'];
  return { amount: '1.5', from, to, reason: 'bench' };
}

/** POST /v1/transfers from `clients` keep-alive clients at once for durationMs, through `credits serve` on `location`. */
async function serveTransfers(location, token, clients, durationMs) {
  const server = await startServe(location);
  const http = httpClient(server.url, token, clients);
  const failures = {};
  let firstError = null;
  const fail = (code, text) => {
    failures[code] = (failures[code] ?? 0) + 1;
    firstError ??= text;
  };
  const answerWithin = (promise, ms) =>
    Promise.race([promise, new Promise((resolveLate) => setTimeout(() => resolveLate(null), ms).unref())]).catch((error) => ({
      status: 0,
      body: String(error),
    }));
  const requestTimeoutMs = BUSY_TIMEOUT_MS + DB_TIMEOUT_MS + 5000;
  try {
    for (let index = 0; index < 10; index += 1) {
      const answer = await answerWithin(http.post('/v1/transfers', transferBody(index)), requestTimeoutMs);
      if (answer?.status !== 200) fail('WARMUP_FAILED', `warm-up: ${answer ? `${answer.status} ${answer.body.slice(0, 200)}` : 'no answer'}`);
    }
    const latencies = [];
    let ok = 0;
    const started = nowMs();
    await Promise.all(
      Array.from({ length: clients }, async (_unused, client) => {
        for (let index = client; nowMs() - started < durationMs; index += clients) {
          const answer = await answerWithin(http.post('/v1/transfers', transferBody(index)), requestTimeoutMs);
          if (answer === null) {
            // Its connection is still waiting: this client stops.
            fail('NO_ANSWER', `no answer within ${requestTimeoutMs} ms`);
            return;
          }
          latencies.push(answer.ms);
          if (answer.status === 200) {
            ok += 1;
            continue;
          }
          let code = `HTTP_${answer.status}`;
          try {
            code = JSON.parse(answer.body).error?.code ?? code;
          } catch {
            // keep the status
          }
          fail(code, `${answer.status}: ${answer.body.slice(0, 300)}`);
        }
      }),
    );
    const spanMs = nowMs() - started;
    latencies.sort((a, b) => a - b);
    return {
      ok,
      attempts: ok + 10 + Object.values(failures).reduce((a, b) => a + b, 0),
      perSecond: ok / (spanMs / 1000),
      spanMs,
      failures,
      warmupFailures: {},
      firstError,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      max: latencies.at(-1) ?? null,
      ...splitFailures(failures),
    };
  } finally {
    http.close();
    await server.stop();
  }
}

/** Median of `SELECT 1` over one connection (the libSQL client) at `url`. */
async function selectOneMs(url, rounds = 40) {
  const { createClient } = await import('@libsql/client');
  const client = createClient({ url, intMode: 'number' });
  try {
    for (let index = 0; index < 5; index += 1) await client.execute('SELECT 1');
    const times = [];
    for (let index = 0; index < rounds; index += 1) {
      const started = nowMs();
      await client.execute('SELECT 1');
      times.push(nowMs() - started);
    }
    return median(times);
  } finally {
    client.close();
  }
}

/** Seeds a ledger (path or URL): departments, users, credits; returns an operator token for serve. */
function seed(db) {
  seedLedger(db, { departments: DEPARTMENTS, usersPerDepartment: USERS_PER_DEPARTMENT, creditsPerDepartment: CREDITS_PER_DEPARTMENT });
  return cli(db, ['token', 'create', '--role', 'operator', '--name', 'bench', '--json']).token;
}

/**
 * A target: where writers connect (`location`), seeded once; `restart()` gives a fresh sqld
 * (and a fresh proxy in front of it) with a freshly seeded ledger.
 */
async function openTarget(kind, dir, { scheme, rttMs }) {
  if (kind === 'local') {
    const location = join(dir, 'ledger.db');
    const token = seed(location);
    return { kind, label: 'local file', location, token, restarts: 0, sent: () => null, restart: async () => undefined, stop: async () => undefined };
  }
  const target = { kind, label: kind === 'proxy' ? `sqld +${rttMs} ms RTT` : 'sqld loopback', restarts: 0 };
  let sqld;
  let proxy;
  // Chunks sent to sqld through the proxy so far, over every proxy this target had.
  let sentBefore = 0;
  target.sent = () => (kind === 'proxy' ? sentBefore + (proxy?.stats.up.chunks ?? 0) : null);
  const start = async () => {
    sqld = await startSqld();
    const port = Number(new URL(sqld.url).port);
    target.token = seed(sqld.url);
    if (kind === 'proxy') {
      proxy = await startDelayProxy({ port, rttMs });
      target.location = `${scheme}://127.0.0.1:${proxy.port}`;
      target.directUrl = `${scheme}://127.0.0.1:${port}`;
    } else {
      target.location = `${scheme}://127.0.0.1:${port}`;
    }
    log(`${target.label}: sqld pid ${sqld.pid}, writers use ${target.location}`);
  };
  target.stop = async () => {
    sentBefore += proxy?.stats.up.chunks ?? 0;
    await proxy?.stop();
    proxy = undefined;
    await sqld?.stop();
    sqld = undefined;
  };
  target.restart = async () => {
    target.restarts += 1;
    log(`${target.label}: restarting sqld with a fresh ledger`);
    await target.stop();
    await start();
  };
  await start();
  return target;
}

const FIGURES = (writers, events) => [
  { key: 'transfer1', name: 'transfers, 1 writer', unit: 'transfers/s' },
  { key: 'transferN', name: `transfers, ${writers} writers`, unit: 'transfers/s' },
  { key: 'usage1', name: 'usage one at a time, 1 writer', unit: 'events/s' },
  { key: 'import', name: `usage import, ${events.toLocaleString('en-US')} events`, unit: 'events/s' },
  { key: 'serve', name: `serve transfers, ${writers} HTTP clients`, unit: 'transfers/s' },
];

function describeResult(result) {
  const latency =
    result.p50 === null || result.p50 === undefined
      ? ''
      : `; latency p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, max ${result.max.toFixed(1)} ms`;
  const failures = addCounts({ ...result.failures }, result.warmupFailures);
  const failed = Object.keys(failures).length
    ? `; FAILED: ${countsText(failures)}${Object.keys(result.warmupFailures ?? {}).length ? ` (warm-up: ${countsText(result.warmupFailures)})` : ''}; first: ${result.firstError}`
    : '';
  return `${result.ok.toLocaleString('en-US')} in ${(result.spanMs / 1000).toFixed(1)} s${latency}${failed}`;
}

/** Chunks sent to sqld per write through the proxy: at most its round trips (pipelined requests count too). */
function perWrite(result) {
  if (result.requestsPerWrite === undefined) return '';
  return ` About ${result.requestsPerWrite.toFixed(1)} chunks sent to sqld per write through the proxy (opening the ledger and warm-up writes included): at most that many round trips.`;
}

export async function remoteWrites() {
  const seconds = envInt('BENCH_REMOTE_WRITES_SECONDS', 8);
  const writers = envInt('BENCH_REMOTE_WRITES_WRITERS', 4);
  const events = envInt('BENCH_REMOTE_WRITES_EVENTS', 10_000);
  const rttMs = envInt('BENCH_REMOTE_WRITES_RTT_MS', 10);
  const scheme = (process.env.BENCH_REMOTE_WRITES_SCHEME || 'ws').toLowerCase();
  if (!['ws', 'http'].includes(scheme)) throw new Error(`BENCH_REMOTE_WRITES_SCHEME must be ws or http, got ${JSON.stringify(scheme)}`);
  const durationMs = seconds * 1000;
  const figures = FIGURES(writers, events);
  const dir = workDir('remote-writes');
  const worker = await bundleWorker();
  const measured = {};
  const targets = [];
  let rtt = null;
  let runs = 0;
  try {
    const file = join(dir, 'events.jsonl');
    await writeEvents(file, events, { prefix: 'rw' });
    /** One figure on one target. */
    const measure = async (key, target, runId) => {
      if (key === 'transfer1') return runWriters(worker.path, target.location, 'transfer', 1, durationMs, runId);
      if (key === 'transferN') return runWriters(worker.path, target.location, 'transfer', writers, durationMs, runId);
      if (key === 'usage1') return runWriters(worker.path, target.location, 'usage', 1, durationMs, runId);
      if (key === 'serve') return serveTransfers(target.location, target.token, writers, durationMs);
      const imported = await timedImport(target.location, file, events, { timeoutMs: 120_000 });
      const problems = imported.problems.join('; ');
      const code = imported.timedOut ? 'IMPORT_STOPPED' : /STORAGE_BUSY|STORAGE_TIMEOUT|write lock/i.test(problems) ? 'IMPORT_STALLED' : 'IMPORT_FAILED';
      const failures = problems ? { [code]: 1 } : {};
      return {
        ok: imported.posted,
        // A failed import counts what it posted, not what it was given.
        perSecond: imported.failed ? (imported.posted * 1000) / imported.wallMs : imported.perSecond,
        spanMs: imported.wallMs,
        failures,
        warmupFailures: {},
        firstError: problems || null,
        p50: null,
        ...splitFailures(failures),
      };
    };
    for (const kind of ['local', 'sqld', 'proxy']) {
      const targetDir = join(dir, kind);
      const target = await openTarget(kind, targetDir, { scheme, rttMs });
      targets.push(target);
      measured[kind] = {};
      try {
        if (kind === 'proxy') {
          const direct = await selectOneMs(target.directUrl);
          const proxied = await selectOneMs(target.location);
          rtt = { direct, proxied, added: proxied - direct };
          log(`${target.label}: SELECT 1 takes ${direct.toFixed(2)} ms direct, ${proxied.toFixed(2)} ms through the proxy`);
        }
        for (const figure of figures) {
          runs += 1;
          const runId = `r${runs}`;
          const sentBefore = target.sent();
          let result;
          try {
            result = await measure(figure.key, target, runId);
          } catch (error) {
            // A measurement that could not run at all is a figure of 0 with its reason.
            const failures = { MEASUREMENT_FAILED: 1 };
            const firstError = error instanceof Error ? error.message.slice(0, 500) : String(error);
            result = { ok: 0, perSecond: 0, spanMs: 0, failures, warmupFailures: {}, firstError, p50: null, ...splitFailures(failures) };
          }
          const sent = target.sent();
          measured[kind][figure.key] = { ...result, restarted: false };
          if (sent !== null && result.attempts) measured[kind][figure.key].requestsPerWrite = (sent - sentBefore) / result.attempts;
          log(`${target.label}: ${figure.name}: ${result.perSecond.toFixed(0)} ${figure.unit} (${describeResult(result)})`);
          if (kind !== 'local' && result.stalls + result.errors > 0) {
            measured[kind][figure.key].restarted = true;
            await target.restart();
          }
        }
      } finally {
        await target.stop();
      }
    }

    const rows = [];
    const sameAs = (kind) => (kind === 'local' ? null : 'the same on a local ledger file');
    for (const figure of figures) {
      const local = measured.local[figure.key];
      for (const target of targets) {
        const result = measured[target.kind][figure.key];
        const versusLoopback =
          target.kind === 'proxy' ? ` ${(result.perSecond / measured.sqld[figure.key].perSecond).toFixed(2)}x the same on sqld loopback.` : '';
        rows.push(
          row({
            name: `${figure.name}: ${target.label}`,
            value: result.perSecond,
            unit: figure.unit,
            baselineName: sameAs(target.kind),
            baselineValue: target.kind === 'local' ? null : local.perSecond,
            ratio: target.kind === 'local' ? null : result.perSecond / local.perSecond,
            target: 'none set (issue 17: before figures)',
            meets: null,
            note: `${describeResult(result)}.${versusLoopback}${perWrite(result)}${result.restarted ? ' sqld was restarted with a fresh ledger afterwards.' : ''}`,
          }),
        );
      }
    }
    for (const target of targets) {
      const results = figures.map((figure) => [figure, measured[target.kind][figure.key]]);
      const stalls = results.reduce((sum, [, result]) => sum + result.stalls, 0);
      const errors = results.reduce((sum, [, result]) => sum + result.errors, 0);
      const where = results
        .filter(([, result]) => result.stalls + result.errors > 0)
        .map(([figure, result]) => `${figure.name}: ${countsText(addCounts({ ...result.failures }, result.warmupFailures))}`);
      rows.push(
        row({
          name: `stalled writes (lock never granted, no answer): ${target.label}`,
          value: String(stalls),
          unit: 'writes',
          target: 'none set',
          meets: null,
          note: `${errors} other failed writes; ${where.length ? where.join('; ') : 'none failed'}; sqld restarts: ${target.restarts}`,
        }),
      );
    }
    if (rtt) {
      rows.push(
        row({
          name: 'delay proxy: added round trip (SELECT 1, median)',
          value: rtt.added,
          unit: 'ms',
          baselineName: 'asked for (BENCH_REMOTE_WRITES_RTT_MS)',
          baselineValue: rttMs,
          ratio: rtt.added / rttMs,
          target: 'none set',
          meets: null,
          note: `SELECT 1 over ${scheme}:// took ${rtt.direct.toFixed(2)} ms direct and ${rtt.proxied.toFixed(2)} ms through the proxy (median of 40)`,
        }),
      );
    }
    const common = `${seconds} s per measurement; writers are processes calling the store API over ${scheme}://, each write its own transaction; CREDITS_BUSY_TIMEOUT_MS ${BUSY_TIMEOUT_MS}, CREDITS_DB_TIMEOUT_MS ${DB_TIMEOUT_MS}`;
    rows[0].note = `${rows[0].note} (${common})`;
    return rows;
  } finally {
    for (const target of targets) await target.stop();
    worker.remove();
    removeDir(dir);
  }
}
