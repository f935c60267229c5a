import { execa } from 'execa';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';
import { startSqld } from './sqld.js';

export const BIN = resolve(import.meta.dirname, '../../bin/credits.js');

/** 'remote' runs the same end-to-end suite against a real sqld (see vitest.config.ts projects). */
export const TARGET: 'local' | 'remote' = process.env.CREDITS_TEST_TARGET === 'remote' ? 'remote' : 'local';

export type RunResult = { stdout: string; stderr: string; exitCode: number; json<T = any>(): T };

export type Ledger = {
  location: string;
  /** Runs the built CLI against this ledger, no TTY, CI set, like a cron job or pipeline. */
  run(args: string[], options?: { env?: Record<string, string>; input?: string }): Promise<RunResult>;
  /** run(), then fails the test with stderr when the exit code is not 0. */
  ok(args: string[], options?: { env?: Record<string, string>; input?: string }): Promise<RunResult>;
  close(): Promise<void>;
};

export async function runCli(args: string[], env: Record<string, string | undefined>, input?: string): Promise<RunResult> {
  const result = await execa('node', [BIN, ...args], {
    // No signing key from the developer's own config: a test that wants one passes it.
    env: { XDG_CONFIG_HOME: join(tmpdir(), 'credits-tests-no-config'), CREDITS_SIGNING_KEY: undefined, ...env, CI: '1', NO_COLOR: '1' },
    extendEnv: true,
    reject: false,
    input: input ?? '',
    timeout: 60_000,
  });
  const stdout = String(result.stdout);
  return {
    stdout,
    stderr: String(result.stderr),
    exitCode: result.exitCode ?? -1,
    json<T>() {
      return JSON.parse(stdout) as T;
    },
  };
}

/**
 * A fresh ledger location: a temp file, or a new sqld of its own; empty, or a copy of `template`
 * (a ledger file, or a stopped sqld's data folder).
 */
export async function freshLedger(target = TARGET, template?: string): Promise<Ledger> {
  let location: string;
  let cleanup: () => Promise<void>;
  if (target === 'remote') {
    const server = await startSqld(template);
    location = server.wsUrl;
    cleanup = () => server.stop();
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'credits-e2e-'));
    location = join(dir, 'ledger.db');
    if (template !== undefined) copyFileSync(template, location);
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  return ledgerAt(location, cleanup);
}

/** The CLI on a ledger that already exists at `location` (a path or URL); `close` runs `cleanup`. */
export function ledgerAt(location: string, cleanup: () => Promise<void> = async () => undefined): Ledger {
  const ledger: Ledger = {
    location,
    run: (args, options = {}) => runCli(['--db', location, ...args], { ...options.env }, options.input),
    async ok(args, options) {
      const result = await ledger.run(args, options);
      if (result.exitCode !== 0) throw new Error(`credits ${args.join(' ')} exited ${result.exitCode}: ${result.stderr}`);
      return result;
    },
    close: cleanup,
  };
  return ledger;
}

/**
 * The commands behind seededLedger(): an organisation, two departments with a user each, and
 * the professional package bought. Run once per test run by the global set-ups of seedTemplate.ts (six CLI
 * starts, about 2 s locally and more on sqld); each seededLedger() then copies the result.
 */
export const SEED_COMMANDS = [
  ['init', '--org', 'Test GmbH'],
  ['dept', 'add', 'Engineering', '--cost-center', 'CC-100'],
  ['dept', 'add', 'Marketing', '--cost-center', 'CC-200'],
  ['user', 'add', 'ada@example.com', '--dept', 'Engineering'],
  ['user', 'add', 'don@example.com', '--dept', 'Marketing'],
  ['buy', 'professional', '--method', 'card'],
];

/**
 * A ledger with an organisation, two departments with users, and 10,000 credits bought
 * (SEED_COMMANDS): a copy of the one the run's global set-up seeded (seedTemplate.ts), or, where
 * none was made (the stress suite), seeded here by the same commands.
 */
export async function seededLedger(target = TARGET): Promise<Ledger> {
  const template = inject(target === 'remote' ? 'seededRemoteTemplate' : 'seededLocalTemplate');
  if (template !== undefined) return freshLedger(target, template);
  const ledger = await freshLedger(target);
  for (const args of SEED_COMMANDS) await ledger.ok(args);
  return ledger;
}

export type BalanceJson = { accounts: { account: string; millicredits: number; credits: number; percentLeft: number | null }[] };

export async function balanceOf(ledger: Ledger, account: string): Promise<number> {
  const result = await ledger.ok(['balance', '--json']);
  const row = result.json<BalanceJson>().accounts.find((entry) => entry.account === account);
  if (!row) throw new Error(`no account ${account}`);
  return row.millicredits;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
