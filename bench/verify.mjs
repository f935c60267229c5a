// Full `credits verify` of a local ledger of BENCH_VERIFY_EVENTS usage events (1,000,000; imported
// with `credits usage import` from bench/lib/events.mjs), against two baselines measured in the
// same run, alternating, median of BENCH_VERIFY_RUNS runs each (3):
//   - the same build on one thread (CREDITS_VERIFY_THREADS=1, the verify of before the threads);
//   - the floor: two worker threads each reading every usage_events column of half the rows
//     with better-sqlite3 and one SHA-256 over them (bench/lib/scanFloor.mjs).
// All three are whole processes (start-up included). The targets: >= 0.8x of the floor's
// rate, and >= 3x the one-thread verify. BENCH_VERIFY_LEDGER=FILE verifies that ledger instead
// of generating one (it is not changed).
import { join } from 'node:path';
import { creditsPerDepartment, DEPARTMENTS, USERS_PER_DEPARTMENT, writeEvents } from './lib/events.mjs';
import { CHILD_ENV, CLI, ROOT, envInt, log, measureProcess, median, removeDir, requireBuilt, row, runNodeJson, seedLedger, workDir } from './lib/util.mjs';

const FLOOR_THREADS = 2;

export async function verifyThreads() {
  requireBuilt();
  const runs = envInt('BENCH_VERIFY_RUNS', 3);
  const dir = workDir('verify');
  try {
    let ledger = process.env.BENCH_VERIFY_LEDGER;
    let events;
    if (ledger) {
      log(`verifying the given ledger ${ledger}`);
    } else {
      events = envInt('BENCH_VERIFY_EVENTS', 1_000_000);
      ledger = join(dir, 'ledger.db');
      const file = join(dir, 'events.jsonl');
      log(`generating ${events.toLocaleString('en-US')} events and importing them`);
      await writeEvents(file, events);
      seedLedger(ledger, { departments: DEPARTMENTS, usersPerDepartment: USERS_PER_DEPARTMENT, creditsPerDepartment: creditsPerDepartment(events) });
      const imported = await measureProcess(process.execPath, [CLI, '--db', ledger, 'usage', 'import', file, '--json']);
      if (imported.code !== 0) throw new Error(`usage import exited with ${imported.code}: ${imported.stderr.slice(0, 1000)}`);
      removeDir(file);
    }
    const verify = async (threads) => {
      const env = { ...CHILD_ENV, ...(threads === undefined ? {} : { CREDITS_VERIFY_THREADS: String(threads) }) };
      const result = await measureProcess(process.execPath, [CLI, '--db', ledger, 'verify', '--json'], { env });
      if (result.code !== 0) throw new Error(`verify exited with ${result.code}: ${(result.stderr || result.stdout).slice(0, 1000)}`);
      return { ms: result.wallMs, peakMb: result.peakMb, stdout: result.stdout };
    };
    const times = { threaded: [], single: [], floor: [] };
    const peaks = { threaded: [], single: [] };
    let rows = 0;
    for (let round = 0; round < runs; round += 1) {
      const threaded = await verify(undefined);
      const single = await verify(1);
      if (threaded.stdout !== single.stdout) throw new Error('the threaded verify reported something else than the one-thread verify');
      const floor = await runNodeJson(join(ROOT, 'bench', 'lib', 'scanFloor.mjs'), [ledger, String(FLOOR_THREADS)]);
      rows = floor.rows;
      times.threaded.push(threaded.ms);
      times.single.push(single.ms);
      times.floor.push(floor.wallMs);
      peaks.threaded.push(threaded.peakMb);
      peaks.single.push(single.peakMb);
      log(
        `round ${round + 1}: verify ${threaded.ms.toFixed(0)} ms (${threaded.peakMb.toFixed(0)} MB), one thread ${single.ms.toFixed(0)} ms (${single.peakMb.toFixed(0)} MB), floor ${floor.wallMs.toFixed(0)} ms`,
      );
    }
    const threadedMs = median(times.threaded);
    const singleMs = median(times.single);
    const floorMs = median(times.floor);
    const rate = (ms) => (rows * 1000) / ms;
    const label = `${rows.toLocaleString('en-US')} events`;
    const note = `whole processes, median of ${runs} alternating runs; verify uses one thread per core (CREDITS_VERIFY_THREADS unset); peak ${median(peaks.threaded).toFixed(0)} MB threaded, ${median(peaks.single).toFixed(0)} MB on one thread`;
    return [
      row({
        name: `verify, local ledger of ${label}, vs the two-thread scan-and-hash floor`,
        value: rate(threadedMs),
        unit: 'events/s',
        baselineName: `${FLOOR_THREADS} threads reading every usage_events column + SHA-256`,
        baselineValue: rate(floorMs),
        ratio: floorMs / threadedMs,
        target: '>= 0.8x',
        meets: floorMs / threadedMs >= 0.8,
        note,
      }),
      row({
        name: `verify, local ledger of ${label}, vs one thread`,
        value: rate(threadedMs),
        unit: 'events/s',
        baselineName: 'the same verify with CREDITS_VERIFY_THREADS=1',
        baselineValue: rate(singleMs),
        ratio: singleMs / threadedMs,
        target: '>= 3x',
        meets: singleMs / threadedMs >= 3,
        note: `${(threadedMs / 1000).toFixed(1)} s threaded, ${(singleMs / 1000).toFixed(1)} s on one thread, ${(floorMs / 1000).toFixed(1)} s floor`,
      }),
    ];
  } finally {
    removeDir(dir);
  }
}
