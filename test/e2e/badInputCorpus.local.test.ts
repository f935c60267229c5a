import BetterSqlite3 from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, seededLedger, type Ledger, type RunResult } from '../helpers/cli.js';

/**
 * A corpus of bad input, each case with the exit code and error code the README documents, a
 * message that names the flag or field, and a ledger left exactly as it was: the sha256 of every
 * table's rows (read straight from the file) is the same before and after. Cases run four at a
 * time. Some odd-looking input is valid (quotes, unicode, SQL-looking names): those are stored and
 * shown back exactly.
 */

/** report: an import that read the file and reports this many malformed lines (and nothing accepted) on stdout. */
type Case = {
  name: string;
  args: string[];
  exitCode: number;
  code: string;
  mentions: string | RegExp;
  input?: string;
  file?: { name: string; content: string | Buffer };
  report?: number;
};

const T = ['--from', 'org', '--to', 'Engineering'];
const U = ['usage', 'record', '--user', 'ada@example.com', '--model', 'gpt-4o'];

const CASES: Case[] = [
  // amounts
  { name: 'negative amount', args: ['transfer', '-5', ...T], exitCode: 2, code: 'INVALID_AMOUNT', mentions: 'AMOUNT' },
  { name: 'zero amount', args: ['transfer', '0', ...T], exitCode: 2, code: 'INVALID_AMOUNT', mentions: 'AMOUNT' },
  { name: 'negative zero', args: ['transfer', '-0', ...T], exitCode: 2, code: 'INVALID_AMOUNT', mentions: 'AMOUNT' },
  { name: 'English thousands separator', args: ['transfer', '1,000', ...T], exitCode: 2, code: 'INVALID_AMOUNT', mentions: 'thousands separator' },
  { name: 'decimal comma', args: ['transfer', '1,5', ...T], exitCode: 2, code: 'INVALID_AMOUNT', mentions: 'use 1.5' },
  {
    name: 'grouping that is not the printed one',
    args: ['transfer', '1,00,000.0', ...T],
    exitCode: 2,
    code: 'INVALID_AMOUNT',
    mentions: 'AMOUNT "1,00,000.0" has a comma',
  },
  { name: 'amount past the bound', args: ['transfer', '10000000000.001', ...T], exitCode: 2, code: 'INVALID_AMOUNT', mentions: '10000000000 credits' },
  { name: 'limit past the bound', args: ['limits', 'set', '--org', '--daily', '10000000001'], exitCode: 2, code: 'INVALID_AMOUNT', mentions: '--daily' },
  {
    name: 'recharge threshold past the bound',
    args: ['recharge', 'set', '--threshold', '20000000000', '--package', 'basic', '--method', 'card', '--monthly-cap', '100'],
    exitCode: 2,
    code: 'INVALID_AMOUNT',
    mentions: '--threshold',
  },
  {
    name: 'recharge cap with a decimal comma',
    args: ['recharge', 'set', '--threshold', '100', '--package', 'basic', '--method', 'card', '--monthly-cap', '12,50'],
    exitCode: 2,
    code: 'INVALID_AMOUNT',
    mentions: 'use 12.50',
  },
  {
    name: 'recharge cap past the bound',
    args: ['recharge', 'set', '--threshold', '100', '--package', 'basic', '--method', 'card', '--monthly-cap', '100000000.01'],
    exitCode: 2,
    code: 'INVALID_AMOUNT',
    mentions: '--monthly-cap',
  },
  {
    name: 'custom purchase past the bound',
    args: ['buy', 'custom', '--credits', '10000000000', '--discount', '0', '--method', 'card'],
    exitCode: 3,
    code: 'BOUND_EXCEEDED',
    mentions: "the balance of org (10000009995.0) would pass the ledger's bound of 10000000000 credits",
  },
  {
    name: 'pending purchase past the bound',
    args: ['buy', 'custom', '--credits', '9999995000', '--discount', '0', '--method', 'sepa', '--for', 'Marketing'],
    exitCode: 3,
    code: 'BOUND_EXCEEDED',
    mentions: 'all accounts together',
  },
  { name: 'four decimals', args: ['transfer', '1.2345', ...T], exitCode: 2, code: 'INVALID_AMOUNT', mentions: 'millicredit' },
  { name: 'huge amount', args: ['transfer', '1e30', ...T], exitCode: 2, code: 'INVALID_AMOUNT', mentions: 'AMOUNT' },
  { name: 'many digits', args: ['transfer', '123456789012345678901234567890', ...T], exitCode: 2, code: 'INVALID_AMOUNT', mentions: 'too large' },
  { name: 'NaN', args: ['transfer', 'NaN', ...T], exitCode: 2, code: 'INVALID_AMOUNT', mentions: 'NaN' },
  { name: 'Infinity', args: ['transfer', 'Infinity', ...T], exitCode: 2, code: 'INVALID_AMOUNT', mentions: 'Infinity' },
  { name: 'hex amount', args: ['transfer', '0x10', ...T], exitCode: 2, code: 'INVALID_AMOUNT', mentions: '0x10' },
  { name: 'amount with unit', args: ['transfer', '5credits', ...T], exitCode: 2, code: 'INVALID_AMOUNT', mentions: '5credits' },
  { name: 'amount with spaces inside', args: ['transfer', '1 000', ...T], exitCode: 2, code: 'INVALID_AMOUNT', mentions: 'AMOUNT' },
  { name: 'empty amount', args: ['transfer', '', ...T], exitCode: 2, code: 'MISSING_FLAG', mentions: 'AMOUNT' },
  { name: 'more than the pool holds', args: ['transfer', '20000', ...T], exitCode: 3, code: 'INSUFFICIENT_CREDITS', mentions: 'org' },
  { name: 'negative token count', args: [...U, '--input-tokens', '-1'], exitCode: 2, code: 'INVALID_VALUE', mentions: '--input-tokens' },
  { name: 'fractional tool calls', args: [...U, '--tool-calls', '1.5'], exitCode: 2, code: 'INVALID_VALUE', mentions: '--tool-calls' },
  { name: 'huge token count', args: [...U, '--input-tokens', '99999999999999999999'], exitCode: 2, code: 'INVALID_VALUE', mentions: '--input-tokens' },
  { name: 'negative limit', args: ['limits', 'set', '--user', 'ada@example.com', '--daily', '-3'], exitCode: 2, code: 'INVALID_AMOUNT', mentions: '--daily' },
  {
    name: 'limit with thousands separator',
    args: ['limits', 'set', '--org', '--monthly', '1,000'],
    exitCode: 2,
    code: 'INVALID_AMOUNT',
    mentions: 'thousands separator',
  },
  {
    name: 'custom credits below the minimum',
    args: ['buy', 'custom', '--credits', '1000', '--discount', '5', '--method', 'card'],
    exitCode: 2,
    code: 'CUSTOM_MINIMUM',
    mentions: '--credits',
  },
  {
    name: 'custom discount NaN',
    args: ['buy', 'custom', '--credits', '600000', '--discount', 'NaN', '--method', 'card'],
    exitCode: 2,
    code: 'INVALID_VALUE',
    mentions: '--discount',
  },
  { name: 'invoice below its minimum', args: ['buy', 'basic', '--method', 'invoice'], exitCode: 2, code: 'INVOICE_MINIMUM', mentions: 'invoice' },
  { name: 'quantity zero', args: ['buy', 'basic', '--method', 'card', '--quantity', '0'], exitCode: 2, code: 'INVALID_VALUE', mentions: '--quantity' },
  { name: 'rate with thousands separator', args: ['rates', 'set', 'gpt-4o', '--input', '1,5'], exitCode: 2, code: 'INVALID_AMOUNT', mentions: '--input' },
  // dates, times, time zones
  { name: 'February 30', args: ['balance', '--as-of', '2026-02-30'], exitCode: 2, code: 'INVALID_DATE', mentions: '--as-of' },
  { name: 'month 13', args: ['history', '--since', '2026-13-01'], exitCode: 2, code: 'INVALID_DATE', mentions: '--since' },
  { name: 'hour 25', args: [...U, '--at', '2026-06-10T25:00:00Z'], exitCode: 2, code: 'INVALID_DATE', mentions: '--at' },
  { name: 'American date', args: ['history', '--until', '06/10/2026'], exitCode: 2, code: 'INVALID_DATE', mentions: '--until' },
  { name: 'words for a date', args: ['anomalies', '--since', 'yesterday'], exitCode: 2, code: 'INVALID_DATE', mentions: '--since' },
  { name: 'bad offset', args: [...U, '--at', '2026-06-10T10:00:00+25:00'], exitCode: 2, code: 'INVALID_DATE', mentions: '--at' },
  {
    name: 'usage tomorrow',
    args: [...U, '--tool-calls', '1', '--at', new Date(Date.now() + 86_400_000).toISOString()],
    exitCode: 2,
    code: 'INVALID_DATE',
    mentions: 'in the future',
  },
  {
    name: 'usage in 9999',
    args: [...U, '--tool-calls', '1', '--at', '9999-12-31T23:59:59Z'],
    exitCode: 2,
    code: 'INVALID_DATE',
    mentions: '--at "9999-12-31T23:59:59Z" is in the future',
  },
  {
    name: 'local time the clocks skipped',
    args: [...U, '--tool-calls', '1', '--at', '2026-03-29T02:30'],
    exitCode: 2,
    code: 'INVALID_DATE',
    mentions: /--at "2026-03-29T02:30" does not exist in Europe\/Berlin.*2026-03-29T01:30:00\+01:00 and 2026-03-29T03:30:00\+02:00/,
  },
  {
    name: 'local time that happens twice',
    args: ['history', '--since', '2026-10-25T02:30'],
    exitCode: 2,
    code: 'INVALID_DATE',
    mentions: /--since "2026-10-25T02:30" happens twice.*2026-10-25T02:30:00\+02:00 or 2026-10-25T02:30:00\+01:00/,
  },
  { name: 'skipped local time for --as-of', args: ['balance', '--as-of', '2026-03-29T02:00:00'], exitCode: 2, code: 'INVALID_DATE', mentions: '--as-of' },
  {
    name: 'import line in the future',
    args: ['usage', 'import', '@FILE'],
    file: { name: 'future.jsonl', content: '{"eventId":"f1","user":"ada@example.com","model":"gpt-4o","toolCalls":1,"at":"2099-01-01T00:00:00Z"}\n' },
    exitCode: 2,
    code: 'INVALID_INPUT_FILE',
    mentions: 'line 1',
    report: 1,
  },
  { name: 'bad month for a report', args: ['report', '--by', 'user', '--month', '2026-6'], exitCode: 2, code: 'INVALID_DATE', mentions: '--month' },
  { name: 'unknown time zone', args: ['org', 'set', '--timezone', 'Mars/Olympus'], exitCode: 2, code: 'INVALID_TIMEZONE', mentions: 'Mars/Olympus' },
  { name: 'time zone abbreviation with offset', args: ['org', 'set', '--timezone', 'CEST+2'], exitCode: 2, code: 'INVALID_TIMEZONE', mentions: 'CEST+2' },
  { name: 'time zone path trick', args: ['org', 'set', '--timezone', '../../etc/passwd'], exitCode: 2, code: 'INVALID_TIMEZONE', mentions: '../../etc/passwd' },
  // emails and names
  {
    name: 'email without @',
    args: ['user', 'add', 'ada.example.com', '--dept', 'Engineering'],
    exitCode: 2,
    code: 'INVALID_EMAIL',
    mentions: 'ada.example.com',
  },
  {
    name: 'email with two @',
    args: ['user', 'add', 'a@b@example.com', '--dept', 'Engineering'],
    exitCode: 2,
    code: 'INVALID_EMAIL',
    mentions: 'a@b@example.com',
  },
  {
    name: 'email with spaces',
    args: ['user', 'add', 'ada lovelace@example.com', '--dept', 'Engineering'],
    exitCode: 2,
    code: 'INVALID_EMAIL',
    mentions: 'ada lovelace@example.com',
  },
  {
    name: 'email with SQL',
    args: ['user', 'add', "x'; DROP TABLE accounts;--@example.com", '--dept', 'Engineering'],
    exitCode: 2,
    code: 'INVALID_EMAIL',
    mentions: 'DROP TABLE',
  },
  {
    name: 'user for an SQL-looking department',
    args: ['user', 'add', 'eve@example.com', '--dept', "x' OR '1'='1"],
    exitCode: 4,
    code: 'DEPARTMENT_NOT_FOUND',
    mentions: "x' OR '1'='1",
  },
  { name: 'empty department name', args: ['dept', 'add', ''], exitCode: 2, code: 'MISSING_FLAG', mentions: 'NAME' },
  { name: 'department name with a newline', args: ['dept', 'add', 'Line\nBreak'], exitCode: 2, code: 'INVALID_NAME', mentions: 'name' },
  { name: 'department name too long', args: ['dept', 'add', 'x'.repeat(500)], exitCode: 2, code: 'INVALID_NAME', mentions: 'name' },
  { name: 'SQL in a department name', args: ['dept', 'add', "x'; DROP TABLE accounts;--"], exitCode: 2, code: 'INVALID_NAME', mentions: 'NAME' },
  { name: 'double quotes in a department name', args: ['dept', 'add', 'Ops "Team"'], exitCode: 2, code: 'INVALID_NAME', mentions: 'NAME' },
  { name: 'reserved name world', args: ['dept', 'add', 'World'], exitCode: 2, code: 'INVALID_NAME', mentions: 'reserved' },
  {
    name: 'transfer to an SQL-looking account',
    args: ['transfer', '5', '--from', 'org', '--to', "x'; DROP TABLE accounts;--"],
    exitCode: 4,
    code: 'DEPARTMENT_NOT_FOUND',
    mentions: 'DROP TABLE',
  },
  {
    name: 'unknown user for usage',
    args: ['usage', 'record', '--user', 'nobody@example.com', '--model', 'gpt-4o', '--tool-calls', '1'],
    exitCode: 4,
    code: 'USER_NOT_FOUND',
    mentions: 'nobody@example.com',
  },
  {
    name: 'unknown model',
    args: ['usage', 'record', '--user', 'ada@example.com', '--model', 'gpt-99', '--tool-calls', '1'],
    exitCode: 4,
    code: 'MODEL_NOT_FOUND',
    mentions: 'gpt-99',
  },
  // flags and commands
  { name: 'unknown flag', args: ['transfer', '5', ...T, '--reasn', 'typo'], exitCode: 2, code: 'UNKNOWN_FLAG', mentions: '--reasn' },
  { name: 'unknown global flag', args: ['--verbose', 'balance'], exitCode: 2, code: 'UNKNOWN_FLAG', mentions: '--verbose' },
  { name: 'unknown subcommand', args: ['purchases', 'refund', '1'], exitCode: 2, code: 'UNKNOWN_COMMAND', mentions: 'refund' },
  { name: 'flag without its value', args: ['transfer', '5', '--from', 'org', '--to'], exitCode: 2, code: 'MISSING_FLAG', mentions: '--to' },
  { name: 'bad --by', args: ['report', '--by', 'planet'], exitCode: 2, code: 'USAGE', mentions: 'planet' },
  { name: 'bad --kind', args: ['history', '--kind', 'theft'], exitCode: 2, code: 'USAGE', mentions: '--kind' },
  { name: 'bad --limit', args: ['history', '--limit', 'all'], exitCode: 2, code: 'INVALID_VALUE', mentions: '--limit' },
  { name: 'bad idempotency key', args: ['transfer', '5', ...T, '--idempotency-key', ''], exitCode: 2, code: 'INVALID_VALUE', mentions: '--idempotency-key' },
  {
    name: 'idempotency key reused for other content',
    args: ['transfer', '6', ...T, '--idempotency-key', 'seed-key'],
    exitCode: 5,
    code: 'IDEMPOTENCY_CONFLICT',
    mentions: 'seed-key',
  },
  // files
  {
    name: 'empty import file',
    args: ['usage', 'import', '@FILE'],
    file: { name: 'empty.jsonl', content: '' },
    exitCode: 2,
    code: 'INVALID_INPUT_FILE',
    mentions: 'empty',
  },
  {
    name: 'binary import file',
    args: ['usage', 'import', '@FILE'],
    file: { name: 'random.bin', content: Buffer.from(Array.from({ length: 4096 }, (_unused, index) => (index * 7919) % 256)) },
    exitCode: 2,
    code: 'INVALID_INPUT_FILE',
    mentions: 'binary',
  },
  {
    name: 'missing import file',
    args: ['usage', 'import', '/nonexistent/events.jsonl'],
    exitCode: 2,
    code: 'INVALID_INPUT_FILE',
    mentions: '/nonexistent/events.jsonl',
  },
  {
    name: 'truncated JSON line',
    args: ['usage', 'import', '@FILE'],
    file: { name: 'truncated.jsonl', content: '{"eventId":"t1","user":"ada@example.com","model":"gpt-4o","toolCalls":"x"}\n{"eventId":"t2","user":"ada@exa' },
    exitCode: 2,
    code: 'INVALID_INPUT_FILE',
    mentions: 'line 1',
    report: 2,
  },
  {
    name: 'CSV with wrong columns',
    args: ['usage', 'import', '@FILE'],
    file: { name: 'wrong.csv', content: 'who,what,howmuch\nada@example.com,gpt-4o,5\n' },
    exitCode: 2,
    code: 'INVALID_INPUT_FILE',
    mentions: 'who',
  },
  {
    name: 'CSV with a missing cell',
    args: ['usage', 'import', '@FILE'],
    file: { name: 'short.csv', content: 'eventId,user,model,toolCalls\nc1,ada@example.com\n' },
    exitCode: 2,
    code: 'INVALID_INPUT_FILE',
    mentions: 'line 2',
    report: 1,
  },
  {
    name: 'JSON array instead of lines',
    args: ['usage', 'import', '@FILE'],
    file: { name: 'array.json', content: '[{"eventId":"a1","user":"ada@example.com","model":"gpt-4o"}]' },
    exitCode: 2,
    code: 'INVALID_INPUT_FILE',
    mentions: 'line 1',
    report: 1,
  },
];

/** sha256 per table of its schema and every row, read straight from the file. */
function ledgerChecksum(path: string): Record<string, string> {
  const db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  try {
    const sums: Record<string, string> = {};
    const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string; sql: string }[];
    for (const table of tables) {
      const hash = createHash('sha256').update(`${table.sql}\n`);
      for (const row of db.prepare(`SELECT * FROM "${table.name}" ORDER BY rowid`).iterate()) hash.update(`${JSON.stringify(row)}\n`);
      sums[table.name] = hash.digest('hex');
    }
    return sums;
  } finally {
    db.close();
  }
}

async function inBatches<T, R>(items: T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) results.push(...(await Promise.all(items.slice(start, start + size).map(work))));
  return results;
}

describe('bad input corpus on a local ledger', () => {
  let ledger: Ledger;
  let dir: string;
  let before: Record<string, string>;
  let results: Map<string, RunResult>;

  beforeAll(async () => {
    ledger = await seededLedger('local');
    dir = join(ledger.location, '..');
    await ledger.ok(['transfer', '5', ...T, '--idempotency-key', 'seed-key']);
    before = ledgerChecksum(ledger.location);
    for (const testCase of CASES) if (testCase.file) writeFileSync(join(dir, testCase.file.name), testCase.file.content);
    const outcomes = await inBatches(CASES, 4, async (testCase) => {
      const args = testCase.args.map((arg) => (arg === '@FILE' ? join(dir, testCase.file!.name) : arg));
      return [testCase.name, await ledger.run([...args, '--json'], { input: testCase.input })] as const;
    });
    results = new Map(outcomes);
  }, 120_000);
  afterAll(async () => {
    await ledger?.close();
  });

  it(`has at least 50 cases (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
    expect(new Set(CASES.map((testCase) => testCase.name)).size).toBe(CASES.length);
  });

  it.each(CASES)('$name: exit $exitCode, $code', (testCase) => {
    const result = results.get(testCase.name)!;
    if (testCase.report === undefined) expect(result.stdout, result.stderr).toBe('');
    else expect(result.json()).toMatchObject({ accepted: 0, duplicates: 0, refused: 0, malformed: testCase.report });
    const error = JSON.parse(result.stderr).error;
    expect({ exit: result.exitCode, code: error.code }, result.stderr).toEqual({ exit: testCase.exitCode, code: testCase.code });
    const text = `${error.message} ${error.hint ?? ''}`;
    if (typeof testCase.mentions === 'string') expect(text).toContain(testCase.mentions);
    else expect(text).toMatch(testCase.mentions);
  });

  it('leaves the ledger exactly as it was after all of them', () => {
    expect(ledgerChecksum(ledger.location)).toEqual(before);
  });
});

describe('odd but valid names and memos on a local ledger', () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await seededLedger('local');
  });
  afterAll(async () => {
    await ledger?.close();
  });

  // Department names allow letters of any script, digits, spaces and . _ & ' - (see the corpus for the rest).
  const NAMES = ["O'Brien & Söhne", 'Ünïcødé 研究 Ωmega', "x' OR '1'-'1", "Bobby' -- DROP TABLE accounts", 'R&D_2.0'];
  const reason = (name: string) => `for ${name}; x'); DROP TABLE entries;-- "quoted" \\ %_ 🚀`;

  it('stores SQL-looking, quoted and unicode department names and reasons, and shows them back exactly', async () => {
    for (const name of NAMES) await ledger.ok(['dept', 'add', name]);
    const listed = (await ledger.ok(['dept', 'list', '--json'])).json();
    const names = JSON.stringify(listed);
    for (const name of NAMES) expect(names).toContain(JSON.stringify(name).slice(1, -1));
    for (const [index, name] of NAMES.entries()) {
      const moved = (await ledger.ok(['transfer', String(index + 1), '--from', 'org', '--to', name, '--reason', reason(name), '--json'])).json();
      expect(moved).toMatchObject({ to: name, millicredits: (index + 1) * 1000 });
    }
    const balances = (await ledger.ok(['balance', '--json'])).json().accounts as { account: string; millicredits: number }[];
    for (const [index, name] of NAMES.entries()) expect(balances.find((row) => row.account === name)?.millicredits).toBe((index + 1) * 1000);
    const memos = ((await ledger.ok(['history', '--kind', 'allocation', '--json'])).json().transactions as { memo: string }[]).map((tx) => tx.memo);
    for (const name of NAMES) expect(memos).toContain(reason(name));
    // The SQL was data: every table is still there and the ledger verifies.
    expect((await ledger.ok(['verify', '--json'])).json()).toMatchObject({ ok: true, problems: [] });
    // And a name shown in a table is the name, with nothing interpreted.
    const table = (await ledger.ok(['balance'])).stdout;
    for (const name of NAMES.slice(0, 2)) expect(table).toContain(name);
  });
});

describe('bad --db locations', () => {
  let ledger: Ledger;
  let dir: string;
  beforeAll(async () => {
    ledger = await seededLedger('local');
    dir = join(ledger.location, '..');
  });
  afterAll(async () => {
    await ledger?.close();
  });

  it('a directory: exit 2, NOT_A_LEDGER, naming it', async () => {
    const folder = join(dir, 'folder.db');
    mkdirSync(folder);
    const result = await runCli(['--db', folder, 'transfer', '5', ...T, '--json'], {});
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(result.stderr).error).toMatchObject({ code: 'NOT_A_LEDGER' });
    expect(JSON.parse(result.stderr).error.message).toContain('directory');
  });

  it("another program's SQLite file: exit 2, NOT_A_LEDGER, and the file is untouched", async () => {
    const path = join(dir, 'browser-history.sqlite');
    const other = new BetterSqlite3(path);
    other.exec("CREATE TABLE visits (url TEXT, at INTEGER); INSERT INTO visits VALUES ('https://example.com', 1)");
    other.close();
    const bytes = readFileSync(path);
    for (const args of [['balance'], ['transfer', '5', ...T], ['verify']]) {
      const result = await runCli(['--db', path, ...args, '--json'], {});
      expect(result.exitCode, result.stderr).toBe(2);
      const error = JSON.parse(result.stderr).error;
      expect(error.code).toBe('NOT_A_LEDGER');
      expect(error.message).toContain(path);
    }
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('a read-only ledger: reads work, a write fails with exit 6 naming the file, and nothing changes', async () => {
    const ro = join(dir, 'readonly');
    mkdirSync(ro);
    const path = join(ro, 'ledger.db');
    copyFileSync(ledger.location, path);
    const before = ledgerChecksum(path);
    chmodSync(path, 0o444);
    chmodSync(ro, 0o555);
    try {
      const write = await runCli(['--db', path, 'transfer', '5', ...T, '--json'], {});
      if (process.getuid?.() === 0) {
        // root writes through file modes: nothing to show here but that the write is whole.
        expect(write.exitCode).toBe(0);
        return;
      }
      expect(write.exitCode, write.stderr).toBe(6);
      const error = JSON.parse(write.stderr).error;
      expect(error.code).toBe('STORAGE_UNAVAILABLE');
      expect(error.message).toContain(path);
      const read = await runCli(['--db', path, 'balance', '--json'], {});
      expect(read.exitCode, read.stderr).toBe(0);
      expect(read.json().accounts.find((row: { account: string }) => row.account === 'org').millicredits).toBe(10_000_000);
    } finally {
      chmodSync(ro, 0o755);
      chmodSync(path, 0o644);
    }
    expect(ledgerChecksum(path)).toEqual(before);
  });
});
