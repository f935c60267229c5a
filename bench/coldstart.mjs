// Cold start (issues 2 and 3): a new `credits` process answering on a small ledger, against a
// bare `node -e 0`, interleaved so that noise from other work on the machine hits both alike.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CHILD_ENV, CLI, envInt, log, median, nowMs, removeDir, row, seedLedger, workDir } from './lib/util.mjs';

function timeOnce(args, expect) {
  const started = nowMs();
  const result = spawnSync(process.execPath, args, { env: CHILD_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  const elapsed = nowMs() - started;
  if (result.status !== expect) throw new Error(`node ${args.join(' ')} exited with ${result.status}: ${result.stderr}`);
  return elapsed;
}

export async function coldStart() {
  const runs = envInt('BENCH_COLDSTART_RUNS', 15);
  const dir = workDir('coldstart');
  try {
    const db = join(dir, 'ledger.db');
    seedLedger(db, { departments: ['Engineering', 'Marketing'], usersPerDepartment: 2, creditsPerDepartment: 500_000 });
    const subjects = [
      { key: 'node', args: ['-e', '0'] },
      { key: 'balance', args: [CLI, '--db', db, 'balance', '--json'] },
      { key: 'check', args: [CLI, '--db', db, 'check', '--json', '--dept', 'Engineering', '--min-credits', '1'] },
    ];
    const times = Object.fromEntries(subjects.map((subject) => [subject.key, []]));
    // Two warm-up rounds fill the page cache; they are not counted.
    for (let round = -2; round < runs; round += 1) {
      // Rotate the order each round so that none of the three always runs first.
      for (let index = 0; index < subjects.length; index += 1) {
        const subject = subjects[(index + Math.max(round, 0)) % subjects.length];
        const elapsed = timeOnce(subject.args, 0);
        if (round >= 0) times[subject.key].push(elapsed);
      }
    }
    const node = median(times.node);
    log(
      `node -e 0 median ${node.toFixed(1)} ms, balance ${median(times.balance).toFixed(1)} ms, check ${median(times.check).toFixed(1)} ms (${runs} runs each)`,
    );
    return ['balance', 'check'].map((key) => {
      const value = median(times[key]);
      const ratio = value / node;
      return row({
        name: key === 'balance' ? 'cold start: credits balance --json' : 'cold start: credits check --json --dept X --min-credits 1',
        value,
        unit: 'ms (median)',
        baselineName: 'node -e 0',
        baselineValue: node,
        ratio,
        target: '<= 1.5x',
        meets: ratio <= 1.5,
        note: `median of ${runs} interleaved runs; min ${Math.min(...times[key]).toFixed(1)} ms vs node min ${Math.min(...times.node).toFixed(1)} ms`,
      });
    });
  } finally {
    removeDir(dir);
  }
}
