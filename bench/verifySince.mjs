// `credits verify --since-checkpoint FILE` (issue 21, "Incremental verify") against the full
// `credits verify` in the same run: a ledger of BENCH_VERIFY_SINCE_EVENTS usage events (1,000,000;
// bench/lib/events.mjs, one `usage import`) is checkpointed, BENCH_VERIFY_SINCE_NEW more events
// (100,000) are imported after the checkpoint, and both verifies run on the result, alternating,
// median of BENCH_VERIFY_SINCE_RUNS runs each (3), whole processes (start-up included). Target:
// the incremental verify <= 1 s for 100k new events (the issue asks it on a 10M ledger; its cost
// does not depend on the older events, which the row's ledger size lets one check).
//
// Cache: the base ledger, its signing key and checkpoint are kept in bench/out/verify-since-KEY/
// (git-ignored), KEY a hash of the event count, migrations/ and the checkpoint code; a rerun with
// the same key copies them instead of importing again. BENCH_VERIFY_SINCE_FRESH=1 regenerates.
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { creditsPerDepartment, DEPARTMENTS, USERS_PER_DEPARTMENT, writeEvents } from './lib/events.mjs';
import {
  CHILD_ENV,
  CLI,
  OUT_DIR,
  ROOT,
  ensureOutDir,
  envInt,
  log,
  measureProcess,
  median,
  nowMs,
  removeDir,
  requireBuilt,
  row,
  seedLedger,
  workDir,
} from './lib/util.mjs';

function filesHash(paths) {
  const hash = createHash('sha256');
  const walk = (path) => {
    if (statSync(path).isDirectory()) for (const name of readdirSync(path).sort()) walk(join(path, name));
    else hash.update(`${path.slice(ROOT.length)}\n`).update(readFileSync(path));
  };
  for (const path of paths) walk(path);
  return hash.digest('hex').slice(0, 12);
}

function run(args, env) {
  const result = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`credits ${args.join(' ')} exited with ${result.status}: ${(result.stderr || result.stdout).slice(0, 1000)}`);
  return result.stdout;
}

/** The base ledger of `count` events with a checkpoint of it, from the cache or made now. */
async function cachedBase(count, newCount) {
  const key = filesHash([
    join(ROOT, 'migrations'),
    join(ROOT, 'src', 'store', 'checkpointState.ts'),
    join(ROOT, 'src', 'app', 'checkpoint.ts'),
    join(ROOT, 'bench', 'lib', 'events.mjs'),
  ]);
  const dir = join(ensureOutDir(), `verify-since-${count}-${key}`);
  if (process.env.BENCH_VERIFY_SINCE_FRESH !== '1' && existsSync(join(dir, 'meta.json'))) {
    log(`reusing the cached ledger in ${dir.slice(ROOT.length + 1)} (BENCH_VERIFY_SINCE_FRESH=1 regenerates)`);
    return dir;
  }
  for (const name of readdirSync(OUT_DIR)) if (name.startsWith(`verify-since-${count}-`)) removeDir(join(OUT_DIR, name));
  const building = `${dir}.building-${process.pid}`;
  mkdirSync(building, { recursive: true });
  const ledger = join(building, 'ledger.db');
  const started = nowMs();
  log(`generating ${count.toLocaleString('en-US')} events and importing them`);
  const file = join(building, 'events.jsonl');
  await writeEvents(file, count);
  seedLedger(ledger, {
    departments: DEPARTMENTS,
    usersPerDepartment: USERS_PER_DEPARTMENT,
    creditsPerDepartment: creditsPerDepartment(count + 3 * newCount),
  });
  run(['--db', ledger, 'usage', 'import', file, '--json'], CHILD_ENV);
  removeDir(file);
  const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  writeFileSync(join(building, 'signing-key.pem'), pem, { mode: 0o600 });
  log('writing the checkpoint (a full verify)');
  writeFileSync(join(building, 'checkpoint.json'), run(['--db', ledger, 'checkpoint'], { ...CHILD_ENV, CREDITS_SIGNING_KEY: pem }));
  writeFileSync(join(building, 'meta.json'), JSON.stringify({ count, generatedAt: new Date().toISOString(), seconds: (nowMs() - started) / 1000 }));
  renameSync(building, dir);
  return dir;
}

export async function verifySince() {
  requireBuilt();
  const count = envInt('BENCH_VERIFY_SINCE_EVENTS', 1_000_000);
  const newCount = envInt('BENCH_VERIFY_SINCE_NEW', 100_000);
  const runs = envInt('BENCH_VERIFY_SINCE_RUNS', 3);
  const base = await cachedBase(count, newCount);
  const dir = workDir('verify-since');
  try {
    const ledger = join(dir, 'ledger.db');
    copyFileSync(join(base, 'ledger.db'), ledger);
    const env = { ...CHILD_ENV, CREDITS_SIGNING_KEY: readFileSync(join(base, 'signing-key.pem'), 'utf8') };
    const file = join(dir, 'new.jsonl');
    await writeEvents(file, newCount, { prefix: 'new' });
    log(`importing ${newCount.toLocaleString('en-US')} events after the checkpoint`);
    const imported = await measureProcess(process.execPath, [CLI, '--db', ledger, 'usage', 'import', file, '--json']);
    if (imported.code !== 0) throw new Error(`usage import exited with ${imported.code}: ${imported.stderr.slice(0, 1000)}`);
    const checkpoint = join(base, 'checkpoint.json');
    const timed = async (args) => {
      const result = await measureProcess(process.execPath, [CLI, '--db', ledger, 'verify', '--json', ...args], { env });
      if (result.code !== 0) throw new Error(`verify ${args.join(' ')} exited with ${result.code}: ${(result.stderr || result.stdout).slice(0, 1000)}`);
      return result;
    };
    const times = { since: [], full: [] };
    const peaks = { since: [], full: [] };
    let newEvents = 0;
    for (let round = 0; round < runs; round += 1) {
      const since = await timed(['--since-checkpoint', checkpoint]);
      newEvents = JSON.parse(since.stdout).sinceCheckpoint.newEvents;
      const full = await timed([]);
      times.since.push(since.wallMs);
      times.full.push(full.wallMs);
      peaks.since.push(since.peakMb);
      peaks.full.push(full.peakMb);
      log(
        `round ${round + 1}: --since-checkpoint ${since.wallMs.toFixed(0)} ms (${since.peakMb.toFixed(0)} MB), full ${full.wallMs.toFixed(0)} ms (${full.peakMb.toFixed(0)} MB)`,
      );
    }
    if (newEvents !== newCount) throw new Error(`the incremental verify read ${newEvents} new events, wanted ${newCount}`);
    const sinceMs = median(times.since);
    const fullMs = median(times.full);
    const total = (count + newCount).toLocaleString('en-US');
    return [
      row({
        name: `verify --since-checkpoint, ${newCount.toLocaleString('en-US')} events after the checkpoint on a local ledger of ${total}`,
        value: sinceMs,
        unit: 'ms',
        baselineName: 'the full verify of the same ledger',
        baselineValue: fullMs,
        ratio: fullMs / sinceMs,
        target: '<= 1000 ms',
        meets: sinceMs <= 1000,
        note: `whole processes, median of ${runs} alternating runs; peak ${median(peaks.since).toFixed(0)} MB incremental, ${median(peaks.full).toFixed(0)} MB full; the ${newCount.toLocaleString('en-US')} new events were imported in ${(imported.wallMs / 1000).toFixed(1)} s`,
      }),
    ];
  } finally {
    removeDir(dir);
  }
}
