// `credits usage import` of BENCH_EVENTS generated events (default 1,000,000) on a local ledger
// (issue 3): events/s over the whole command and its peak memory, next to the raw better-sqlite3
// rate of inserting one plain row per event in one transaction with a prepared statement, same
// pragmas, same count, measured in the same run (before and after the import; the faster counts).
// An import still running after BENCH_IMPORT_TIMEOUT seconds (360) is stopped and its committed
// events counted, so that `npm run bench` stays within minutes whatever the import's speed.
import { join } from 'node:path';
import { CLI, ROOT, envInt, log, measureProcess, nowMs, removeDir, row, runNodeJson, seedLedger, workDir } from './lib/util.mjs';
import { DEPARTMENTS, USERS_PER_DEPARTMENT, creditsPerDepartment, writeEvents } from './lib/events.mjs';

/** How many usage events a ledger holds (a path or a libSQL URL); after a stopped import. */
export async function countUsageEvents(db) {
  if (/^[a-z]+:\/\//i.test(db)) {
    const { createClient } = await import('@libsql/client');
    const client = createClient({ url: db, intMode: 'number' });
    try {
      return Number((await client.execute('SELECT count(*) AS n FROM usage_events')).rows[0].n);
    } finally {
      client.close();
    }
  }
  const { default: Database } = await import('better-sqlite3');
  const handle = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return Number(handle.prepare('SELECT count(*) AS n FROM usage_events').get().n);
  } finally {
    handle.close();
  }
}

/**
 * Imports FILE into the ledger at `db` (path or URL) through the CLI: wall time, peak RSS and
 * events/s. Past timeoutMs the import is stopped; the rate is then the events it had committed
 * (whole batches of 5,000, counted every 2 s while it runs) over the time they took: a lower
 * bound, said in `problems`.
 */
export async function timedImport(db, file, count, { timeoutMs } = {}) {
  const started = nowMs();
  let seen = { posted: 0, atMs: 0 };
  let polling = timeoutMs !== undefined;
  const poller = (async () => {
    while (polling) {
      await new Promise((resolveWait) => setTimeout(resolveWait, 2000));
      if (!polling) break;
      try {
        const posted = await countUsageEvents(db);
        if (posted > seen.posted) seen = { posted, atMs: nowMs() - started };
      } catch {
        // the schema may be busy; try again next time
      }
    }
  })();
  const result = await measureProcess(process.execPath, [CLI, '--db', db, 'usage', 'import', file, '--json'], { timeoutMs });
  polling = false;
  await poller;
  const problems = [];
  if (result.timedOut) {
    const posted = await countUsageEvents(db);
    const tookMs = posted > seen.posted ? result.wallMs : seen.atMs;
    problems.push(
      `stopped after ${(result.wallMs / 1000).toFixed(0)} s with ${posted.toLocaleString('en-US')} of ${count.toLocaleString('en-US')} events committed${posted > 0 ? ` (the last by ${(tookMs / 1000).toFixed(0)} s)` : ''}; the rate is a lower bound`,
    );
    return { ...result, summary: null, posted, perSecond: posted > 0 ? (posted * 1000) / tookMs : 0, problems, failed: false };
  }
  let summary = null;
  try {
    summary = JSON.parse(result.stdout);
  } catch {
    // reported below
  }
  if (result.code !== 0) problems.push(`exit code ${result.code}: ${result.stderr.trim().slice(0, 500)}`);
  if (!summary) problems.push('no JSON summary on stdout');
  else if (summary.accepted !== count)
    problems.push(`accepted ${summary.accepted} of ${count} (duplicates ${summary.duplicates}, refused ${summary.refused}, malformed ${summary.malformed})`);
  return { ...result, summary, posted: summary?.accepted ?? 0, perSecond: (count * 1000) / result.wallMs, problems, failed: problems.length > 0 };
}

export async function importLocal() {
  const count = envInt('BENCH_EVENTS', 1_000_000);
  const timeoutMs = envInt('BENCH_IMPORT_TIMEOUT', 360) * 1000;
  const dir = workDir('import');
  try {
    const file = join(dir, 'events.jsonl');
    log(`generating ${count.toLocaleString('en-US')} events`);
    await writeEvents(file, count);
    const ledger = join(dir, 'ledger.db');
    seedLedger(ledger, { departments: DEPARTMENTS, usersPerDepartment: USERS_PER_DEPARTMENT, creditsPerDepartment: creditsPerDepartment(count) });

    const raw = async (label) => {
      const result = await runNodeJson(join(ROOT, 'bench', 'lib', 'rawInsert.mjs'), [join(dir, `raw-${label}.db`), 'one-tx', String(count)]);
      log(`raw one-transaction insert (${label}): ${result.perSecond.toFixed(0)} rows/s, peak ${result.peakMb.toFixed(0)} MB`);
      return result;
    };
    const rawBefore = await raw('before');
    log(`credits usage import of ${count.toLocaleString('en-US')} events`);
    const imported = await timedImport(ledger, file, count, { timeoutMs });
    log(
      `import: ${(imported.wallMs / 1000).toFixed(1)} s, ${imported.perSecond.toFixed(0)} events/s, peak ${imported.peakMb.toFixed(0)} MB${imported.problems.length ? `; PROBLEM: ${imported.problems.join('; ')}` : ''}`,
    );
    const rawAfter = await raw('after');
    const baseline = rawBefore.perSecond >= rawAfter.perSecond ? rawBefore : rawAfter;
    const ratio = imported.perSecond / baseline.perSecond;
    const problemNote = imported.problems.length ? ` ${imported.timedOut ? 'STOPPED' : 'PROBLEM'}: ${imported.problems.join('; ')}.` : '';
    return [
      row({
        name: `usage import, local ledger (${count.toLocaleString('en-US')} events)`,
        value: imported.perSecond,
        unit: 'events/s',
        baselineName: 'raw better-sqlite3: one plain row per event, one tx, prepared statement',
        baselineValue: baseline.perSecond,
        ratio,
        target: '>= 0.25x raw',
        meets: !imported.failed && ratio >= 0.25,
        note: `import wall time ${(imported.wallMs / 1000).toFixed(1)} s for the whole command (start-up, parsing on a second thread, pricing, posting; parser: ${imported.summary?.parser ?? 'unknown'}); raw rate is the insert loop alone, best of two runs (${rawBefore.perSecond.toFixed(0)} before, ${rawAfter.perSecond.toFixed(0)} after).${problemNote}`,
      }),
      row({
        name: `usage import, local ledger: peak memory (${count.toLocaleString('en-US')} events)`,
        value: imported.peakMb,
        unit: 'MB (peak RSS)',
        baselineName: 'raw better-sqlite3 insert process',
        baselineValue: baseline.peakMb,
        ratio: imported.peakMb / baseline.peakMb,
        target: '< 300 MB',
        meets: imported.peakMb < 300,
        note: `peak RSS of the credits process (/usr/bin/time -f %M, and VmHWM polled from /proc)${imported.timedOut ? ' until it was stopped' : ''}`,
      }),
    ];
  } finally {
    removeDir(dir);
  }
}
