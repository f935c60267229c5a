// `credits usage import` against a real libSQL server (sqld on loopback, issue 3) of
// BENCH_REMOTE_EVENTS events (default 100,000): events/s and peak memory. The baseline is the
// same import of the same events into a local ledger file, in the same run. sqld is stopped
// afterwards, whatever happens. An import still running after BENCH_REMOTE_TIMEOUT seconds (120)
// is stopped and its committed events counted, to keep the whole run within minutes.
import { join } from 'node:path';
import { envInt, log, removeDir, row, seedLedger, startSqld, workDir } from './lib/util.mjs';
import { DEPARTMENTS, USERS_PER_DEPARTMENT, creditsPerDepartment, writeEvents } from './lib/events.mjs';
import { timedImport } from './import.mjs';

export async function importRemote() {
  const count = envInt('BENCH_REMOTE_EVENTS', 100_000);
  const timeoutMs = envInt('BENCH_REMOTE_TIMEOUT', 120) * 1000;
  const dir = workDir('remote');
  let sqld;
  try {
    const file = join(dir, 'events.jsonl');
    await writeEvents(file, count);
    const seed = { departments: DEPARTMENTS, usersPerDepartment: USERS_PER_DEPARTMENT, creditsPerDepartment: creditsPerDepartment(count) };

    sqld = await startSqld();
    log(`sqld at ${sqld.url} (pid ${sqld.pid}); seeding`);
    seedLedger(sqld.url, seed);
    log(`credits usage import of ${count.toLocaleString('en-US')} events over HTTP`);
    const remote = await timedImport(sqld.url, file, count, { timeoutMs });
    log(
      `remote import: ${(remote.wallMs / 1000).toFixed(1)} s, ${remote.perSecond.toFixed(0)} events/s, peak ${remote.peakMb.toFixed(0)} MB${remote.problems.length ? `; PROBLEM: ${remote.problems.join('; ')}` : ''}`,
    );
    await sqld.stop();
    sqld = undefined;

    const ledger = join(dir, 'ledger.db');
    seedLedger(ledger, seed);
    const local = await timedImport(ledger, file, count, { timeoutMs });
    log(`same import into a local file: ${local.perSecond.toFixed(0)} events/s`);

    const problemNote = [...remote.problems.map((text) => `remote: ${text}`), ...local.problems.map((text) => `local: ${text}`)];
    return [
      row({
        name: `usage import, sqld on loopback (${count.toLocaleString('en-US')} events)`,
        value: remote.perSecond,
        unit: 'events/s',
        baselineName: 'the same import into a local ledger file',
        baselineValue: local.perSecond,
        ratio: remote.perSecond / local.perSecond,
        target: '>= 20,000 events/s',
        meets: !remote.failed && remote.perSecond >= 20_000,
        note: `remote wall time ${(remote.wallMs / 1000).toFixed(1)} s (sqld over HTTP on 127.0.0.1, same machine).${problemNote.length ? ` PROBLEM: ${problemNote.join('; ')}.` : ''}`,
      }),
      row({
        name: `usage import, sqld on loopback: peak memory (${count.toLocaleString('en-US')} events)`,
        value: remote.peakMb,
        unit: 'MB (peak RSS)',
        baselineName: 'the same import into a local ledger file',
        baselineValue: local.peakMb,
        ratio: remote.peakMb / local.peakMb,
        target: 'none set (the local import has < 300 MB)',
        meets: null,
        note: `peak RSS of the credits process (sqld not counted)${remote.timedOut ? ' until it was stopped' : ''}`,
      }),
    ];
  } finally {
    if (sqld) await sqld.stop();
    removeDir(dir);
  }
}
