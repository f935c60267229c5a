// Cold start (issues 2, 3 and 19): a new `credits` process answering on a small ledger, against a
// bare `node -e 0` of the same Node, interleaved so that noise from other work on the machine
// hits both alike. Measured on this machine's Node and on every other Node that
// `scripts/smoke-node.sh MAJOR` installed under bench/out/node-MAJOR (its own build of the
// checkout, better-sqlite3 compiled for it), each against its own `node -e 0`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHILD_ENV, CLI, ROOT, envInt, log, median, nowMs, removeDir, row, seedLedger, workDir } from './lib/util.mjs';

/** This Node with the CLI every benchmark runs, then the smoke installs found in bench/out. */
function nodeInstalls() {
  const installs = [{ label: null, node: process.execPath, cli: CLI }];
  for (const major of [22, 24]) {
    const dir = join(ROOT, 'bench', 'out', `node-${major}`);
    const node = join(dir, 'runtime', 'package', 'bin', 'node');
    const cli = join(dir, 'app', 'bin', 'credits.js');
    if (existsSync(node) && existsSync(cli)) {
      const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
      installs.push({ label: `Node ${version}`, node, cli });
    } else log(`no Node ${major} install in ${dir} (scripts/smoke-node.sh ${major} makes one)`);
  }
  return installs;
}

function timeOnce(node, args, expect) {
  const started = nowMs();
  const result = spawnSync(node, args, { env: CHILD_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  const elapsed = nowMs() - started;
  if (result.status !== expect) throw new Error(`node ${args.join(' ')} exited with ${result.status}: ${result.stderr}`);
  return elapsed;
}

export async function coldStart() {
  const dir = workDir('coldstart');
  try {
    const db = join(dir, 'ledger.db');
    seedLedger(db, { departments: ['Engineering', 'Marketing'], usersPerDepartment: 2, creditsPerDepartment: 500_000 });
    return nodeInstalls().flatMap((install) => coldStartOn(install, db));
  } finally {
    removeDir(dir);
  }
}

function coldStartOn({ label, node: nodePath, cli }, db) {
  const runs = envInt('BENCH_COLDSTART_RUNS', 15);
  const subjects = [
    { key: 'node', args: ['-e', '0'] },
    { key: 'balance', args: [cli, '--db', db, 'balance', '--json'] },
    { key: 'check', args: [cli, '--db', db, 'check', '--json', '--dept', 'Engineering', '--min-credits', '1'] },
  ];
  const times = Object.fromEntries(subjects.map((subject) => [subject.key, []]));
  // Two warm-up rounds fill the page cache; they are not counted.
  for (let round = -2; round < runs; round += 1) {
    // Rotate the order each round so that none of the three always runs first.
    for (let index = 0; index < subjects.length; index += 1) {
      const subject = subjects[(index + Math.max(round, 0)) % subjects.length];
      const elapsed = timeOnce(nodePath, subject.args, 0);
      if (round >= 0) times[subject.key].push(elapsed);
    }
  }
  const node = median(times.node);
  log(
    `${label ?? process.version}: node -e 0 median ${node.toFixed(1)} ms, balance ${median(times.balance).toFixed(1)} ms, check ${median(times.check).toFixed(1)} ms (${runs} runs each)`,
  );
  return ['balance', 'check'].map((key) => {
    const value = median(times[key]);
    const ratio = value / node;
    return row({
      name: `cold start${label ? ` on ${label}` : ''}: ${key === 'balance' ? 'credits balance --json' : 'credits check --json --dept X --min-credits 1'}`,
      value,
      unit: 'ms (median)',
      baselineName: `node -e 0${label ? ` (${label})` : ''}`,
      baselineValue: node,
      ratio,
      target: '<= 1.5x',
      meets: ratio <= 1.5,
      note: `median of ${runs} interleaved runs; min ${Math.min(...times[key]).toFixed(1)} ms vs node min ${Math.min(...times.node).toFixed(1)} ms`,
    });
  });
}
