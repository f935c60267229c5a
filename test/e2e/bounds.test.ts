import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, seededLedger, type BalanceJson, type Ledger } from '../helpers/cli.js';

/** The cells of the table row whose first cell starts with `first`, as printed. */
function cellsOf(table: string, first: string): string[] {
  const row = table.split('\n').find((line) => line.replace(/^[│|]\s*/, '').startsWith(first));
  expect(row, table).toBeDefined();
  return row!
    .split(/[│|]/)
    .slice(1, -1)
    .map((cell) => cell.trim());
}

/**
 * Issue 14's bounds on one ledger, in order: event times (future refused, late counted in their
 * own day), amounts typed back as the CLI prints them, and the ledger's bound on balances.
 * `verify` passes after each.
 */
describe(`bounds, event times and amounts as printed on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  const june10 = { env: { CREDITS_NOW: '2026-06-10T12:00:00Z' } };
  const ada = ['usage', 'record', '--user', 'ada@example.com', '--model', 'gpt-4o'];
  const history = async () => (await ledger.ok(['history', '--limit', '1000', '--json'])).stdout;
  const verified = async () => expect((await ledger.ok(['verify', '--json'])).json()).toMatchObject({ ok: true, problems: [] });
  const balances = async () => (await ledger.ok(['balance', '--json'])).json<BalanceJson>().accounts;

  beforeAll(async () => {
    ledger = await seededLedger();
  });
  afterAll(async () => {
    await ledger?.close();
  });

  it('refuses usage dated in the future (exit 2), and counts late usage in the day it belongs to', async () => {
    await ledger.ok(['transfer', '100', '--from', 'org', '--to', 'Engineering'], june10);
    await ledger.ok(['limits', 'set', '--user', 'ada@example.com', '--daily', '10'], june10);
    await ledger.ok([...ada, '--tool-calls', '20'], june10); // 10 credits: the day's limit is used up
    const before = await history();
    for (const at of ['2026-06-11T09:00:00Z', '2027-01-01', '9999-12-31T23:59:59Z', '2026-06-10T12:05:01Z']) {
      const future = await ledger.run([...ada, '--tool-calls', '1', '--at', at, '--json'], june10);
      expect(future.exitCode, at).toBe(2);
      expect(JSON.parse(future.stderr).error).toMatchObject({ code: 'INVALID_DATE', message: expect.stringContaining(`--at "${at}" is in the future`) });
    }
    // Within the clock skew the event is today's, and today's limit is used up.
    const skewed = await ledger.run([...ada, '--tool-calls', '1', '--at', '2026-06-10T12:04:00Z', '--json'], june10);
    expect(JSON.parse(skewed.stderr).error.code).toBe('LIMIT_EXCEEDED');
    expect(await history()).toBe(before);
    // Late: June 9 (Berlin) has its own limit, and the late events fill it.
    await ledger.ok([...ada, '--tool-calls', '2', '--at', '2026-06-09T10:00:00Z'], june10);
    const overJune9 = await ledger.run([...ada, '--tool-calls', '19', '--at', '2026-06-09T23:30:00+02:00', '--json'], june10);
    expect(JSON.parse(overJune9.stderr).error.code).toBe('LIMIT_EXCEEDED');
    await ledger.ok([...ada, '--tool-calls', '18', '--at', '2026-06-09T23:30:00+02:00'], june10);
    // In an import a future event is a malformed line, named by line and field; the rest is posted.
    const dir = mkdtempSync(join(tmpdir(), 'credits-bounds-'));
    const file = join(dir, 'late-and-future.jsonl');
    const line = (eventId: string, at: string) => JSON.stringify({ eventId, user: 'ada@example.com', model: 'gpt-4o', toolCalls: 1, at });
    writeFileSync(file, `${line('late-1', '2026-06-08T10:00:00Z')}\n${line('future-1', '2026-06-12T00:00:00Z')}\n`);
    const imported = await ledger.run(['usage', 'import', file, '--json'], june10);
    expect(imported.exitCode).toBe(2);
    expect(imported.json()).toMatchObject({ accepted: 1, malformed: 1, firstMalformedLine: 2 });
    expect(imported.json().problems[0].message).toContain('line 2: at "2026-06-12T00:00:00Z" is in the future');
    const byDay = (await ledger.ok(['report', '--by', 'day', '--since', '2026-06-08', '--until', '2026-06-10', '--json'], june10)).json();
    // The late event counts on its own day, not on the day it was posted.
    const june8 = byDay.rows.find((row: { key: string }) => row.key === '2026-06-08');
    expect(june8?.events).toBe(1);
    expect(june8?.millicredits).toBeGreaterThan(0);
    await verified();
  });

  it('reads back every amount as balance and report print it', async () => {
    // 2.125 and 1.000 are read with a dot as the decimal point, as the CLI prints them.
    await ledger.ok(['transfer', '2.125', '--from', 'org', '--to', 'Marketing']);
    await ledger.ok(['transfer', '1.000', '--from', 'org', '--to', 'Marketing']);
    expect((await balances()).find((row) => row.account === 'Marketing')?.millicredits).toBe(3125);
    const table = (await ledger.ok(['balance'])).stdout;
    const [, , orgCredits] = cellsOf(table, 'org');
    const [, , marketingCredits] = cellsOf(table, 'Marketing');
    expect(orgCredits).toMatch(/^\d,\d{3}\.\d+$/); // grouped, like 9,887.875
    // Move the pool's whole balance as printed (with its comma grouping) to Engineering, and back.
    await ledger.ok(['transfer', orgCredits!, '--from', 'org', '--to', 'Engineering']);
    expect((await balances()).find((row) => row.account === 'org')?.millicredits).toBe(0);
    await ledger.ok(['transfer', orgCredits!, '--from', 'Engineering', '--to', 'org']);
    await ledger.ok(['transfer', marketingCredits!, '--from', 'Marketing', '--to', 'org']);
    expect((await balances()).find((row) => row.account === 'Marketing')?.millicredits).toBe(0);
    // A report's credits and euros go into a limit and a recharge cap.
    const report = (await ledger.ok(['report', '--by', 'user', '--month', '2026-06'])).stdout;
    const [, , , usedCredits, usedEuros] = cellsOf(report, 'ada@example.com');
    expect(usedCredits).toBe('20.5');
    await ledger.ok(['limits', 'set', '--dept', 'Engineering', '--monthly', usedCredits!]);
    await ledger.ok(['recharge', 'set', '--for', 'Engineering', '--threshold', '1', '--package', 'basic', '--method', 'card', '--monthly-cap', usedEuros!]);
    const limits = (await ledger.ok(['limits'])).stdout;
    expect(limits).toContain(usedCredits);
    expect((await ledger.ok(['recharge'])).stdout).toContain(usedEuros);
    await verified();
  });

  it('refuses any write past the bound of ten billion credits (exit 3), and nothing is written', async () => {
    const total = (await balances()).reduce((sum, row) => sum + (row.account === 'world' ? 0 : row.millicredits), 0);
    const room = 10_000_000_000 - Math.ceil(total / 1000);
    const tooMuch = await ledger.run(['buy', 'custom', '--credits', String(room + 1), '--discount', '0', '--method', 'card', '--json']);
    expect(tooMuch.exitCode).toBe(3);
    expect(JSON.parse(tooMuch.stderr).error).toMatchObject({ code: 'BOUND_EXCEEDED', message: expect.stringContaining('10000000000 credits') });
    await ledger.ok(['buy', 'custom', '--credits', String(room), '--discount', '0', '--method', 'card']);
    const before = await history();
    for (const [args, what] of [
      [['buy', 'basic', '--method', 'card', '--for', 'Marketing'], 'the credits held by all accounts together'],
      [['buy', 'basic', '--method', 'sepa'], 'the balance of org'],
    ] as const) {
      const refused = await ledger.run([...args, '--json']);
      expect(refused.exitCode, args.join(' ')).toBe(3);
      expect(JSON.parse(refused.stderr).error).toMatchObject({ code: 'BOUND_EXCEEDED', message: expect.stringContaining(what) });
    }
    expect((await ledger.ok(['purchases', '--status', 'pending', '--json'])).json()).toMatchObject({ purchases: [] });
    expect(await history()).toBe(before);
    // Moving and spending credits inside the ledger is fine at the bound.
    await ledger.ok(['transfer', '1000', '--from', 'org', '--to', 'Marketing']);
    await ledger.ok(['usage', 'record', '--user', 'don@example.com', '--model', 'gpt-4o', '--tool-calls', '2']);
    // A recharge past the bound is refused like one past its cap; the usage that triggered it is posted.
    const purchases = (await ledger.ok(['purchases', '--json'])).stdout;
    await ledger.ok(['recharge', 'set', '--for', 'Marketing', '--threshold', '2000', '--package', 'basic', '--method', 'card', '--monthly-cap', '1,000.00']);
    const posted = await ledger.ok(['usage', 'record', '--user', 'don@example.com', '--model', 'gpt-4o', '--tool-calls', '2', '--json']);
    expect(posted.json()).toMatchObject({ status: 'accepted' });
    expect((await ledger.ok(['purchases', '--json'])).stdout).toBe(purchases);
    await verified();
  });
});
