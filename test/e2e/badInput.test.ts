import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, runCli, seededLedger, type Ledger } from '../helpers/cli.js';

type Case = { name: string; args: string[]; exitCode: number; code: string; mentions: string };

const CASES: Case[] = [
  { name: 'unknown department', args: ['transfer', '5', '--from', 'org', '--to', 'Nowhere'], exitCode: 4, code: 'DEPARTMENT_NOT_FOUND', mentions: 'Nowhere' },
  { name: 'duplicate department, other case', args: ['dept', 'add', 'engineering'], exitCode: 5, code: 'DUPLICATE', mentions: 'engineering' },
  { name: 'reserved department name', args: ['dept', 'add', 'org'], exitCode: 2, code: 'INVALID_NAME', mentions: 'reserved' },
  { name: 'bad email', args: ['user', 'add', 'not-an-email', '--dept', 'Engineering'], exitCode: 2, code: 'INVALID_EMAIL', mentions: 'not-an-email' },
  { name: 'duplicate user', args: ['user', 'add', 'ADA@example.com', '--dept', 'Engineering'], exitCode: 5, code: 'DUPLICATE', mentions: 'ada@example.com' },
  { name: 'zero amount', args: ['transfer', '0', '--from', 'org', '--to', 'Engineering'], exitCode: 2, code: 'INVALID_AMOUNT', mentions: 'AMOUNT' },
  { name: 'negative amount', args: ['transfer', '-5', '--from', 'org', '--to', 'Engineering'], exitCode: 2, code: 'INVALID_AMOUNT', mentions: 'positive' },
  { name: 'non-numeric amount', args: ['transfer', 'lots', '--from', 'org', '--to', 'Engineering'], exitCode: 2, code: 'INVALID_AMOUNT', mentions: 'lots' },
  {
    name: 'over-precise amount',
    args: ['transfer', '1.0001', '--from', 'org', '--to', 'Engineering'],
    exitCode: 2,
    code: 'INVALID_AMOUNT',
    mentions: 'millicredit',
  },
  {
    name: 'English thousands separator',
    args: ['transfer', '1,000', '--from', 'org', '--to', 'Engineering'],
    exitCode: 2,
    code: 'INVALID_AMOUNT',
    mentions: 'thousands separator',
  },
  { name: 'decimal comma', args: ['transfer', '2,5', '--from', 'org', '--to', 'Engineering'], exitCode: 2, code: 'INVALID_AMOUNT', mentions: 'use 2.5' },
  {
    name: 'purchase past the bound',
    args: ['buy', 'custom', '--credits', '9999999999', '--discount', '0', '--method', 'card'],
    exitCode: 3,
    code: 'BOUND_EXCEEDED',
    mentions: 'the balance of org',
  },
  {
    name: 'usage dated next year',
    args: ['usage', 'record', '--user', 'ada@example.com', '--model', 'gpt-4o', '--tool-calls', '1', '--at', `${new Date().getUTCFullYear() + 1}-01-01`],
    exitCode: 2,
    code: 'INVALID_DATE',
    mentions: 'in the future',
  },
  {
    name: 'ambiguous local time',
    args: ['usage', 'record', '--user', 'ada@example.com', '--model', 'gpt-4o', '--tool-calls', '1', '--at', '2026-10-25T02:30'],
    exitCode: 2,
    code: 'INVALID_DATE',
    mentions: '2026-10-25T02:30:00+01:00',
  },
  {
    name: 'huge amount',
    args: ['transfer', '99999999999999999999', '--from', 'org', '--to', 'Engineering'],
    exitCode: 2,
    code: 'INVALID_AMOUNT',
    mentions: 'too large',
  },
  { name: 'same account twice', args: ['transfer', '5', '--from', 'org', '--to', 'ORG'], exitCode: 2, code: 'SAME_ACCOUNT', mentions: '--from' },
  { name: 'unknown package', args: ['buy', 'platinum', '--method', 'card'], exitCode: 4, code: 'PACKAGE_NOT_FOUND', mentions: 'platinum' },
  { name: 'wrong payment method', args: ['buy', 'basic', '--method', 'bitcoin'], exitCode: 2, code: 'USAGE', mentions: 'bitcoin' },
  { name: 'missing --method without a TTY', args: ['buy', 'basic'], exitCode: 2, code: 'MISSING_FLAG', mentions: '--method' },
  { name: 'missing amount without a TTY', args: ['transfer', '--from', 'org', '--to', 'Engineering'], exitCode: 2, code: 'MISSING_FLAG', mentions: 'AMOUNT' },
  { name: 'missing --to without a TTY', args: ['transfer', '5', '--from', 'org'], exitCode: 2, code: 'MISSING_FLAG', mentions: '--to' },
  { name: 'unknown flag', args: ['balance', '--colour'], exitCode: 2, code: 'UNKNOWN_FLAG', mentions: '--colour' },
  { name: 'unknown command', args: ['balanse'], exitCode: 2, code: 'UNKNOWN_COMMAND', mentions: 'balanse' },
  { name: 'unknown purchase', args: ['purchases', 'settle', '999'], exitCode: 4, code: 'PURCHASE_NOT_FOUND', mentions: '999' },
  { name: 'bad purchase id', args: ['purchases', 'settle', 'abc'], exitCode: 2, code: 'INVALID_VALUE', mentions: 'abc' },
  { name: 'bad --as-of date', args: ['balance', '--as-of', '2026-02-30'], exitCode: 2, code: 'INVALID_DATE', mentions: '--as-of' },
  { name: 'bad time zone', args: ['org', 'set', '--timezone', 'Mars/Olympus'], exitCode: 2, code: 'INVALID_TIMEZONE', mentions: 'Mars/Olympus' },
  {
    name: 'custom discount too high',
    args: ['buy', 'custom', '--credits', '600000', '--discount', '75', '--method', 'card'],
    exitCode: 2,
    code: 'INVALID_VALUE',
    mentions: '--discount',
  },
];

describe(`bad input on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  let snapshot: string;
  const state = async (): Promise<string> => {
    // Every write leaves a ledger transaction or an audit row: together they show any change.
    const history = (await ledger.ok(['history', '--limit', '1000', '--json'])).stdout;
    const audit = (await ledger.ok(['audit', '--limit', '1000', '--json'])).stdout;
    return history + audit;
  };

  beforeAll(async () => {
    ledger = await seededLedger();
    snapshot = await state();
  });
  afterAll(async () => {
    await ledger.close();
  });

  it.each(CASES)('$name: exit $exitCode, $code, nothing written', async (testCase) => {
    const result = await ledger.run([...testCase.args, '--json']);
    expect(result.exitCode).toBe(testCase.exitCode);
    expect(result.stdout).toBe('');
    const error = JSON.parse(result.stderr).error;
    expect(error.code).toBe(testCase.code);
    expect(`${error.message} ${error.hint ?? ''}`).toContain(testCase.mentions);
    expect(await state()).toBe(snapshot);
  });

  it('explains an error in plain words without --json', async () => {
    const result = await ledger.run(['transfer', '1,5', '--from', 'org', '--to', 'Engineering']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^error \[INVALID_AMOUNT\] AMOUNT "1,5"/);
    expect(result.stderr).toContain('hint:');
  });
});

describe('bad ledger locations', () => {
  it('refuses a file that is not SQLite, and leaves it untouched', async () => {
    const dir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'credits-bad-'));
    const path = join(dir, 'notes.db');
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(200));
    const result = await runCli(['--db', path, 'balance', '--json'], {});
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(result.stderr).error.code).toBe('NOT_A_LEDGER');
    expect((await import('node:fs')).readFileSync(path, 'utf8')).toBe('these are my notes, not a database\n'.repeat(200));
  });

  it('refuses a directory as --db', async () => {
    const dir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'credits-bad-'));
    const result = await runCli(['--db', dir, 'init', '--json'], {});
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(result.stderr).error.message).toContain('directory');
  });

  it('reports an unreachable remote ledger as storage unavailable, naming the URL', async () => {
    const net = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address() as { port: number };
        server.close(() => resolve(address.port));
      });
    });
    const result = await runCli(['--db', `http://127.0.0.1:${port}`, 'balance', '--json'], {});
    expect(result.exitCode).toBe(6);
    const error = JSON.parse(result.stderr).error;
    expect(error.code).toBe('STORAGE_UNAVAILABLE');
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });

  it('creates no file when a command other than init meets a missing ledger', async () => {
    const dir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'credits-bad-'));
    const path = join(dir, 'missing.db');
    const result = await runCli(['--db', path, 'balance'], {});
    expect(result.exitCode).toBe(4);
    expect((await import('node:fs')).existsSync(path)).toBe(false);
    expect(dirname(path)).toBe(dir);
  });
});
