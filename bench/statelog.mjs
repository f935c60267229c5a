// What the state log costs (issue 15): the code before it (5203653^1, the first parent of the
// merge that added the hash-chained log of settings changes) against the current tree, in one
// run on the same machine. Both run through their own bin/credits.js: the before tree is a
// detached git worktree in bench/out/statelog-before (reused when it is at that commit; its
// node_modules a symlink to the project's), built there with `node scripts/build.mjs`; the after
// tree is the CLI every benchmark runs (the snapshot of dist/ that run.mjs takes).
//
// Figures, each on fresh ledgers, before and after runs alternating (ABAB) so drift hits both:
//   - `credits usage import` of BENCH_STATELOG_EVENTS generated events (200,000) on a local
//     ledger: events/s over the whole command;
//   - POST /v1/usage through `credits serve`, one event per request, from BENCH_STATELOG_CLIENTS
//     clients at once (4), on a local ledger (BENCH_STATELOG_SINGLE events, 3000) and on sqld on
//     loopback (`--db http://127.0.0.1:PORT`, BENCH_STATELOG_REMOTE_SINGLE events, 1000):
//     events/s, p50 and p99, after a warm-up of 200 events;
//   - `credits verify` of a local ledger of BENCH_STATELOG_VERIFY_EVENTS events (1,000,000),
//     imported by each version into its own ledger, timed as a whole process
//     BENCH_STATELOG_VERIFY_RUNS times each (3), median.
// Also the state log's own share of an import: the current build on ledgers with and without
// its triggers, alternating (a figure whose baseline is not the before tree).
// BENCH_STATELOG_ROUNDS (2) is how many times each version runs the import and the API figures
// (each figure is the median of its rounds). The issue's target: verify within 2x of before;
// usage posting not measurably slower.
//
//   node bench/statelog.mjs              prints the figures (npm run build first)
//   node bench/run.mjs statelog          the same through the runner, into bench/RESULTS.md
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { client, drive } from './api.mjs';
import { DEPARTMENTS, USERS_PER_DEPARTMENT, creditsPerDepartment, userEmails, writeEvents } from './lib/events.mjs';
import {
  CHILD_ENV,
  CLI,
  ROOT,
  ensureOutDir,
  envInt,
  freePort,
  log,
  measureProcess,
  median,
  nowMs,
  removeDir,
  row,
  snapshotCli,
  startSqld,
  workDir,
} from './lib/util.mjs';

/** The code before the state log: the first parent of its merge commit. */
export const BEFORE_REF = '5203653^1';
const MODELS = ['gpt-4o-mini', 'claude-3-haiku', 'gpt-3.5-turbo', 'claude-3.5-sonnet', 'gpt-4o', 'llama-3.1-groq'];
const WARM_UP_EVENTS = 200;

function git(args, cwd = ROOT) {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8' });
  return { ok: result.status === 0, out: (result.stdout ?? '').trim(), err: (result.stderr ?? '').trim() };
}

function mustGit(args, cwd = ROOT) {
  const result = git(args, cwd);
  if (!result.ok) throw new Error(`git ${args.join(' ')} failed: ${result.err}`);
  return result.out;
}

/**
 * The before tree, checked out and built: `git worktree add --detach` into bench/out/ (reused
 * when it is already at the commit), node_modules linked to the project's, `node
 * scripts/build.mjs` run there. Returns its commit and its bin/credits.js.
 */
export function prepareBefore() {
  const commit = mustGit(['rev-parse', '--verify', `${BEFORE_REF}^{commit}`]);
  const dir = join(ensureOutDir(), 'statelog-before');
  const head = existsSync(dir) ? git(['rev-parse', 'HEAD'], dir) : null;
  if (head?.ok && head.out === commit && existsSync(join(dir, 'package.json'))) {
    log(`before: reusing the worktree ${dir} at ${commit.slice(0, 7)}`);
  } else {
    if (existsSync(dir)) {
      log(`before: ${dir} is not at ${commit.slice(0, 7)}; checking it out again`);
      if (!git(['worktree', 'remove', '--force', dir]).ok) removeDir(dir);
    }
    git(['worktree', 'prune']);
    log(`before: git worktree add --detach ${dir} ${commit.slice(0, 7)}`);
    mustGit(['worktree', 'add', '--detach', dir, commit]);
  }
  const modules = join(dir, 'node_modules');
  if (!existsSync(modules)) symlinkSync(realpathSync(join(ROOT, 'node_modules')), modules, 'dir');
  const started = nowMs();
  const built = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: dir, env: CHILD_ENV, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`node scripts/build.mjs in ${dir} exited with ${built.status}: ${built.stderr || built.stdout}`);
  const bin = join(dir, 'bin', 'credits.js');
  const version = spawnSync(process.execPath, [bin, '--version'], { env: CHILD_ENV, encoding: 'utf8' });
  if (version.status !== 0) throw new Error(`the before CLI does not start: ${version.stderr}`);
  log(`before: built in ${((nowMs() - started) / 1000).toFixed(1)} s (version ${version.stdout.trim()})`);
  return { commit, bin };
}

/** Runs a CLI (`bin`) synchronously; throws with its stderr unless it exits 0; parses --json output. */
function cliWith(bin, db, args, { input } = {}) {
  const result = spawnSync(process.execPath, [bin, '--db', db, ...args], { env: CHILD_ENV, encoding: 'utf8', input, maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`${bin} ${args.join(' ')} exited with ${result.status}: ${result.stderr || result.stdout}`);
  return args.includes('--json') && result.stdout.trim() !== '' ? JSON.parse(result.stdout) : result.stdout;
}

/** seedLedger of lib/util.mjs through a given CLI: departments, users, settled credits. */
function seedWith(bin, db, events) {
  const credits = creditsPerDepartment(events);
  cliWith(bin, db, ['init', '--org', 'Bench Org', '--timezone', 'UTC', '--json']);
  DEPARTMENTS.forEach((dept, deptIndex) => {
    cliWith(bin, db, ['dept', 'add', dept, '--json']);
    for (let index = 0; index < USERS_PER_DEPARTMENT; index += 1)
      cliWith(bin, db, ['user', 'add', `user${deptIndex * USERS_PER_DEPARTMENT + index + 1}@${dept.toLowerCase()}.bench.example`, '--dept', dept, '--json']);
    const bought = cliWith(bin, db, [
      'buy',
      'custom',
      '--credits',
      String(credits),
      '--discount',
      '0',
      '--method',
      'invoice',
      '--for',
      dept,
      '--yes',
      '--json',
    ]);
    cliWith(bin, db, ['purchases', 'settle', String(bought.purchaseId), '--yes', '--json']);
  });
}

/** `usage import FILE` through `bin`: the whole command's wall time and rate; throws unless all `count` are accepted. */
async function timedImportWith(bin, db, file, count) {
  const result = await measureProcess(process.execPath, [bin, '--db', db, 'usage', 'import', file, '--json']);
  let summary = null;
  try {
    summary = JSON.parse(result.stdout);
  } catch {
    // reported below
  }
  if (result.code !== 0 || summary?.accepted !== count)
    throw new Error(`usage import through ${bin}: exit ${result.code}, accepted ${summary?.accepted} of ${count}: ${result.stderr.slice(0, 1000)}`);
  return { wallMs: result.wallMs, perSecond: (count * 1000) / result.wallMs, peakMb: result.peakMb };
}

/** `credits serve` through `bin` on a free loopback port; resolves when /health answers (as startServe of api.mjs). */
async function startServeWith(bin, db) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [bin, '--db', db, 'serve', '--listen', `127.0.0.1:${port}`, '--quiet'], {
    env: CHILD_ENV,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 30_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`credits serve exited with ${child.exitCode}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`credits serve did not answer at ${url}: ${stderr}`);
      try {
        if ((await fetch(`${url}/health`)).ok) break;
      } catch {
        // not yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}

function makeEvent(prefix, index, users) {
  return {
    eventId: `${prefix}-${index}`,
    user: users[index % users.length],
    model: MODELS[index % MODELS.length],
    inputTokens: 50 + ((index * 7919) % 1500),
    outputTokens: 20 + ((index * 104729) % 800),
    toolCalls: index % 3,
    feature: index % 2 ? 'chat' : 'summarize',
  };
}

/** `count` single events POSTed to /v1/usage by `clients` clients at once: rate, p50, p99, failures (anything but 201 Created). */
async function postSingles(http, prefix, count, clients, users) {
  const run = await drive(count, clients, async (index) => {
    const answer = await http.post('/v1/usage', makeEvent(prefix, index, users));
    return { ...answer, ok: answer.status === 201 };
  });
  return { perSecond: ((count - run.failures) * 1000) / run.wallMs, p50: run.p50, p99: run.p99, failures: run.failures, firstFailure: run.firstFailure };
}

/** A fresh ledger (seeded through `bin`), a usage-writer token, `serve` through `bin` on `serveDb`, warm-up, then the timed singles. */
async function apiRun(bin, seedDb, serveDb, count, clients) {
  const users = userEmails();
  seedWith(bin, seedDb, count + WARM_UP_EVENTS);
  const token = cliWith(bin, seedDb, ['token', 'create', '--role', 'usage-writer', '--name', 'bench', '--json']).token;
  const server = await startServeWith(bin, serveDb);
  const http = client(server.url, token, clients);
  try {
    const warm = await postSingles(http, 'warm', WARM_UP_EVENTS, clients, users);
    if (warm.failures) throw new Error(`warm-up: ${warm.failures} request(s) failed: ${warm.firstFailure}`);
    return await postSingles(http, 'single', count, clients, users);
  } finally {
    http.close();
    await server.stop();
  }
}

const VERSIONS = ['before', 'after'];

/** Runs `measure(version, round)` for before, after, before, after, ... (`rounds` each); the results by version. */
async function alternate(rounds, measure) {
  const results = { before: [], after: [] };
  for (let round = 0; round < rounds; round += 1) for (const version of VERSIONS) results[version].push(await measure(version, round));
  return results;
}

/** Drops the state log's triggers of a ledger: its writes then leave no records to seal. */
function dropStateLogTriggers(Database, ledger) {
  const handle = new Database(ledger, { fileMustExist: true });
  const names = handle.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'state_log_%'").all();
  for (const { name } of names) handle.exec(`DROP TRIGGER "${name}"`);
  handle.close();
}

const rate = (value) => Math.round(value).toLocaleString('en-US');
const ms = (value) => value.toFixed(1);
const listed = (values, show) => values.map(show).join(' / ');

export async function stateLogCost() {
  const importEvents = envInt('BENCH_STATELOG_EVENTS', 200_000);
  const singles = envInt('BENCH_STATELOG_SINGLE', 3000);
  const remoteSingles = envInt('BENCH_STATELOG_REMOTE_SINGLE', 1000);
  const clients = envInt('BENCH_STATELOG_CLIENTS', 4);
  const verifyEvents = envInt('BENCH_STATELOG_VERIFY_EVENTS', 1_000_000);
  const verifyRuns = envInt('BENCH_STATELOG_VERIFY_RUNS', 3);
  const rounds = envInt('BENCH_STATELOG_ROUNDS', 2);

  const before = prepareBefore();
  const bins = { before: before.bin, after: CLI };
  const beforeName = `before the state log (${before.commit.slice(0, 7)} = ${BEFORE_REF}), same run`;
  log(`before: ${bins.before}`);
  log(`after:  ${bins.after}`);
  const dir = workDir('statelog');
  const figures = [];
  try {
    // (a) usage import on a local ledger.
    const importFile = join(dir, 'events.jsonl');
    log(`generating ${importEvents.toLocaleString('en-US')} events`);
    await writeEvents(importFile, importEvents);
    const imports = await alternate(rounds, async (version, round) => {
      const ledger = join(dir, `import-${version}-${round}.db`);
      seedWith(bins[version], ledger, importEvents);
      const result = await timedImportWith(bins[version], ledger, importFile, importEvents);
      removeDir(ledger);
      removeDir(`${ledger}-wal`);
      removeDir(`${ledger}-shm`);
      log(`usage import, ${version} #${round + 1}: ${rate(result.perSecond)} events/s (${(result.wallMs / 1000).toFixed(1)} s)`);
      return result.perSecond;
    });
    figures.push({
      name: `usage import, local ledger (${importEvents.toLocaleString('en-US')} events)`,
      unit: 'events/s',
      runs: imports,
      show: rate,
      note: 'the whole `credits usage import` command (start-up, parsing, pricing, posting) on a fresh seeded ledger',
    });

    // (a') The state log's own share of an import: the same build, with and without its
    // triggers (dropped after seeding), alternating. The import figure above also carries every
    // feature added since the before tree (tags, soft limits, holds), which this one does not.
    const { default: Database } = await import('better-sqlite3');
    const own = { before: [], after: [] };
    for (let round = 0; round < rounds; round += 1) {
      for (const variant of ['before', 'after']) {
        const ledger = join(dir, `own-${variant}-${round}.db`);
        seedWith(bins.after, ledger, importEvents);
        if (variant === 'before') dropStateLogTriggers(Database, ledger);
        const result = await timedImportWith(bins.after, ledger, importFile, importEvents);
        for (const file of [ledger, `${ledger}-wal`, `${ledger}-shm`]) removeDir(file);
        log(`usage import, after ${variant === 'before' ? 'without' : 'with'} the state-log triggers #${round + 1}: ${rate(result.perSecond)} events/s`);
        own[variant].push(result.perSecond);
      }
    }
    figures.push({
      name: `usage import, local ledger, the state log's own cost (${importEvents.toLocaleString('en-US')} events)`,
      unit: 'events/s',
      runs: own,
      show: rate,
      baselineName: 'the current build on a ledger whose state-log triggers were dropped, same run',
      note: 'the whole command; baseline: the same build on a ledger whose state-log triggers were dropped after seeding',
    });

    // (b) and (c) POST /v1/usage through serve, local file and sqld.
    const local = await alternate(rounds, async (version, round) => {
      const ledger = join(dir, `api-${version}-${round}.db`);
      const result = await apiRun(bins[version], ledger, ledger, singles, clients);
      log(
        `API singles, local, ${version} #${round + 1}: ${rate(result.perSecond)} events/s, p50 ${ms(result.p50)} ms, p99 ${ms(result.p99)} ms${result.failures ? `, ${result.failures} failed (${result.firstFailure})` : ''}`,
      );
      return result;
    });
    const remote = await alternate(rounds, async (version, round) => {
      const sqld = await startSqld();
      try {
        const result = await apiRun(bins[version], sqld.url, sqld.url, remoteSingles, clients);
        log(
          `API singles, sqld, ${version} #${round + 1}: ${rate(result.perSecond)} events/s, p50 ${ms(result.p50)} ms, p99 ${ms(result.p99)} ms${result.failures ? `, ${result.failures} failed (${result.firstFailure})` : ''}`,
        );
        return result;
      } finally {
        await sqld.stop();
      }
    });
    for (const [label, runs, count] of [
      ['local ledger', local, singles],
      ['sqld on loopback (http://)', remote, remoteSingles],
    ]) {
      const failed = [...runs.before, ...runs.after].reduce((sum, result) => sum + result.failures, 0);
      const pick = (key) => ({ before: runs.before.map((result) => result[key]), after: runs.after.map((result) => result[key]) });
      figures.push(
        {
          name: `POST /v1/usage singles, ${label} (${count.toLocaleString('en-US')} events, ${clients} clients)`,
          unit: 'events/s',
          runs: pick('perSecond'),
          show: rate,
          note: `one event per request, keep-alive, after ${WARM_UP_EVENTS} warm-up events, fresh seeded ledger per run${failed ? `; ${failed} request(s) failed` : ''}`,
        },
        { name: `POST /v1/usage singles, ${label}: latency p50`, unit: 'ms', runs: pick('p50'), show: ms },
        { name: `POST /v1/usage singles, ${label}: latency p99`, unit: 'ms', runs: pick('p99'), show: ms },
      );
    }

    // (d) verify on a ledger of verifyEvents events, one per version, imported by that version.
    const verifyFile = verifyEvents === importEvents ? importFile : join(dir, 'verify-events.jsonl');
    if (verifyFile !== importFile) {
      log(`generating ${verifyEvents.toLocaleString('en-US')} events`);
      await writeEvents(verifyFile, verifyEvents);
    }
    const verifyLedgers = {};
    const bigImports = { before: [], after: [] };
    for (const version of VERSIONS) {
      verifyLedgers[version] = join(dir, `verify-${version}.db`);
      seedWith(bins[version], verifyLedgers[version], verifyEvents);
      log(`verify ledger, ${version}: importing ${verifyEvents.toLocaleString('en-US')} events`);
      const result = await timedImportWith(bins[version], verifyLedgers[version], verifyFile, verifyEvents);
      log(`verify ledger, ${version}: imported at ${rate(result.perSecond)} events/s (${(result.wallMs / 1000).toFixed(1)} s)`);
      bigImports[version].push(result.perSecond);
    }
    if (verifyFile !== importFile) removeDir(verifyFile);
    const verifies = await alternate(verifyRuns, async (version, round) => {
      const result = await measureProcess(process.execPath, [bins[version], '--db', verifyLedgers[version], 'verify', '--json']);
      let report = null;
      try {
        report = JSON.parse(result.stdout);
      } catch {
        // reported below
      }
      if (result.code !== 0 || report?.ok !== true)
        throw new Error(`verify (${version}) exited with ${result.code}: ${(result.stderr || result.stdout).slice(0, 1000)}`);
      log(`verify, ${version} #${round + 1}: ${ms(result.wallMs)} ms, peak ${result.peakMb.toFixed(0)} MB`);
      return result.wallMs;
    });
    const handle = new Database(verifyLedgers.after, { readonly: true, fileMustExist: true });
    const stateLogRecords = Number(handle.prepare('SELECT count(*) AS n FROM state_log').get().n);
    handle.close();
    figures.push(
      {
        name: `verify, local ledger of ${verifyEvents.toLocaleString('en-US')} events`,
        unit: 'ms',
        runs: verifies,
        show: ms,
        target: '<= 2x before',
        meets: (ratio) => ratio <= 2,
        note: `whole \`credits verify --json\` process, median of ${verifyRuns} runs per version; each version verifies the ledger it imported itself; the after ledger's state log holds ${stateLogRecords.toLocaleString('en-US')} records (seeding: init, departments, users, purchases)`,
      },
      {
        name: `usage import of the verify ledger (${verifyEvents.toLocaleString('en-US')} events)`,
        unit: 'events/s',
        runs: bigImports,
        show: rate,
        note: 'one run per version, before first (not alternated)',
      },
    );
  } finally {
    removeDir(dir);
  }

  const rows = figures.map((figure) => {
    const beforeValue = median(figure.runs.before);
    const afterValue = median(figure.runs.after);
    const ratio = afterValue / beforeValue;
    const runs = `runs before ${listed(figure.runs.before, figure.show)}; after ${listed(figure.runs.after, figure.show)}`;
    return row({
      name: figure.name,
      value: afterValue,
      unit: figure.unit,
      baselineName: figure.baselineName ?? beforeName,
      baselineValue: beforeValue,
      ratio,
      target: figure.target ?? null,
      meets: figure.meets ? figure.meets(ratio) : null,
      note: figure.note ? `${figure.note}; ${runs}` : runs,
    });
  });
  const width = Math.max(...rows.map((entry) => entry.name.length + entry.unit.length + 3));
  log('');
  log(`${'figure'.padEnd(width)}  ${'before'.padStart(10)}  ${'after'.padStart(10)}  after/before`);
  for (const [index, entry] of rows.entries()) {
    const show = figures[index].show;
    log(
      `${`${entry.name} (${entry.unit})`.padEnd(width)}  ${show(entry.baselineValue).padStart(10)}  ${show(entry.value).padStart(10)}  ${entry.ratio.toFixed(2)}x`,
    );
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const snapshot = snapshotCli();
  try {
    await stateLogCost();
  } finally {
    snapshot.remove();
  }
}
