import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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

/** A fresh, empty ledger location: a temp file, or a new sqld of its own. */
export async function freshLedger(target = TARGET): Promise<Ledger> {
  let location: string;
  let cleanup: () => Promise<void>;
  if (target === 'remote') {
    const server = await startSqld();
    location = server.wsUrl;
    cleanup = () => server.stop();
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'credits-e2e-'));
    location = join(dir, 'ledger.db');
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

/** A ledger with an organisation, two departments with users, and 10,000 credits bought. */
export async function seededLedger(target = TARGET): Promise<Ledger> {
  const ledger = await freshLedger(target);
  await ledger.ok(['init', '--org', 'Test GmbH']);
  await ledger.ok(['dept', 'add', 'Engineering', '--cost-center', 'CC-100']);
  await ledger.ok(['dept', 'add', 'Marketing', '--cost-center', 'CC-200']);
  await ledger.ok(['user', 'add', 'ada@example.com', '--dept', 'Engineering']);
  await ledger.ok(['user', 'add', 'don@example.com', '--dept', 'Marketing']);
  await ledger.ok(['buy', 'professional', '--method', 'card']);
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
