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
  const ok = (args: string[], now = NOVEMBER): Promise<RunResult> => ledger.ok(args, at(now));
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
  });

  afterAll(async () => {
    await ledger?.close();
  });

  it('adjusts an account up and down with a reason, and refuses what would take it below zero', async () => {
    const up = (await ok(['adjust', 'Engineering', '250', '--reason', 'credit note 114', '--json'])).json();
    expect(up).toMatchObject({ account: 'Engineering', millicredits: 250_000, reason: 'credit note 114', balanceMillicredits: 3_250_000 });
    const down = (await ok(['adjust', 'marketing', '-50.5', '--reason', 'double booking', '--json'])).json();
    expect(down).toMatchObject({ account: 'Marketing', millicredits: -50_500, balanceMillicredits: 1_949_500 });
    expect((await ok(['adjust', 'org', '-1', '--reason', 'bank fee'])).stdout).toContain('Adjusted org -1.0 credits');

    const refused = await run(['adjust', 'Marketing', '-1949.501', '--reason', 'too much', '--json']);
    expect(refused.exitCode).toBe(3);
    expect(JSON.parse(refused.stderr).error.code).toBe('INSUFFICIENT_CREDITS');
    const noReason = await run(['adjust', 'Marketing', '5', '--json']);
    expect(noReason.exitCode).toBe(2);
    expect(JSON.parse(noReason.stderr).error).toMatchObject({ code: 'MISSING_FLAG' });
    expect((await run(['adjust', 'Marketing', '0', '--reason', 'nothing'])).exitCode).toBe(2);
    expect((await run(['adjust', 'Nowhere', '5', '--reason', 'who'])).exitCode).toBe(4);
    const dry = (await ok(['adjust', 'Marketing', '-1949.5', '--reason', 'all of it', '--dry-run', '--json'])).json();
    expect(dry).toMatchObject({ dryRun: true, balanceMillicredits: 0 });
    expect(await balance('Marketing')).toBe(1_949_500);

    // Chained and audited like every transaction.
    const history = (await ok(['history', '--kind', 'adjustment', '--json'])).json<{ transactions: { memo: string; kind: string }[] }>();
    expect(history.transactions.map((row) => row.memo)).toEqual(['bank fee', 'double booking', 'credit note 114']);
    const audit = (await ok(['audit', '--json'])).json<{ entries: { command: string; args: { reason?: string } }[] }>();
    expect(audit.entries.filter((row) => row.command === 'adjust').map((row) => row.args.reason)).toEqual(['bank fee', 'double booking', 'credit note 114']);
    await verified();
  });

  it('shows each adjustment on its own line of the statement, which still foots', async () => {
    const month = await statement('2026-11', '2026-12-01T08:00:00Z');
    expect(month.adjustments.map((row) => [row.reason, row.millicredits])).toEqual([
      ['credit note 114', 250_000],
      ['double booking', -50_500],
      ['bank fee', -1_000],
    ]);
    expect(month.adjustmentsMillicredits).toBe(198_500);
    expect(month.reversalsMillicredits).toBe(0);
    expectFoots(month);
    const engineering = await statement('2026-11', '2026-12-01T08:00:00Z', 'Engineering');
    expect(engineering.adjustments.map((row) => row.reason)).toEqual(['credit note 114']);
    expectFoots(engineering);
    const csv = (await ok(['statement', '--month', '2026-11', '--format', 'csv', '--output', '-'], '2026-12-01T08:00:00Z')).stdout;
    expect(csv).toContain('2026-11,organisation,adjustment,double booking,,2026-11-10,,-50.500,');
    expectCsvFoots(csv);
    const text = (await ok(['statement', '--month', '2026-11'], '2026-12-01T08:00:00Z')).stdout;
    expect(text).toContain('± Adjustment      +250.0 credits (€2.50) on 2026-11-10: credit note 114');
  });
});
