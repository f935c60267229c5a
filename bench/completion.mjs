// Completion latency (issue 7): `credits __complete departments`, the command the shell
// scripts run on every Tab press that wants names from the ledger, as a cold process against a
// bare `node -e 0`, interleaved so that noise from other work on the machine hits both alike.
// The goal is under 100 ms for the whole Tab press; the ratio shows what credits adds to node.
//
//   node bench/completion.mjs      (BENCH_COMPLETION_RUNS, default 15)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHILD_ENV, CLI, envInt, log, median, nowMs, removeDir, row, seedLedger, workDir } from './lib/util.mjs';

// CPU time (user + system, via /usr/bin/time when present) says what a process costs even when
// other work on the machine stretches wall times.
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

function timeOnce(args, cpuFile) {
  const [command, argv] = TIME ? [TIME, ['-f', '%U %S', '-o', cpuFile, process.execPath, ...args]] : [process.execPath, args];
  const started = nowMs();
  const result = spawnSync(command, argv, { env: CHILD_ENV, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const elapsed = nowMs() - started;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${result.status}: ${result.stderr}`);
  const cpuMs = TIME
    ? readFileSync(cpuFile, 'utf8')
        .trim()
        .split('\n')
        .at(-1)
        .split(' ')
        .reduce((sum, seconds) => sum + Number(seconds) * 1000, 0)
    : null;
  return { elapsed, cpuMs, stdout: result.stdout };
}

export async function completion() {
  const runs = envInt('BENCH_COMPLETION_RUNS', 15);
  const dir = workDir('completion');
  try {
    const db = join(dir, 'ledger.db');
    const departments = ['Engineering', 'Marketing', 'Sales', 'Finance', 'Support'];
    seedLedger(db, { departments, usersPerDepartment: 2, creditsPerDepartment: 500_000 });
    const subjects = [
      { key: 'node', args: ['-e', '0'] },
      { key: 'complete', args: [CLI, '__complete', 'departments', '--db', db] },
    ];
    // The benchmark measures the real answer, not a fast failure.
    const cpuFile = join(dir, 'cpu');
    const answer = timeOnce(subjects[1].args, cpuFile).stdout.trim().split('\n');
    if (answer.length !== departments.length) throw new Error(`__complete departments printed ${JSON.stringify(answer)}`);
    const times = { node: [], complete: [] };
    const cpu = { node: [], complete: [] };
    // Two warm-up rounds fill the page cache; they are not counted.
    for (let round = -2; round < runs; round += 1) {
      // Alternate which one runs first.
      const order = round % 2 === 0 ? subjects : [...subjects].reverse();
      for (const subject of order) {
        const { elapsed, cpuMs } = timeOnce(subject.args, cpuFile);
        if (round >= 0) {
          times[subject.key].push(elapsed);
          cpu[subject.key].push(cpuMs);
        }
      }
    }
    const node = median(times.node);
    const value = median(times.complete);
    const ratio = value / node;
    const cpuText = TIME ? `; CPU time median ${median(cpu.complete).toFixed(0)} ms vs node ${median(cpu.node).toFixed(0)} ms (10 ms resolution)` : '';
    log(
      `node -e 0 median ${node.toFixed(1)} ms, credits __complete departments median ${value.toFixed(1)} ms (${ratio.toFixed(2)}x, +${(value - node).toFixed(1)} ms; ${runs} runs each)${cpuText}`,
    );
    return [
      row({
        name: 'completion: credits __complete departments (cold process)',
        value,
        unit: 'ms (median)',
        baselineName: 'node -e 0',
        baselineValue: node,
        ratio,
        target: '< 100 ms',
        meets: value < 100,
        note: `median of ${runs} interleaved runs; min ${Math.min(...times.complete).toFixed(1)} ms vs node min ${Math.min(...times.node).toFixed(1)} ms; credits adds ${(value - node).toFixed(1)} ms${cpuText}`,
      }),
    ];
  } finally {
    removeDir(dir);
  }
}

// Run directly: print the figures (bench/run.mjs imports completion() instead).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [result] = await completion();
  console.log(
    `${result.name}: ${result.value.toFixed(1)} ${result.unit}; ${result.baselineName} ${result.baselineValue.toFixed(1)} ms; ratio ${result.ratio.toFixed(2)}x; target ${result.target}: ${result.meets ? 'met' : 'NOT met'}`,
  );
  console.log(`  ${result.note}`);
}
