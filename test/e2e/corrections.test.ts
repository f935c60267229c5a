import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, freshLedger, type Ledger, type RunResult } from '../helpers/cli.js';

/**
 * Corrections: `adjust` (an account against the outside world, with a reason) and `usage reverse`
 * (one event, or a whole usage batch), on a ledger whose clock is pinned per step so that the
 * months of the statements are known. After every scenario `verify` must pass, and every statement
 * must foot: opening + lines = closing, in credits and in euros.
 */

const NOVEMBER = '2026-11-10T10:00:00Z';

type StatementJson = {
  openingMillicredits: number;
  purchases: { millicredits: number; priceCents: number; discountCents: number }[];
  transfers: { direction: 'in' | 'out'; millicredits: number; cents: number }[];
  usageMillicredits: number;
  usageEvents: number;
  usageDrawnFromOrgMillicredits: number;
  reversalsMillicredits: number;
  reversalEvents?: number;
  adjustmentsMillicredits: number;
  adjustments: { dayKey: string; reason: string; millicredits: number; cents: number }[];
  closingMillicredits: number;
  openingCents: number;
  usageCents: number;
  usageDrawnFromOrgCents: number;
  reversalsCents: number;
  adjustmentsCents: number;
  closingCents: number;
  usageByUser: { label: string; millicredits: number }[];
};

const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

/** Opening + every line = closing, in millicredits and in cents, from the JSON statement. */
function expectFoots(statement: StatementJson): void {
  const transfers = (of: 'millicredits' | 'cents') => sum(statement.transfers.map((row) => (row.direction === 'in' ? row[of] : -row[of])));
  expect(
    statement.openingMillicredits +
      sum(statement.purchases.map((row) => row.millicredits)) +
      transfers('millicredits') -
      statement.usageMillicredits +
      statement.usageDrawnFromOrgMillicredits +
      statement.reversalsMillicredits +
      statement.adjustmentsMillicredits,
  ).toBe(statement.closingMillicredits);
  expect(
    statement.openingCents +
      sum(statement.purchases.map((row) => row.priceCents + row.discountCents)) +
      transfers('cents') -
      statement.usageCents +
      statement.usageDrawnFromOrgCents +
      statement.reversalsCents +
      statement.adjustmentsCents,
  ).toBe(statement.closingCents);
  expect(sum(statement.adjustments.map((row) => row.millicredits))).toBe(statement.adjustmentsMillicredits);
  expect(sum(statement.adjustments.map((row) => row.cents))).toBe(statement.adjustmentsCents);
}

/** The CSV summary (every section but the breakdowns and the closing) adds up to the closing row. */
function expectCsvFoots(csv: string): void {
  const rows = csv
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','));
  // Fields: month, scope, section, item, detail, date, events, credits, euros (no commas in this test's texts).
  const summary = rows.filter((row) => !row[2]!.startsWith('usage_by') && row[2] !== 'closing');
  const closing = rows.find((row) => row[2] === 'closing')!;
  const units = (value: string): number => Math.round(Number(value) * 1000);
  expect(sum(summary.map((row) => units(row[7]!)))).toBe(units(closing[7]!));
  expect(sum(summary.map((row) => Math.round(Number(row[8]!) * 100)))).toBe(Math.round(Number(closing[8]!) * 100));
}

describe(`corrections on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  const at = (now: string) => ({ env: { CREDITS_NOW: now } });
  const ok = (args: string[], now = NOVEMBER, input?: string): Promise<RunResult> => ledger.ok(args, { ...at(now), ...(input === undefined ? {} : { input }) });
  const run = (args: string[], now = NOVEMBER): Promise<RunResult> => ledger.run(args, at(now));
  const balance = async (account: string, now = NOVEMBER): Promise<number> =>
    (await ok(['balance', account, '--json'], now)).json<{ accounts: { millicredits: number }[] }>().accounts[0]!.millicredits;
  const statement = async (month: string, now: string, dept?: string): Promise<StatementJson> =>
    (await ok(['statement', '--month', month, '--json', ...(dept ? ['--dept', dept] : [])], now)).json<StatementJson>();
  const verified = async (now = NOVEMBER): Promise<void> => {
    expect((await ok(['verify', '--json'], now)).json().ok).toBe(true);
  };

  beforeAll(async () => {
    ledger = await freshLedger();
    const setup = '2026-11-02T09:00:00Z';
    await ok(['init', '--org', 'Test GmbH'], setup);
    await ok(['dept', 'add', 'Engineering', '--cost-center', 'CC-100'], setup);
    await ok(['dept', 'add', 'Marketing', '--cost-center', 'CC-200'], setup);
    await ok(['user', 'add', 'ada@example.com', '--dept', 'Engineering'], setup);
    await ok(['user', 'add', 'don@example.com', '--dept', 'Marketing'], setup);
    await ok(['buy', 'professional', '--method', 'card'], setup);
    await ok(['transfer', '3000', '--from', 'org', '--to', 'Engineering'], setup);
    await ok(['transfer', '2000', '--from', 'org', '--to', 'Marketing'], setup);
    // November's usage: one event recorded, and an import (one usage batch) of three.
    const used = '2026-11-05T09:00:00Z';
    await ok(
      [
        'usage',
        'record',
        '--user',
        'ada@example.com',
        '--model',
        'gpt-4o',
        '--input-tokens',
        '523',
        '--output-tokens',
        '1247',
        '--tool-calls',
        '2',
        '--event-id',
        'e-1',
      ],
      used,
    );
    const lines = [
      { eventId: 'imp-1', user: 'ada@example.com', model: 'gpt-4o-mini', inputTokens: 10_000 },
      { eventId: 'imp-2', user: 'don@example.com', model: 'gpt-4o-mini', inputTokens: 20_000 },
      { eventId: 'imp-3', user: 'don@example.com', model: 'gpt-4o', outputTokens: 1000 },
    ];
    await ok(['usage', 'import', '-', '--format', 'jsonl', '--quiet'], used, lines.map((line) => JSON.stringify(line)).join('\n'));
  });

  afterAll(async () => {
    await ledger?.close();
  });

  it('adjusts an account up and down with a reason, and refuses what would take it below zero', async () => {
    // Engineering 3,000 less e-1 (8.0) and imp-1 (6.0); Marketing 2,000 less imp-2 (12.0) and imp-3 (3.929).
    const up = (await ok(['adjust', 'Engineering', '250', '--reason', 'credit note 114', '--json'])).json();
    expect(up).toMatchObject({ account: 'Engineering', millicredits: 250_000, reason: 'credit note 114', balanceMillicredits: 3_236_000 });
    const down = (await ok(['adjust', 'marketing', '-50.5', '--reason', 'double booking', '--json'])).json();
    expect(down).toMatchObject({ account: 'Marketing', millicredits: -50_500, balanceMillicredits: 1_933_571 });
    expect((await ok(['adjust', 'org', '-1', '--reason', 'bank fee'])).stdout).toContain('Adjusted org -1.0 credits');

    // Refusals and a dry run write nothing. Write transactions run one at a time (sqld's write
    // lock queue, see the README); what fails before the ledger is written runs alongside.
    const refused = await run(['adjust', 'Marketing', '-1933.572', '--reason', 'too much', '--json']);
    const [noReason, zero, dry] = await Promise.all([
      run(['adjust', 'Marketing', '5', '--json']),
      run(['adjust', 'Marketing', '0', '--reason', 'nothing', '--json']),
      ok(['adjust', 'Marketing', '-1933.571', '--reason', 'all of it', '--dry-run', '--json']),
    ]);
    expect(refused.exitCode).toBe(3);
    expect(JSON.parse(refused.stderr).error.code).toBe('INSUFFICIENT_CREDITS');
    expect(noReason.exitCode).toBe(2);
    expect(JSON.parse(noReason.stderr).error).toMatchObject({ code: 'MISSING_FLAG' });
    expect(zero.exitCode).toBe(2);
    expect(JSON.parse(zero.stderr).error).toMatchObject({ code: 'INVALID_AMOUNT' });
    expect(dry.json()).toMatchObject({ dryRun: true, balanceMillicredits: 0 });

    // Chained and audited like every transaction.
    const [marketing, history, audit] = await Promise.all([balance('Marketing'), ok(['history', '--kind', 'adjustment', '--json']), ok(['audit', '--json'])]);
    expect(marketing).toBe(1_933_571);
    expect(history.json<{ transactions: { memo: string }[] }>().transactions.map((row) => row.memo)).toEqual(['bank fee', 'double booking', 'credit note 114']);
    const entries = audit.json<{ entries: { command: string; args: { reason?: string } }[] }>().entries;
    expect(entries.filter((row) => row.command === 'adjust').map((row) => row.args.reason)).toEqual(['bank fee', 'double booking', 'credit note 114']);
    await verified();
  });

  it('shows each adjustment on its own line of the statement, which still foots', async () => {
    const read = '2026-12-01T08:00:00Z';
    const [month, engineering, csvRun, textRun] = await Promise.all([
      statement('2026-11', read),
      statement('2026-11', read, 'Engineering'),
      ok(['statement', '--month', '2026-11', '--format', 'csv', '--output', '-'], read),
      ok(['statement', '--month', '2026-11'], read),
    ]);
    expect(month.adjustments.map((row) => [row.reason, row.millicredits])).toEqual([
      ['credit note 114', 250_000],
      ['double booking', -50_500],
      ['bank fee', -1_000],
    ]);
    expect(month.adjustmentsMillicredits).toBe(198_500);
    expect(month.reversalsMillicredits).toBe(0);
    expectFoots(month);
    expect(engineering.adjustments.map((row) => row.reason)).toEqual(['credit note 114']);
    expectFoots(engineering);
    const csv = csvRun.stdout;
    expect(csv).toContain('2026-11,organisation,adjustment,double booking,,2026-11-10,,-50.500,');
    expectCsvFoots(csv);
    const text = textRun.stdout;
    expect(text).toContain('± Adjustment      +250.0 credits (€2.50) on 2026-11-10: credit note 114');
  });

  const DECEMBER = '2026-12-03T10:00:00Z';
  /** What the events cost, by the published card: e-1 8.0; imp-1 6.0, imp-2 12.0 (gpt-4o-mini input); imp-3 3.929 (gpt-4o output). */
  const E1 = 8000;
  const IMPORT = { Engineering: 6000, Marketing: 12_000 + 3929 };

  it('reverses one event, then the rest of an import batch, each once, booked now', async () => {
    const [beforeEngineering, beforeMarketing, listedRun] = await Promise.all([
      balance('Engineering', DECEMBER),
      balance('Marketing', DECEMBER),
      ok(['usage', 'list', '--json'], DECEMBER),
    ]);
    const before = { Engineering: beforeEngineering, Marketing: beforeMarketing };
    const listed = listedRun.json<{ events: { eventId: string; transactionId: number }[] }>().events;
    const batch = listed.find((item) => item.eventId === 'imp-3')!.transactionId;
    expect(listed.filter((item) => item.transactionId === batch).map((item) => item.eventId)).toEqual(['imp-3', 'imp-2', 'imp-1']);

    const one = (await ok(['usage', 'reverse', 'e-1', '--reason', 'charged twice', '--json'], DECEMBER)).json();
    expect(one).toMatchObject({
      event: 'e-1',
      events: 1,
      millicredits: E1,
      departments: [{ department: 'Engineering', millicredits: E1 }],
      drawnFromOrgMillicredits: 0,
    });
    const twice = await run(['usage', 'reverse', 'e-1', '--reason', 'again', '--json'], DECEMBER);
    const missing = await run(['usage', 'reverse', 'no-such-event', '--reason', 'x', '--json'], DECEMBER);
    const [notBatch, both, noReason] = await Promise.all([
      run(['usage', 'reverse', '--import-id', '1', '--reason', 'x', '--json'], DECEMBER),
      run(['usage', 'reverse', 'imp-1', '--import-id', String(batch), '--reason', 'x'], DECEMBER),
      run(['usage', 'reverse', 'imp-1'], DECEMBER),
    ]);
    expect(twice.exitCode).toBe(5);
    expect(JSON.parse(twice.stderr).error).toMatchObject({ code: 'ALREADY_REVERSED' });
    expect(JSON.parse(twice.stderr).error.message).toContain(`transaction ${one.transactionId}`);
    expect([missing.exitCode, JSON.parse(missing.stderr).error.code]).toEqual([4, 'EVENT_NOT_FOUND']);
    expect([notBatch.exitCode, JSON.parse(notBatch.stderr).error.code]).toEqual([4, 'IMPORT_NOT_FOUND']);
    expect(both.exitCode).toBe(2);
    expect(noReason.exitCode).toBe(2);

    // One event of the batch first, then the batch: the rest of it, once.
    await ok(['usage', 'reverse', 'imp-2', '--reason', 'wrong user'], DECEMBER);
    const dry = (await ok(['usage', 'reverse', '--import-id', String(batch), '--reason', 'wrong file', '--dry-run', '--json'], DECEMBER)).json();
    expect(dry).toMatchObject({ dryRun: true, events: 2, alreadyReversed: 1 });
    const whole = (await ok(['usage', 'reverse', '--import-id', String(batch), '--reason', 'wrong file', '--json'], DECEMBER)).json();
    expect(whole).toMatchObject({ event: null, events: 2, alreadyReversed: 1, reversesTransactionId: batch, millicredits: 6000 + 3929 });
    expect(whole.departments).toEqual([
      { department: 'Engineering', millicredits: 6000 },
      { department: 'Marketing', millicredits: 3929 },
    ]);
    const again = await run(['usage', 'reverse', '--import-id', String(batch), '--reason', 'wrong file', '--json'], DECEMBER);
    expect(again.exitCode).toBe(5);
    expect(JSON.parse(again.stderr).error.code).toBe('ALREADY_REVERSED');

    // Each reversal is a transaction of its own that refers to the batch; the events say so too.
    const [historyRun, showRun, listRun, engineering, marketing] = await Promise.all([
      ok(['history', '--kind', 'reversal', '--json'], DECEMBER),
      ok(['usage', 'show', 'e-1'], DECEMBER),
      ok(['usage', 'list', '--json'], DECEMBER),
      balance('Engineering', DECEMBER),
      balance('Marketing', DECEMBER),
    ]);
    expect(engineering).toBe(before.Engineering + E1 + IMPORT.Engineering);
    expect(marketing).toBe(before.Marketing + IMPORT.Marketing);
    const history = historyRun.json<{ transactions: { memo: string; reversesTransactionId: number }[] }>();
    expect(history.transactions.map((row) => [row.memo, row.reversesTransactionId])).toEqual([
      ['wrong file', batch],
      ['wrong user', batch],
      ['charged twice', listed.find((item) => item.eventId === 'e-1')!.transactionId],
    ]);
    const show = showRun.stdout;
    expect(show.split('\n')[0]).toBe('Chat with GPT-4o (05.11.2026, 10:00)');
    expect(show).toContain(`(reversed by transaction ${one.transactionId} on 03.12.2026, 11:00 by `);
    expect(show).toContain(': charged twice)');
    const reversed = listRun.json<{ events: { reversedByTransactionId: number | null }[] }>().events;
    expect(reversed.every((item) => item.reversedByTransactionId !== null)).toBe(true);
    await verified(DECEMBER);
  });

  it('shows reversals in the month they are booked: reports and statements, which still foot', async () => {
    const after = '2027-01-02T08:00:00Z';
    const [november, december, marketing, csvRun, textRun, reportRun, novemberRun, marketingRun] = await Promise.all([
      statement('2026-11', after),
      statement('2026-12', after),
      statement('2026-12', after, 'Marketing'),
      ok(['statement', '--month', '2026-12', '--format', 'csv', '--output', '-'], after),
      ok(['statement', '--month', '2026-12'], after),
      ok(['report', '--by', 'user', '--month', '2026-12', '--json'], after),
      ok(['report', '--by', 'user', '--month', '2026-11', '--json'], after),
      ok(['report', '--by', 'dept', '--dept', 'Marketing', '--month', '2026-12', '--format', 'csv'], after),
    ]);
    expect(november).toMatchObject({ reversalsMillicredits: 0, usageMillicredits: E1 + IMPORT.Engineering + IMPORT.Marketing, usageEvents: 4 });
    expect(december).toMatchObject({ usageMillicredits: 0, reversalsMillicredits: E1 + IMPORT.Engineering + IMPORT.Marketing, reversalEvents: 4 });
    expect(december.openingMillicredits).toBe(november.closingMillicredits);
    expectFoots(november);
    expectFoots(december);
    expect(marketing).toMatchObject({ reversalsMillicredits: IMPORT.Marketing, reversalEvents: 2 });
    expectFoots(marketing);
    const csv = csvRun.stdout;
    expect(csv).toContain('2026-12,organisation,reversal,usage reversed,,,4,29.929,');
    expectCsvFoots(csv);
    expect(textRun.stdout).toMatch(/\+ Reversals {7}29\.929 credits \(€0\.\d\d\) of 4 events/);

    const report = reportRun.json();
    expect(report.totals.millicredits).toBe(0);
    expect(report.reversals).toMatchObject({ events: 4, millicredits: 29_929 });
    expect(report.net).toEqual({ millicredits: -29_929, credits: -29.929, valueCents: -30 });
    expect(report.totals.valueCents - report.reversals.valueCents).toBe(report.net.valueCents);
    const novemberReport = novemberRun.json();
    expect(novemberReport.totals.millicredits).toBe(29_929);
    expect(novemberReport.reversals).toBeUndefined();
    const marketingCsv = marketingRun.stdout;
    expect(marketingCsv.trim().split('\n').at(-1)).toBe('reversals,,-2,-15.929,-0.16,');
  });

  it('gives back what an overdraft drew to org, and frees no room under a limit', async () => {
    const day = '2026-12-10T10:00:00Z';
    await ok(['dept', 'set', 'Marketing', '--overdraft-from', 'org', '--overdraft-max', '100'], day);
    const marketing = await balance('Marketing', day);
    const down = marketing - 1000;
    await ok(['adjust', 'Marketing', `-${Math.floor(down / 1000)}.${String(down % 1000).padStart(3, '0')}`, '--reason', 'leave one credit'], day);
    await ok(['limits', 'set', '--user', 'don@example.com', '--daily', '9'], day);
    // 8.0 credits with 1.0 in the department: 7.0 drawn from org.
    const record = [
      'usage',
      'record',
      '--user',
      'don@example.com',
      '--model',
      'gpt-4o',
      '--input-tokens',
      '523',
      '--output-tokens',
      '1247',
      '--tool-calls',
      '2',
    ];
    await ok([...record, '--event-id', 'od-1'], day);
    const org = await balance('org', day);
    const back = (await ok(['usage', 'reverse', 'od-1', '--reason', 'test call', '--json'], day)).json();
    expect(back).toMatchObject({ millicredits: 8000, departments: [{ department: 'Marketing', millicredits: 1000 }], drawnFromOrgMillicredits: 7000 });
    expect(await balance('org', day)).toBe(org + 7000);
    expect(await balance('Marketing', day)).toBe(1000);
    // The limit counts what was used that day: the reversal gives credits back, not room.
    const refused = await run([...record, '--event-id', 'od-2', '--json'], day);
    expect(refused.exitCode).toBe(3);
    expect(JSON.parse(refused.stderr).error.code).toBe('LIMIT_EXCEEDED');
    expectFoots(await statement('2026-12', '2027-01-02T08:00:00Z', 'Marketing'));
    await verified(day);
  });
});
