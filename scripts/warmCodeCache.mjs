// Run by scripts/build.mjs in a plain `node` process (same V8 flags as the CLI's): runs the
// commands whose start-up time matters (CI's `balance` and `check`, `--help`) on a throwaway
// ledger, then writes the V8 code cache of every function they compiled (see scripts/launcher.cjs).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/', import.meta.url);
const folder = mkdtempSync(join(tmpdir(), 'credits-warm-'));
const env = { ...process.env, CI: '1', NO_COLOR: '1', CREDITS_ACTOR: 'build' };
try {
  const db = join(folder, 'ledger.db');
  // Created by another process, so that `init`'s functions do not fill the cache.
  for (const argv of [
    ['init', '--org', 'Warm-up'],
    ['dept', 'add', 'Warm'],
  ]) {
    const done = spawnSync(process.execPath, [fileURLToPath(new URL('credits.js', dist)), '--db', db, ...argv, '--json'], { env, encoding: 'utf8' });
    if (done.status !== 0) throw new Error(`warm-up ${argv[0]} failed: ${done.stderr}`);
  }
  const { run, writeCodeCache } = await import(new URL('credits.js', dist).href);
  const sink = () => Object.assign(new Writable({ write: (_chunk, _encoding, done) => done() }), { isTTY: false });
  process.env.CI = '1';
  process.env.NO_COLOR = '1';
  for (const argv of [
    ['--db', db, 'balance', '--json'],
    ['--db', db, 'balance'],
    ['--db', db, 'check', '--json', '--dept', 'Warm', '--min-credits', '1'],
    ['--help'],
  ]) {
    await run(argv, { stdout: sink(), stderr: sink() });
  }
  writeCodeCache();
} finally {
  rmSync(folder, { recursive: true, force: true });
}
