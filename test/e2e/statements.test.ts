import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, freshLedger, type BalanceJson, type Ledger } from '../helpers/cli.js';
import { berlinDay, importUsage, priceOf, seeded, type UsageEvent } from '../helpers/readBack.js';

/**
 * Monthly statements of a ledger built over three months (and one transfer in a fourth) by pseudo-random operations: purchases
 * (card, SEPA settled later, SEPA cancelled, for the org pool and for departments), transfers
 * between every pair of accounts, and usage imports. The statement cuts months by the time a
 * transaction was posted, so every operation runs with CREDITS_NOW pinned to its day, in order.
 * The test keeps its own books of what it posted and compares every figure.
 */

type Account = 'org' | 'Engineering' | 'Marketing';
const DEPARTMENTS: Record<string, string> = { Engineering: 'CC-100', Marketing: 'CC-200' };
const USERS = [
  { email: 'ada@example.com', dept: 'Engineering' },
  { email: 'grace@example.com', dept: 'Engineering' },
  { email: 'don@example.com', dept: 'Marketing' },
];
const PACKAGES: Record<string, { millicredits: number; priceCents: number }> = {
  basic: { millicredits: 1_000_000, priceCents: 1_000 },
  standard: { millicredits: 5_000_000, priceCents: 4_750 },
  professional: { millicredits: 10_000_000, priceCents: 9_500 },
};
const MONTHS = ['2026-01', '2026-02', '2026-03', '2026-04'];

type Purchase = { dayKey: string; reference: string; description: string; method: string; millicredits: number; priceCents: number; account: Account };
type Transfer = { dayKey: string; from: Account; to: Account; memo: string; millicredits: number };
type Usage = { event: UsageEvent; dept: string; millicredits: number };
type Month = { purchases: Purchase[]; transfers: Transfer[]; usage: Usage[] };

/** What the test posted, by the Berlin month of posting. */
class Books {
  readonly balance: Record<Account, number> = { org: 0, Engineering: 0, Marketing: 0 };
  readonly months = new Map<string, Month>();
  month(now: string): Month {
    const key = berlinDay(now).slice(0, 7);
    let month = this.months.get(key);
    if (!month) {
      month = { purchases: [], transfers: [], usage: [] };
      this.months.set(key, month);
    }
    return month;
  }
}

const credits = (millicredits: number): string => `${Math.floor(millicredits / 1000)}.${String(millicredits % 1000).padStart(3, '0')}0`;
const title = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);

type StatementJson = {
  organisation: string;
  monthKey: string;
  department: { name: string; costCenter: string | null } | null;
  openingMillicredits: number;
  purchases: { dayKey: string; reference: string; description: string; method: string; millicredits: number; priceCents: number }[];
  transfers: { dayKey: string; direction: 'in' | 'out'; counterparty: string; memo: string; millicredits: number }[];
  usageMillicredits: number;
  usageEvents: number;
  adjustmentsMillicredits: number;
  closingMillicredits: number;
  usageByDepartment: { label: string; costCenter: string | null; events: number; millicredits: number }[];
  usageByUser: { label: string; department: string; events: number; millicredits: number }[];
  usageByModel: { label: string; events: number; millicredits: number }[];
  usageByFeature: { label: string; events: number; millicredits: number }[];
};

function groupUsage(usage: Usage[], keyOf: (usage: Usage) => string): Map<string, { events: number; millicredits: number }> {
  const groups = new Map<string, { events: number; millicredits: number }>();
  for (const row of usage) {
    const group = groups.get(keyOf(row)) ?? { events: 0, millicredits: 0 };
    group.events += 1;
    group.millicredits += row.millicredits;
    groups.set(keyOf(row), group);
  }
  return groups;
}

/** The rows without their euro figures (footed: see footing.test.ts), to compare with the books' credits. */
const credited = <T extends object>(rows: T[]): Omit<T, 'cents' | 'discountCents'>[] =>
  rows.map((row) => {
    const { cents: _cents, discountCents: _discountCents, ...rest } = row as T & { cents?: number; discountCents?: number };
    return rest;
  });
const byLabel = <T extends { label: string }>(rows: T[]): Omit<T, 'cents' | 'discountCents'>[] =>
  credited([...rows].sort((a, b) => (a.label < b.label ? -1 : 1)));

describe(`statements over four months on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  const books = new Books();
  const statements = new Map<string, StatementJson>();
  const lateEvent: UsageEvent = {
    eventId: 'late-1',
    user: 'don@example.com',
    model: 'claude-3.5-sonnet',
    inputTokens: 3000,
    outputTokens: 2000,
    feature: 'analyze',
    at: '2026-02-27T16:00:00Z',
  };

  const at = (now: string) => ({ env: { CREDITS_NOW: now } });
  let sepaId = 0;
  let cancelled = 0;

  async function buy(now: string, pkg: string, method: 'card' | 'sepa', account: Account): Promise<number> {
    const args = ['buy', pkg, '--method', method, ...(account === 'org' ? [] : ['--for', account]), '--json'];
    const result = (await ledger.ok(args, at(now))).json();
    if (method === 'card') record(now, result.purchaseId, pkg, method, account);
    return result.purchaseId;
  }
  function record(now: string, purchaseId: number, pkg: string, method: string, account: Account): void {
    const { millicredits, priceCents } = PACKAGES[pkg]!;
    books
      .month(now)
      .purchases.push({ dayKey: berlinDay(now), reference: `#${purchaseId}`, description: title(pkg), method, millicredits, priceCents, account });
    books.balance[account] += millicredits;
  }
  async function transfer(now: string, from: Account, to: Account, millicredits: number, memo: string): Promise<void> {
    await ledger.ok(['transfer', credits(millicredits), '--from', from, '--to', to, '--reason', memo], at(now));
    books.month(now).transfers.push({ dayKey: berlinDay(now), from, to, memo, millicredits });
    books.balance[from] -= millicredits;
    books.balance[to] += millicredits;
  }
  async function usage(now: string, events: UsageEvent[]): Promise<void> {
    await importUsage(ledger, events, { CREDITS_NOW: now });
    for (const event of events) {
      const dept = USERS.find((user) => user.email === event.user)!.dept;
      const millicredits = priceOf(event);
      books.month(now).usage.push({ event, dept, millicredits });
      books.balance[dept as Account] -= millicredits;
    }
  }

  // About 30 CLI calls in order; under load a remote run can pass the default hook timeout.
  beforeAll(async () => {
    ledger = await freshLedger();
    const setup = at('2026-01-05T09:00:00Z');
    await ledger.ok(['init', '--org', 'Statement GmbH'], setup);
    for (const [name, costCentre] of Object.entries(DEPARTMENTS)) await ledger.ok(['dept', 'add', name, '--cost-center', costCentre], setup);
    for (const user of USERS) await ledger.ok(['user', 'add', user.email, '--dept', user.dept], setup);

    const next = seeded(20260105);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
    const share = (account: Account, low: number, high: number): number => Math.floor(books.balance[account] * (low + next() * (high - low)));
    const events = (month: string, count: number, lastDay: number): UsageEvent[] =>
      Array.from({ length: count }, (_, index) => {
        const day = 1 + Math.floor(next() * lastDay);
        return {
          eventId: `${month}-${index}`,
          user: pick(USERS).email,
          model: pick(['gpt-4o', 'gpt-4o-mini', 'claude-3-haiku', 'claude-3.5-sonnet']),
          inputTokens: Math.floor(next() * 4000),
          outputTokens: Math.floor(next() * 2000),
          toolCalls: Math.floor(next() * 3),
          feature: pick(['chat', 'summarize', 'translate', 'analyze']),
          at: `${month}-${String(day).padStart(2, '0')}T${String(6 + Math.floor(next() * 12)).padStart(2, '0')}:${String(Math.floor(next() * 60)).padStart(2, '0')}:00Z`,
        };
      });
    const pairs: [Account, Account][] = [
      ['Engineering', 'Marketing'],
      ['Marketing', 'Engineering'],
      ['Engineering', 'org'],
      ['Marketing', 'org'],
      ['org', 'Marketing'],
    ];

    for (const [index, month] of MONTHS.entries()) {
      if (month === '2026-04') {
        // April holds one transfer only: the one posted at 00:30 on 1 April in Berlin (CEST),
        // which is still 31 March in UTC.
        await transfer('2026-03-31T22:30:00Z', 'Engineering', 'Marketing', share('Engineering', 0.1, 0.2), 'just after midnight');
        continue;
      }
      if (index === 0) await buy(`${month}-06T10:00:00Z`, 'professional', 'card', 'org');
      else await buy(`${month}-06T10:00:00Z`, pick(['basic', 'standard']), 'card', pick(['org', 'Engineering', 'Marketing'] as const));
      await transfer(`${month}-08T10:00:00Z`, 'org', 'Engineering', share('org', 0.15, 0.3), `budget ${month}`);
      const [from, to] = index === 0 ? (['org', 'Marketing'] as [Account, Account]) : pick(pairs);
      await transfer(`${month}-09T10:00:00Z`, from, to, share(from, 0.05, 0.3), `rebalance ${month}`);
      if (month === '2026-02') sepaId = await buy('2026-02-10T10:00:00Z', 'standard', 'sepa', 'org');
      if (month === '2026-03') {
        // The February SEPA purchase is settled in March: it is March's purchase.
        await ledger.ok(['purchases', 'settle', String(sepaId)], at('2026-03-02T08:00:00Z'));
        record('2026-03-02T08:00:00Z', sepaId, 'standard', 'sepa', 'org');
        cancelled = await buy('2026-03-03T08:00:00Z', 'basic', 'sepa', 'Engineering');
        await ledger.ok(['purchases', 'cancel', String(cancelled)], at('2026-03-04T08:00:00Z'));
      }
      await usage(`${month}-20T12:00:00Z`, [...events(month, 14, 19), ...(month === '2026-03' ? [lateEvent] : [])]);
      if (month === '2026-01') {
        // 23:59 in Berlin on 31 January: still January.
        await buy('2026-01-31T22:59:00Z', 'basic', 'card', 'Marketing');
      }
    }

    for (const month of MONTHS) {
      const [org, engineering, marketing] = await Promise.all(
        [[], ['--dept', 'Engineering'], ['--dept', 'Marketing']].map(async (scope) =>
          (await ledger.ok(['statement', '--month', month, ...scope, '--json'], at('2026-05-02T06:00:00Z'))).json<StatementJson>(),
        ),
      );
      statements.set(`${month}|org`, org!);
      statements.set(`${month}|Engineering`, engineering!);
      statements.set(`${month}|Marketing`, marketing!);
    }
  }, 150_000);
  afterAll(async () => {
    await ledger.close();
  });

  const scopes = ['org', 'Engineering', 'Marketing'] as const;
  const cases = MONTHS.flatMap((month) => scopes.map((scope) => [month, scope] as const));

  it.each(cases)('%s, %s: opening + purchases + transfers in - transfers out - usage = closing', (month, scope) => {
    const statement = statements.get(`${month}|${scope}`)!;
    const purchased = statement.purchases.reduce((sum, row) => sum + row.millicredits, 0);
    const moved = statement.transfers.reduce((sum, row) => sum + (row.direction === 'in' ? row.millicredits : -row.millicredits), 0);
    expect(statement.adjustmentsMillicredits).toBe(0);
    expect(statement.openingMillicredits + purchased + moved - statement.usageMillicredits).toBe(statement.closingMillicredits);
    // This month opens where the last one closed.
    const previous = MONTHS[MONTHS.indexOf(month) - 1];
    expect(statement.openingMillicredits).toBe(previous === undefined ? 0 : statements.get(`${previous}|${scope}`)!.closingMillicredits);
  });

  it.each(cases)('%s, %s: every purchase, transfer and usage figure is what was posted that month', (month, scope) => {
    const statement = statements.get(`${month}|${scope}`)!;
    const books_ = books.months.get(month) ?? { purchases: [], transfers: [], usage: [] };
    const inScope = (account: Account): boolean => scope === 'org' || account === scope;
    expect(statement.monthKey).toBe(month);
    expect(statement.department).toEqual(scope === 'org' ? null : { name: scope, costCenter: DEPARTMENTS[scope] });
    expect(credited(statement.purchases)).toEqual(books_.purchases.filter((row) => inScope(row.account)).map(({ account: _account, ...row }) => row));
    // An org-wide statement has no transfers: they move credits inside the organisation.
    const transfers = books_.transfers
      .filter((row) => inScope(row.from) !== inScope(row.to))
      .map((row) => ({
        dayKey: row.dayKey,
        direction: inScope(row.to) ? 'in' : 'out',
        counterparty: inScope(row.to) ? row.from : row.to,
        memo: row.memo,
        millicredits: row.millicredits,
      }));
    expect(credited(statement.transfers)).toEqual(transfers);
    if (scope === 'org') expect(statement.transfers).toEqual([]);
    const usage = books_.usage.filter((row) => inScope(row.dept as Account));
    expect(statement.usageMillicredits).toBe(usage.reduce((sum, row) => sum + row.millicredits, 0));
    expect(statement.usageEvents).toBe(usage.length);
    if (month !== '2026-04') expect(statement.usageMillicredits).toBeGreaterThan(0);
    const rows = (groups: Map<string, { events: number; millicredits: number }>) => [...groups.entries()].map(([label, group]) => ({ label, ...group }));
    expect(byLabel(statement.usageByDepartment)).toEqual(
      byLabel(rows(groupUsage(usage, (row) => row.dept)).map((row) => ({ ...row, costCenter: DEPARTMENTS[row.label] }))),
    );
    expect(byLabel(statement.usageByUser)).toEqual(
      byLabel(rows(groupUsage(usage, (row) => row.event.user)).map((row) => ({ ...row, department: USERS.find((user) => user.email === row.label)!.dept }))),
    );
    expect(byLabel(statement.usageByModel)).toEqual(byLabel(rows(groupUsage(usage, (row) => row.event.model))));
    expect(byLabel(statement.usageByFeature)).toEqual(byLabel(rows(groupUsage(usage, (row) => row.event.feature!))));
    for (const list of [statement.usageByDepartment, statement.usageByUser, statement.usageByModel, statement.usageByFeature]) {
      const amounts = list.map((row) => row.millicredits);
      expect(amounts).toEqual([...amounts].sort((a, b) => b - a));
      expect(amounts.reduce((sum, amount) => sum + amount, 0)).toBe(statement.usageMillicredits);
    }
  });

  it('closes the last month at the balances the ledger holds now', async () => {
    const { accounts } = (await ledger.ok(['balance', '--json'])).json<BalanceJson>();
    const balance = (name: string): number => accounts.find((row) => row.account === name)!.millicredits;
    expect(balance('org')).toBe(books.balance.org);
    expect(statements.get('2026-04|Engineering')!.closingMillicredits).toBe(balance('Engineering'));
    expect(statements.get('2026-04|Marketing')!.closingMillicredits).toBe(balance('Marketing'));
    expect(statements.get('2026-04|org')!.closingMillicredits).toBe(balance('org') + balance('Engineering') + balance('Marketing'));
  });

  it('puts a purchase at 23:59 on 31 January in January and a transfer at 00:30 on 1 April in April', () => {
    expect(statements.get('2026-01|Marketing')!.purchases.map((row) => row.dayKey)).toContain('2026-01-31');
    const april = statements.get('2026-04|Marketing')!.transfers.find((row) => row.memo === 'just after midnight');
    expect(april).toMatchObject({ dayKey: '2026-04-01', direction: 'in', counterparty: 'Engineering' });
    expect(statements.get('2026-03|Marketing')!.transfers.some((row) => row.memo === 'just after midnight')).toBe(false);
  });

  it('lists a SEPA purchase when it is settled, and a cancelled one never', () => {
    expect(statements.get('2026-02|org')!.purchases.some((row) => row.method === 'sepa')).toBe(false);
    expect(statements.get('2026-03|org')!.purchases).toContainEqual({
      dayKey: '2026-03-02',
      reference: `#${sepaId}`,
      description: 'Standard',
      method: 'sepa',
      millicredits: 5_000_000,
      priceCents: 4_750,
      discountCents: 250,
    });
    // The other SEPA purchase, for Engineering on 3 March, was cancelled the next day.
    const all = [...statements.values()].flatMap((statement) => statement.purchases);
    expect(all.filter((row) => row.method === 'sepa').map((row) => row.reference)).toEqual([`#${sepaId}`]);
    expect(cancelled).toBeGreaterThan(sepaId);
    expect(all.some((row) => row.reference === `#${cancelled}`)).toBe(false);
  });

  it('shows late usage in the month it was posted, while report shows the day it happened', async () => {
    const cost = priceOf(lateEvent);
    const february = statements.get('2026-02|Marketing')!;
    const march = statements.get('2026-03|Marketing')!;
    expect(march.usageByUser.find((row) => row.label === 'don@example.com')!.millicredits).toBe(
      books.months
        .get('2026-03')!
        .usage.filter((row) => row.event.user === 'don@example.com')
        .reduce((sum, row) => sum + row.millicredits, 0),
    );
    const report = (await ledger.ok(['report', '--by', 'dept', '--month', '2026-02', '--json'])).json();
    const reported = report.rows.find((row: { key: string }) => row.key === 'Marketing').millicredits;
    expect(reported).toBe(february.usageMillicredits + cost);
  });

  it('defaults to last month, shows a quiet month as opening = closing, and refuses bad input', async () => {
    const june = (await ledger.ok(['statement', '--json'], at('2026-06-01T08:00:00Z'))).json<StatementJson>();
    expect(june.monthKey).toBe('2026-05');
    expect(june).toMatchObject({ purchases: [], transfers: [], usageMillicredits: 0, usageEvents: 0, usageByDepartment: [] });
    expect(june.openingMillicredits).toBe(statements.get('2026-04|org')!.closingMillicredits);
    expect(june.closingMillicredits).toBe(june.openingMillicredits);
    const [missing, month, pdf] = await Promise.all([
      ledger.run(['statement', '--month', '2026-03', '--dept', 'Nowhere', '--json']),
      ledger.run(['statement', '--month', '2026-3', '--json']),
      ledger.run(['statement', '--month', '2026-03', '--format', 'pdf', '--json']),
    ]);
    expect([missing.exitCode, JSON.parse(missing.stderr).error.code]).toEqual([4, 'DEPARTMENT_NOT_FOUND']);
    expect([month.exitCode, JSON.parse(month.stderr).error.code]).toEqual([2, 'INVALID_DATE']);
    expect([pdf.exitCode, JSON.parse(pdf.stderr).error.code]).toEqual([2, 'MISSING_FLAG']);
  });
});
