// Reading a year of usage (issue 4, "Speed"): `credits report --by dept --month M --json`,
// `credits statement --month M --format csv --output F` and `credits forecast --json` on a ledger
// of BENCH_REPORT_EVENTS usage events (default 1,000,000) spread over twelve months, each timed as
// a whole new process (start-up included), median of BENCH_REPORT_RUNS runs (7) after one
// warm-up. The baseline is `ledger balance` (the Debian package `ledger`, 3.x) on the same data
// exported to a ledger journal, median of BENCH_LEDGER_RUNS runs (3; an untimed check run of
// `ledger balance --flat` reads the journal first), in the same run. Target: each of ours <= 0.5 s and >= 20x faster than `ledger balance`.
//
// The generated ledger (four departments, five users each, seven models, four features; a
// weekday pattern and a growing trend; `at` times over the twelve months before the generation
// day, 06:00-20:00 UTC) is posted the way a ledger fills up in use: one `credits usage import`
// per calendar month of a generated JSONL file, with CREDITS_NOW at the end of that month, so
// that ledger transactions are dated in the month of their events and a monthly statement
// covers that month's usage (one import of the whole year would date every transaction today,
// and a statement of a past month would find no usage to read). Credits come from
// `buy custom --credits N --discount 0 --method invoice --for DEPT --yes` + `purchases settle ID
// --yes` per department before the first event, and a 500,000-credit top-up per department in
// the middle of month M, so the statement of M has purchases as well. M is the last complete
// month before the generation day; every timed command runs with CREDITS_NOW at the end of the
// data (the generation day, 00:00 UTC), so the forecast sees the same "today" on every rerun.
//
// Cache: the ledger, the journal and meta.json are kept in bench/out/reports-KEY/ (git-ignored),
// KEY being a hash of the generator parameters (event count, departments, users, models,
// features, seed, GENERATOR_VERSION) and of migrations/ (the schema). A rerun with the same key
// reuses them (seconds instead of about 1.5 minutes); another key regenerates and removes the
// older reports-* folders. meta.json is written last, so an interrupted generation is not reused.
// BENCH_REPORT_FRESH=1 regenerates anyway. Bump GENERATOR_VERSION when the generator changes;
// a change in how the CLI writes rollups without a migration also needs BENCH_REPORT_FRESH=1.
//
// `ledger` is found on PATH (or BENCH_LEDGER_BIN); when missing it is installed with
// `apt-get install -y ledger` (as root), else `apt-get download` of it and of the libraries it
// needs that are not installed, extracted into bench/out/ledger-deb/ and run from there with
// LD_LIBRARY_PATH. When none of that works the rows say so and carry no comparison.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHILD_ENV, CLI, OUT_DIR, ROOT, ensureOutDir, envInt, log, measureProcess, median, nowMs, removeDir, row, workDir } from './lib/util.mjs';
import { MAX_CREDITS_PER_EVENT, mulberry32 } from './lib/events.mjs';

const GENERATOR_VERSION = 1;
const DEPARTMENTS = [
  { name: 'Engineering', costCenter: 'CC-100', weight: 0.4 },
  { name: 'Marketing', costCenter: 'CC-200', weight: 0.25 },
  { name: 'Sales', costCenter: 'CC-300', weight: 0.2 },
  { name: 'Support', costCenter: 'CC-400', weight: 0.15 },
];
const USERS_PER_DEPARTMENT = 5;
/** Users of a department are not equally busy: weights of the first to the last. */
const USER_WEIGHTS = [0.35, 0.25, 0.2, 0.12, 0.08];
const MODELS = [
  { model: 'gpt-4o-mini', weight: 0.3 },
  { model: 'claude-3.5-sonnet', weight: 0.2 },
  { model: 'gpt-4o', weight: 0.12 },
  { model: 'claude-3-haiku', weight: 0.12 },
  { model: 'gpt-3.5-turbo', weight: 0.1 },
  { model: 'mistral-large', weight: 0.08 },
  { model: 'llama-3.1-groq', weight: 0.08 },
];
const FEATURES = ['chat', 'summarize', 'translate', 'analyze'];
const SEED = 20261001;
const TOPUP_CREDITS = 500_000;
const DAY_MS = 24 * 3600 * 1000;
const COMMODITY = 'CR';

function picker(items, weightOf) {
  const total = items.reduce((sum, item) => sum + weightOf(item), 0);
  let running = 0;
  const bounds = items.map((item) => (running += weightOf(item) / total));
  return (u) => {
    for (let index = 0; index < bounds.length; index += 1) if (u < bounds[index]) return items[index];
    return items[items.length - 1];
  };
}

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const monthKeyOf = (ms) => new Date(ms).toISOString().slice(0, 7);
const dayKeyOf = (ms) => new Date(ms).toISOString().slice(0, 10);
function monthStartMs(monthKey) {
  const [year, month] = monthKey.split('-').map(Number);
  return Date.UTC(year, month - 1, 1);
}
function nextMonthKey(monthKey) {
  const [year, month] = monthKey.split('-').map(Number);
  return monthKeyOf(Date.UTC(year, month, 1));
}
function previousMonthKey(monthKey) {
  const [year, month] = monthKey.split('-').map(Number);
  return monthKeyOf(Date.UTC(year, month - 2, 1));
}
function creditsText(millicredits) {
  const sign = millicredits < 0 ? '-' : '';
  const abs = Math.abs(millicredits);
  return `${sign}${Math.trunc(abs / 1000)}.${String(abs % 1000).padStart(3, '0')}`;
}
function userEmail(deptIndex, userIndex) {
  return `user${deptIndex * USERS_PER_DEPARTMENT + userIndex + 1}@${DEPARTMENTS[deptIndex].name.toLowerCase()}.bench.example`;
}

function parameters(count) {
  const migrations = createHash('sha256');
  const migrationsDir = join(ROOT, 'migrations');
  const walk = (dir) => {
    for (const name of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, name.name);
      if (name.isDirectory()) walk(path);
      else migrations.update(`${path.slice(migrationsDir.length)}\n`).update(readFileSync(path));
    }
  };
  walk(migrationsDir);
  const params = {
    generator: GENERATOR_VERSION,
    count,
    departments: DEPARTMENTS,
    usersPerDepartment: USERS_PER_DEPARTMENT,
    userWeights: USER_WEIGHTS,
    models: MODELS,
    features: FEATURES,
    seed: SEED,
    topupCredits: TOPUP_CREDITS,
    migrations: migrations.digest('hex'),
  };
  const key = createHash('sha256').update(JSON.stringify(params)).digest('hex').slice(0, 16);
  return { params, key };
}

/** Runs the CLI with CREDITS_NOW set; throws with its output unless it exits 0. Returns parsed --json output. */
function cliAt(db, nowIso, args) {
  const result = spawnSync(process.execPath, [CLI, '--db', db, ...args, '--json'], {
    env: { ...CHILD_ENV, CREDITS_NOW: nowIso },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (result.status !== 0) throw new Error(`credits ${args.join(' ')} (at ${nowIso}) exited with ${result.status}: ${result.stderr || result.stdout}`);
  return JSON.parse(result.stdout);
}

function buyAndSettle(db, nowIso, dept, credits) {
  const bought = cliAt(db, nowIso, ['buy', 'custom', '--credits', String(credits), '--discount', '0', '--method', 'invoice', '--for', dept, '--yes']);
  cliAt(db, nowIso, ['purchases', 'settle', String(bought.purchaseId), '--yes']);
}

/**
 * Event times: every day of the 365 before anchorMs gets a share of `count` by weight (weekdays
 * 1, weekends 0.25, times a trend from 1 to 1.5 over the year), cut by cumulative rounding so the
 * shares add up to `count` exactly; within a day the events are spread over 06:00-20:00 UTC.
 */
function dayCounts(count, anchorMs) {
  const firstDayMs = anchorMs - 365 * DAY_MS;
  const weights = [];
  for (let day = 0; day < 365; day += 1) {
    const weekday = new Date(firstDayMs + day * DAY_MS).getUTCDay();
    weights.push((weekday === 0 || weekday === 6 ? 0.25 : 1) * (1 + (0.5 * day) / 364));
  }
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const counts = [];
  let cumulative = 0;
  let given = 0;
  for (const weight of weights) {
    cumulative += weight;
    const upTo = Math.round((cumulative / total) * count);
    counts.push(upTo - given);
    given = upTo;
  }
  return { firstDayMs, counts };
}

async function writeLines(path, lines) {
  const out = createWriteStream(path);
  for (let start = 0; start < lines.length; start += 10_000) {
    if (!out.write(`${lines.slice(start, start + 10_000).join('\n')}\n`)) await new Promise((resolveDrain) => out.once('drain', resolveDrain));
  }
  await new Promise((resolveEnd, reject) => {
    out.once('error', reject);
    out.end(resolveEnd);
  });
}

async function importMonth(db, file, nowIso, expected) {
  const result = await measureProcess(process.execPath, [CLI, '--db', db, 'usage', 'import', file, '--json'], { env: { ...CHILD_ENV, CREDITS_NOW: nowIso } });
  let summary = null;
  try {
    summary = JSON.parse(result.stdout);
  } catch {
    // reported below
  }
  if (result.code !== 0 || !summary || summary.accepted !== expected) {
    throw new Error(`usage import of ${file} at ${nowIso}: exit ${result.code}, accepted ${summary?.accepted} of ${expected}: ${result.stderr.slice(0, 1000)}`);
  }
  return result.wallMs;
}

/** Builds the ledger in `dir`: seed, then one import per calendar month. Returns facts for meta.json. */
async function generateLedger(dir, count, anchorMs) {
  const db = join(dir, 'ledger.db');
  const random = mulberry32(SEED);
  const pickDept = picker(
    DEPARTMENTS.map((dept, index) => ({ ...dept, index })),
    (dept) => dept.weight,
  );
  const pickUser = picker(
    USER_WEIGHTS.map((weight, index) => ({ weight, index })),
    (user) => user.weight,
  );
  const pickModel = picker(MODELS, (model) => model.weight);
  const { firstDayMs, counts } = dayCounts(count, anchorMs);
  const reportMonth = previousMonthKey(monthKeyOf(anchorMs));

  const seedAt = iso(firstDayMs - DAY_MS + 9 * 3600 * 1000);
  cliAt(db, seedAt, ['init', '--org', 'Bench Org', '--timezone', 'UTC']);
  DEPARTMENTS.forEach((dept, deptIndex) => {
    cliAt(db, seedAt, ['dept', 'add', dept.name, '--cost-center', dept.costCenter]);
    for (let userIndex = 0; userIndex < USERS_PER_DEPARTMENT; userIndex += 1)
      cliAt(db, seedAt, ['user', 'add', userEmail(deptIndex, userIndex), '--dept', dept.name]);
    // Enough that no event is refused even if every event of this department were the dearest.
    const credits = Math.max(500_000, Math.ceil((count * dept.weight * 1.2 * MAX_CREDITS_PER_EVENT) / 1000) * 1000);
    buyAndSettle(db, seedAt, dept.name, credits);
  });

  const perMonth = {};
  let monthKey = monthKeyOf(firstDayMs);
  let lines = [];
  let index = 0;
  let importMs = 0;
  const flush = async () => {
    if (monthKey === reportMonth) {
      const topupAt = iso(monthStartMs(monthKey) + 14 * DAY_MS + 12 * 3600 * 1000);
      for (const dept of DEPARTMENTS) buyAndSettle(db, topupAt, dept.name, TOPUP_CREDITS);
    }
    perMonth[monthKey] = lines.length;
    if (lines.length === 0) return;
    const file = join(dir, `events-${monthKey}.jsonl`);
    await writeLines(file, lines);
    // Posted at the last minute of the month, or just before the anchor for its own month.
    const postAt = Math.min(monthStartMs(nextMonthKey(monthKey)), anchorMs) - 60_000;
    log(`importing ${lines.length.toLocaleString('en-US')} events of ${monthKey} (CREDITS_NOW=${iso(postAt)})`);
    importMs += await importMonth(db, file, iso(postAt), lines.length);
    rmSync(file);
    lines = [];
  };
  for (let day = 0; day < counts.length; day += 1) {
    const dayStartMs = firstDayMs + day * DAY_MS;
    if (monthKeyOf(dayStartMs) !== monthKey) {
      await flush();
      monthKey = monthKeyOf(dayStartMs);
    }
    const n = counts[day];
    const spacing = (14 * 3600 * 1000) / Math.max(n, 1);
    for (let k = 0; k < n; k += 1) {
      const dept = pickDept(random());
      const userIndex = pickUser(random()).index;
      lines.push(
        JSON.stringify({
          eventId: `r-${index.toString(36).padStart(4, '0')}`,
          user: userEmail(dept.index, userIndex),
          model: pickModel(random()).model,
          inputTokens: 50 + Math.floor(random() * 1500),
          outputTokens: 20 + Math.floor(random() * 800),
          toolCalls: Math.floor(random() * 3),
          feature: FEATURES[Math.floor(random() * FEATURES.length)],
          at: iso(dayStartMs + 6 * 3600 * 1000 + Math.floor((k + random()) * spacing)),
        }),
      );
      index += 1;
    }
  }
  await flush();
  // A month may follow the last day with events (anchor on the 1st): the top-up must still happen.
  if (perMonth[reportMonth] === undefined) {
    monthKey = reportMonth;
    await flush();
  }
  return { db, reportMonth, perMonth, importSeconds: importMs / 1000, firstDay: dayKeyOf(firstDayMs) };
}

/** Writes the ledger journal: the settled purchases and one transaction per usage event, in credits. */
async function exportJournal(db, journal) {
  const { default: Database } = await import('better-sqlite3');
  const handle = new Database(db, { fileMustExist: true });
  const out = createWriteStream(journal);
  const write = async (text) => {
    if (!out.write(text)) await new Promise((resolveDrain) => out.once('drain', resolveDrain));
  };
  let transactions = 0;
  try {
    // The CLI leaves a checkpointed WAL; make sure, so that the timed reads do not replay one.
    handle.pragma('wal_checkpoint(TRUNCATE)');
    await write(`; credits ledger exported for the reports benchmark: amounts in credits (${COMMODITY}), org time zone UTC\n\n`);
    const purchases = handle
      .prepare(
        `SELECT p.id, p.package_name AS packageName, p.method, p.millicredits, p.settled_at_ms AS settledAtMs, a.name AS account
         FROM purchases p JOIN accounts a ON a.id = p.account_id WHERE p.status = 'settled' ORDER BY p.settled_at_ms, p.id`,
      )
      .all();
    for (const purchase of purchases) {
      const account = purchase.account === 'org' ? 'Assets:Credits:org' : `Assets:Credits:${purchase.account}`;
      await write(
        `${dayKeyOf(purchase.settledAtMs)} * purchase #${purchase.id} ${purchase.packageName} (${purchase.method})\n    ${account}  ${creditsText(purchase.millicredits)} ${COMMODITY}\n    Equity:Purchases:${purchase.method}  ${creditsText(-purchase.millicredits)} ${COMMODITY}\n\n`,
      );
      transactions += 1;
    }
    const events = handle.prepare(
      `SELECT e.occurred_at_ms AS at, e.event_id AS eventId, u.email, a.name AS dept, e.model, e.cost_millicredits AS cost
       FROM usage_events e JOIN users u ON u.id = e.user_id JOIN accounts a ON a.id = e.department_id ORDER BY e.occurred_at_ms, e.id`,
    );
    let chunk = [];
    for (const event of events.iterate()) {
      const amount = creditsText(event.cost);
      chunk.push(
        `${dayKeyOf(event.at)} usage ${event.eventId} ${event.email}\n    Expenses:AI:${event.dept}:${event.model}  ${amount} ${COMMODITY}\n    Assets:Credits:${event.dept}  -${amount} ${COMMODITY}\n`,
      );
      transactions += 1;
      if (chunk.length === 10_000) {
        await write(`${chunk.join('\n')}\n`);
        chunk = [];
      }
    }
    if (chunk.length > 0) await write(`${chunk.join('\n')}\n`);
    const balances = Object.fromEntries(
      handle
        .prepare(`SELECT name, balance_millicredits AS balance FROM accounts WHERE kind <> 'world'`)
        .all()
        .map((account) => [account.name, account.balance]),
    );
    const usageEvents = handle.prepare('SELECT count(*) AS n FROM usage_events').get().n;
    return { transactions, balances, usageEvents };
  } finally {
    handle.close();
    await new Promise((resolveEnd, reject) => {
      out.once('error', reject);
      out.end(resolveEnd);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// ledger (the Debian package)

function ledgerWorks(command, env) {
  const result = spawnSync(command, ['--version'], { env, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.split('\n')[0].replace(/,.*$/, '').trim() : null;
}

function installedPackage(name) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

/** `apt-get download` ledger and the packages it needs that are not installed; extract them into `target`. */
export function downloadLedger(target = join(OUT_DIR, 'ledger-deb')) {
  const debs = join(target, 'debs');
  mkdirSync(debs, { recursive: true });
  const wanted = new Set();
  const queue = ['ledger'];
  while (queue.length > 0) {
    const name = queue.shift();
    if (wanted.has(name)) continue;
    wanted.add(name);
    const depends = spawnSync(
      'apt-cache',
      ['depends', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', name],
      { encoding: 'utf8' },
    );
    for (const line of depends.stdout.split('\n')) {
      const match = /^\s*\|?(?:Pre)?Depends:\s*([^\s<>]+)/.exec(line);
      if (!match) continue;
      const dep = match[1].replace(/:any$/, '');
      if (!installedPackage(dep) && !wanted.has(dep)) queue.push(dep);
    }
  }
  log(`apt-get download ${[...wanted].join(' ')}`);
  const download = spawnSync('apt-get', ['download', ...wanted], { cwd: debs, encoding: 'utf8' });
  if (download.status !== 0) throw new Error(`apt-get download failed: ${download.stderr.trim().slice(0, 500)}`);
  for (const deb of readdirSync(debs).filter((name) => name.endsWith('.deb'))) {
    const extracted = spawnSync('dpkg-deb', ['-x', join(debs, deb), target], { encoding: 'utf8' });
    if (extracted.status !== 0) throw new Error(`dpkg-deb -x ${deb} failed: ${extracted.stderr}`);
  }
  return extractedLedger(target);
}

function extractedLedger(target) {
  const command = join(target, 'usr', 'bin', 'ledger');
  if (!existsSync(command)) return null;
  const libDirs = ['usr/lib/ledger', 'usr/lib/x86_64-linux-gnu', 'usr/lib', 'lib/x86_64-linux-gnu', 'lib']
    .map((dir) => join(target, dir))
    .filter((dir) => existsSync(dir));
  const env = { ...CHILD_ENV, LD_LIBRARY_PATH: [...libDirs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
  const version = ledgerWorks(command, env);
  return version ? { command, env, version, how: `extracted from apt-get download into ${target}` } : null;
}

/** Finds or installs `ledger`; { command, env, version, how } or { missing: reason }. */
function findLedger() {
  const attempts = [];
  const explicit = process.env.BENCH_LEDGER_BIN;
  if (explicit) {
    const version = ledgerWorks(explicit, CHILD_ENV);
    if (version) return { command: explicit, env: CHILD_ENV, version, how: `BENCH_LEDGER_BIN=${explicit}` };
    attempts.push(`BENCH_LEDGER_BIN=${explicit} does not run`);
  }
  let version = ledgerWorks('ledger', CHILD_ENV);
  if (version) return { command: 'ledger', env: CHILD_ENV, version, how: 'on PATH' };
  const extracted = extractedLedger(join(OUT_DIR, 'ledger-deb'));
  if (extracted) return extracted;
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    log('ledger is missing: apt-get install -y ledger');
    const install = spawnSync('apt-get', ['install', '-y', 'ledger'], { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    version = ledgerWorks('ledger', CHILD_ENV);
    if (version) return { command: 'ledger', env: CHILD_ENV, version, how: 'installed with apt-get install -y ledger' };
    attempts.push(`apt-get install -y ledger failed (${install.status}): ${(install.stderr || install.stdout).trim().split('\n').pop()}`);
  } else attempts.push('not root, so no apt-get install');
  try {
    const downloaded = downloadLedger();
    if (downloaded) return downloaded;
    attempts.push('apt-get download gave no working ledger');
  } catch (error) {
    attempts.push(error instanceof Error ? error.message : String(error));
  }
  return { missing: `ledger could not be installed: ${attempts.join('; ')}` };
}

// ---------------------------------------------------------------------------------------------

async function cachedLedger(count) {
  const { params, key } = parameters(count);
  const dir = join(ensureOutDir(), `reports-${key}`);
  const metaFile = join(dir, 'meta.json');
  if (process.env.BENCH_REPORT_FRESH !== '1' && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    if (existsSync(join(dir, 'ledger.db')) && existsSync(join(dir, 'ledger.journal'))) {
      log(`reusing the cached ledger in ${dir.slice(ROOT.length + 1)} (generated ${meta.generatedAt}; BENCH_REPORT_FRESH=1 regenerates)`);
      return { dir, meta, cached: true };
    }
  }
  for (const name of readdirSync(OUT_DIR)) if (name.startsWith('reports-')) removeDir(join(OUT_DIR, name));
  const building = join(OUT_DIR, `reports-${key}.building-${process.pid}`);
  removeDir(building);
  mkdirSync(building, { recursive: true });
  const started = nowMs();
  const anchorMs = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  log(`generating ${count.toLocaleString('en-US')} usage events over the 365 days before ${iso(anchorMs)} (cache key ${key})`);
  const generated = await generateLedger(building, count, anchorMs);
  log(`exporting the ledger journal`);
  const journalStarted = nowMs();
  const exported = await exportJournal(generated.db, join(building, 'ledger.journal'));
  if (exported.usageEvents !== count) throw new Error(`the generated ledger holds ${exported.usageEvents} usage events, wanted ${count}`);
  const meta = {
    key,
    params,
    generatedAt: new Date().toISOString(),
    anchor: iso(anchorMs),
    firstDay: generated.firstDay,
    reportMonth: generated.reportMonth,
    eventsPerMonth: generated.perMonth,
    balances: exported.balances,
    journalTransactions: exported.transactions,
    generationSeconds: (nowMs() - started) / 1000,
    importSeconds: generated.importSeconds,
    journalSeconds: (nowMs() - journalStarted) / 1000,
  };
  writeFileSync(join(building, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  renameSync(building, dir);
  log(`generated in ${meta.generationSeconds.toFixed(0)} s (imports ${meta.importSeconds.toFixed(0)} s, journal ${meta.journalSeconds.toFixed(0)} s)`);
  return { dir, meta, cached: false };
}

/** The ledger's balance report of Assets:Credits, per department, in millicredits (a check of the export). */
function ledgerAssetBalances(ledger, journal) {
  const result = spawnSync(ledger.command, ['--args-only', '-f', journal, 'balance', '--flat', '--no-total', '^Assets:Credits:'], {
    env: ledger.env,
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  if (result.status !== 0) throw new Error(`ledger balance --flat failed: ${result.stderr}`);
  const balances = {};
  for (const line of result.stdout.split('\n')) {
    const match = /^\s*(-?[\d,]+(?:\.\d+)?)\s+CR\s+Assets:Credits:(\S+)\s*$/.exec(line);
    if (match) balances[match[2]] = Math.round(Number(match[1].replace(/,/g, '')) * 1000);
  }
  return balances;
}

function timeOnce(command, args, env) {
  const started = nowMs();
  const result = spawnSync(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
  const elapsed = nowMs() - started;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}: ${String(result.stderr).slice(0, 1000)}`);
  return { elapsed, stdout: String(result.stdout) };
}

export async function reports() {
  const count = envInt('BENCH_REPORT_EVENTS', 1_000_000);
  const runs = envInt('BENCH_REPORT_RUNS', 7);
  const ledgerRuns = envInt('BENCH_LEDGER_RUNS', 3);
  const ledger = findLedger();
  if (ledger.missing) log(ledger.missing);
  else log(`ledger: ${ledger.version} (${ledger.how})`);

  const { dir, meta, cached } = await cachedLedger(count);
  const db = join(dir, 'ledger.db');
  const journal = join(dir, 'ledger.journal');
  const month = meta.reportMonth;
  const work = workDir('reports');
  try {
    const statementFile = join(work, `statement-${month}.csv`);
    const env = { ...CHILD_ENV, CREDITS_NOW: meta.anchor };
    const subjects = [
      { key: 'node', label: 'node -e 0', args: ['-e', '0'] },
      {
        key: 'report',
        label: `credits report --by dept --month ${month} --json`,
        args: [CLI, '--db', db, 'report', '--by', 'dept', '--month', month, '--json'],
      },
      {
        key: 'statement',
        label: `credits statement --month ${month} --format csv --output F`,
        args: [CLI, '--db', db, 'statement', '--month', month, '--format', 'csv', '--output', statementFile],
      },
      { key: 'forecast', label: 'credits forecast --json', args: [CLI, '--db', db, 'forecast', '--json'] },
    ];

    // Checks (untimed): the report and the statement see the month's generated events; the
    // journal's balances equal the ledger's.
    const checks = [];
    const reportOut = JSON.parse(timeOnce(process.execPath, subjects[1].args, env).stdout);
    const expectedEvents = meta.eventsPerMonth[month] ?? 0;
    checks.push(
      reportOut.totals.events === expectedEvents
        ? `report ${month}: ${reportOut.totals.events.toLocaleString('en-US')} events, ${Math.round(reportOut.totals.credits).toLocaleString('en-US')} credits, as generated`
        : `CHECK FAILED: report ${month} counts ${reportOut.totals.events} events, the generator wrote ${expectedEvents}`,
    );
    const statementOut = JSON.parse(timeOnce(process.execPath, [...subjects[2].args, '--json'], env).stdout);
    checks.push(
      statementOut.usageMillicredits === reportOut.totals.millicredits
        ? `statement ${month}: usage equals the report's`
        : `CHECK FAILED: statement ${month} usage ${statementOut.usageMillicredits} != report ${reportOut.totals.millicredits} millicredits`,
    );
    const csvLines = readFileSync(statementFile, 'utf8').trim().split('\n').length;
    if (!ledger.missing) {
      const fromLedger = ledgerAssetBalances(ledger, journal);
      const differing = Object.entries(meta.balances).filter(([name, balance]) => name !== 'org' && fromLedger[name] !== balance);
      checks.push(
        differing.length === 0
          ? "the journal's Assets:Credits balances (ledger balance --flat) equal the departments' balances"
          : `CHECK FAILED: journal balances differ for ${differing.map(([name]) => name).join(', ')}`,
      );
    }
    for (const check of checks) log(check);

    // Our commands and node -e 0, interleaved, one warm-up round; then ledger balance.
    const times = Object.fromEntries(subjects.map((subject) => [subject.key, []]));
    for (let round = -1; round < runs; round += 1) {
      for (let index = 0; index < subjects.length; index += 1) {
        const subject = subjects[(index + Math.max(round, 0)) % subjects.length];
        const { elapsed } = timeOnce(process.execPath, subject.args, env);
        if (round >= 0) times[subject.key].push(elapsed);
      }
    }
    for (const subject of subjects)
      log(
        `${subject.label}: median ${median(times[subject.key]).toFixed(0)} ms (min ${Math.min(...times[subject.key]).toFixed(0)}, max ${Math.max(...times[subject.key]).toFixed(0)})`,
      );
    let ledgerTimes = null;
    let ledgerPeakMb = null;
    if (!ledger.missing) {
      ledgerTimes = [];
      // No separate warm-up: the untimed `balance --flat` check above has just read the journal.
      for (let round = 0; round < ledgerRuns; round += 1) {
        const measured = await measureProcess(ledger.command, ['--args-only', '-f', journal, 'balance'], { env: ledger.env });
        if (measured.code !== 0) throw new Error(`ledger balance exited with ${measured.code}: ${measured.stderr.slice(0, 1000)}`);
        ledgerTimes.push(measured.wallMs);
        ledgerPeakMb = Math.max(ledgerPeakMb ?? 0, measured.peakMb);
        log(`ledger balance: ${(measured.wallMs / 1000).toFixed(1)} s, peak ${measured.peakMb.toFixed(0)} MB`);
      }
    }
    const baseline = ledgerTimes ? median(ledgerTimes) : null;
    const node = median(times.node);
    const data = `${count.toLocaleString('en-US')} usage events from ${meta.firstDay} to ${meta.anchor.slice(0, 10)} (${(meta.eventsPerMonth[month] ?? 0).toLocaleString('en-US')} in ${month}), ${DEPARTMENTS.length} departments, ${DEPARTMENTS.length * USERS_PER_DEPARTMENT} users, ${MODELS.length} models, CREDITS_NOW=${meta.anchor}`;
    const cacheNote = cached
      ? `cached ledger bench/out/reports-${meta.key}/ (generated ${meta.generatedAt} in ${meta.generationSeconds.toFixed(0)} s)`
      : `generated in this run in ${meta.generationSeconds.toFixed(0)} s (imports ${meta.importSeconds.toFixed(0)} s), cached as bench/out/reports-${meta.key}/`;
    const ledgerNote = ledger.missing
      ? `no comparison: ${ledger.missing}`
      : `ledger balance: ${ledger.version} on a ${(statSync(journal).size / 1024 ** 2).toFixed(0)} MB journal of ${meta.journalTransactions.toLocaleString('en-US')} transactions, median of ${ledgerRuns} (${ledgerTimes.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s), peak ${ledgerPeakMb.toFixed(0)} MB`;
    return subjects
      .filter((subject) => subject.key !== 'node')
      .map((subject, index) => {
        const value = median(times[subject.key]);
        const ratio = baseline === null ? null : value / baseline;
        const extra = subject.key === 'statement' ? ` The CSV has ${csvLines} lines.` : '';
        return row({
          name: `${subject.label} (${(count / 1e6).toLocaleString('en-US')}M events)`,
          value,
          unit: 'ms (median)',
          baselineName: ledger.missing ? null : 'ledger balance on the same data as a journal',
          baselineValue: baseline,
          ratio,
          target: '<= 500 ms and <= 0.05x (20x faster)',
          meets: value <= 500 && ratio !== null && ratio <= 0.05,
          note: `whole process, median of ${runs} interleaved runs (min ${Math.min(...times[subject.key]).toFixed(0)}, max ${Math.max(...times[subject.key]).toFixed(0)} ms; node -e 0 median ${node.toFixed(0)} ms in the same rounds)${baseline === null ? '' : baseline >= value ? `, ${(baseline / value).toFixed(1)}x faster than ledger balance` : `, ${(value / baseline).toFixed(1)}x slower than ledger balance`}.${extra}${index === 0 ? ` Data: ${data}; ${cacheNote}. ${ledgerNote}. Checks: ${checks.join('; ')}.` : ''}`,
        });
      });
  } finally {
    removeDir(work);
  }
}
