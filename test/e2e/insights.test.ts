import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, freshLedger, type Ledger } from '../helpers/cli.js';
import { addDays, dayRange, importUsage, seeded, type UsageEvent } from '../helpers/readBack.js';

/**
 * forecast and anomalies on three weeks of usage posted with --at, the clock pinned to
 * Wednesday 10 June 2026, 14:00 in Berlin. llama-3.1-groq costs 0.05 credits per tool call, so
 * every day's spend is exact:
 *  - ada (Engineering) spends 190 credits every day from 20 May to 9 June; Engineering started
 *    with 5,000 credits, so 1,010 are left: four days at this pace, it runs out on 15 June;
 *  - don (Marketing) spends about 10 credits a day, and 100 credits on 8 June (10x);
 *  - peggy (Marketing) spends 4-6 credits a day, irregularly but never far off;
 *  - newbie (Marketing) first uses AI on 9 June, 75 credits at once;
 *  - Marketing started with 10,000 credits: plenty.
 */

const NOW = '2026-06-10T12:00:00Z';
const FIRST_DAY = '2026-05-20';
const DAYS = dayRange(FIRST_DAY, '2026-06-09');
const SPIKE_DAY = '2026-06-08';
const DON_CALLS = [190, 200, 210, 195, 205, 200, 200];

function usage(): UsageEvent[] {
  const next = seeded(610);
  const events: UsageEvent[] = [];
  DAYS.forEach((day, index) => {
    const at = (hour: number) => `${day}T${String(hour).padStart(2, '0')}:00:00Z`;
    events.push({ eventId: `ada-${day}`, user: 'ada@example.com', model: 'llama-3.1-groq', toolCalls: 3800, at: at(9) });
    events.push({
      eventId: `don-${day}`,
      user: 'don@example.com',
      model: 'llama-3.1-groq',
      toolCalls: day === SPIKE_DAY ? 2000 : DON_CALLS[index % 7]!,
      at: at(10),
    });
    events.push({ eventId: `peggy-${day}`, user: 'peggy@example.com', model: 'llama-3.1-groq', toolCalls: 80 + Math.floor(next() * 41), at: at(11) });
  });
  events.push({ eventId: 'newbie-1', user: 'newbie@example.com', model: 'llama-3.1-groq', toolCalls: 1500, at: '2026-06-09T13:00:00Z' });
  return events;
}

type Forecast = {
  monthKey: string;
  todayKey: string;
  method: string;
  historyDays: number;
  weekdayFactors: number[];
  dailyLevelMillicredits: number;
  trendMillicreditsPerDay: number;
  actualToDateMillicredits: number;
  projectedRemainingMillicredits: number;
  projectedMonthTotalMillicredits: number;
  projectedBalanceAtMonthEndMillicredits: number;
  depletionDayKey: string | null;
  inflowMillicredits: number;
  scope: string;
  balanceMillicredits: number;
  pending: { purchaseId: number; method: string; dayKey: string; millicredits: number }[];
  accuracy: { months: unknown[]; meanAbsolutePercentError: number | null; judgedMonthCount: number };
  days: {
    dayKey: string;
    actualMillicredits: number | null;
    projectedMillicredits: number | null;
    projectedBalanceMillicredits: number | null;
    inflowMillicredits: number;
  }[];
};

type Anomaly = {
  subject: { kind: 'user' | 'department'; name: string; department?: string };
  dayKey: string;
  millicredits: number;
  baselineMillicredits: number;
  baselineDays: number;
  timesBaseline: number;
  score: number;
  judgedAgainst: 'own' | 'department';
};

describe(`forecast and anomalies on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  const at = (now: string) => ({ env: { CREDITS_NOW: now } });
  const forecast = async (args: string[] = []): Promise<Forecast> => (await ledger.ok(['forecast', ...args, '--json'], at(NOW))).json<Forecast>();

  beforeAll(async () => {
    ledger = await freshLedger();
    const start = at(`${FIRST_DAY}T05:00:00Z`);
    await ledger.ok(['init', '--org', 'Forecast GmbH'], start);
    await ledger.ok(['dept', 'add', 'Engineering'], start);
    await ledger.ok(['dept', 'add', 'Marketing'], start);
    await ledger.ok(['user', 'add', 'ada@example.com', '--dept', 'Engineering'], start);
    for (const user of ['don', 'peggy', 'newbie']) await ledger.ok(['user', 'add', `${user}@example.com`, '--dept', 'Marketing'], start);
    await ledger.ok(['buy', 'standard', '--method', 'card', '--for', 'Engineering'], start);
    await ledger.ok(['buy', 'professional', '--method', 'card', '--for', 'Marketing'], start);
    await importUsage(ledger, usage(), { CREDITS_NOW: NOW });
  }, 120_000);
  afterAll(async () => {
    await ledger.close();
  });

  it('forecast --json: the month from the 1st to the 30th, actuals before today, projections from today', async () => {
    const result = await forecast(['--dept', 'Engineering']);
    expect(result).toMatchObject({
      monthKey: '2026-06',
      todayKey: '2026-06-10',
      scope: 'Engineering',
      balanceMillicredits: 1_010_000,
      pending: [],
      inflowMillicredits: 0,
    });
    for (const field of [
      'method',
      'historyDays',
      'weekdayFactors',
      'dailyLevelMillicredits',
      'trendMillicreditsPerDay',
      'projectedRemainingMillicredits',
      'projectedMonthTotalMillicredits',
      'projectedBalanceAtMonthEndMillicredits',
      'depletionDayKey',
      'accuracy',
    ]) {
      expect(result).toHaveProperty(field);
    }
    expect(result.historyDays).toBe(DAYS.length);
    expect(result.weekdayFactors).toHaveLength(7);
    expect(result.accuracy).toMatchObject({ months: [], meanAbsolutePercentError: null, judgedMonthCount: 0 }); // no complete month since 20 May
    expect(result.days.map((day) => day.dayKey)).toEqual(dayRange('2026-06-01', '2026-06-30'));
    expect(result.days.slice(0, 9).map((day) => day.actualMillicredits)).toEqual(Array(9).fill(190_000));
    expect(result.actualToDateMillicredits).toBe(9 * 190_000);
    expect(result.days.slice(10).every((day) => day.actualMillicredits === null && day.projectedMillicredits !== null)).toBe(true);
    expect(result.projectedMonthTotalMillicredits).toBe(result.actualToDateMillicredits + result.projectedRemainingMillicredits);
    expect(result.projectedBalanceAtMonthEndMillicredits).toBe(result.balanceMillicredits - result.projectedRemainingMillicredits);
  });

  it('projects steady usage of 190 credits a day at 190 credits a day', async () => {
    const result = await forecast(['--dept', 'Engineering']);
    expect(result.dailyLevelMillicredits / 190_000).toBeCloseTo(1, 2);
    for (const day of result.days.slice(9))
      expect({ day: day.dayKey, ratio: Math.round((day.projectedMillicredits! / 190_000) * 100) / 100 }).toEqual({ day: day.dayKey, ratio: 1 });
    expect(result.projectedRemainingMillicredits / (21 * 190_000)).toBeCloseTo(1, 2);
  });

  it('names the day credits run out when the balance is small, and "not this month" when it is ample', async () => {
    const [engineering, marketing, organisation] = await Promise.all([
      forecast(['--dept', 'Engineering']),
      forecast(['--dept', 'Marketing']),
      forecast(['--org']),
    ]);
    // 1,010 credits at 190 a day from today: 820, 630, 440, 250, 60 left at the end of 14 June, then none.
    expect(engineering.depletionDayKey).toBe('2026-06-15');
    const first = engineering.days.find((day) => day.projectedBalanceMillicredits !== null && day.projectedBalanceMillicredits <= 0);
    expect(first?.dayKey).toBe('2026-06-15');
    expect(engineering.projectedBalanceAtMonthEndMillicredits).toBeLessThan(0);
    expect(marketing.depletionDayKey).toBeNull();
    expect(marketing.projectedBalanceAtMonthEndMillicredits).toBeGreaterThan(9_000_000);
    expect(organisation).toMatchObject({ scope: 'organisation', depletionDayKey: null });
    expect(organisation.balanceMillicredits).toBe(engineering.balanceMillicredits + marketing.balanceMillicredits);
    const text = await ledger.ok(['forecast', '--dept', 'Marketing'], at(NOW));
    expect(text.stdout).toContain('not this month');
    expect(text.stdout).toContain('█');
  });

  it('counts a pending SEPA purchase in: the month-end balance rises by its credits', async () => {
    const before = await forecast(['--dept', 'Engineering']);
    const purchase = (await ledger.ok(['buy', 'standard', '--method', 'sepa', '--for', 'Engineering', '--json'], at(NOW))).json();
    expect(purchase.status).toBe('pending');
    const after = await forecast(['--dept', 'Engineering']);
    expect(after.balanceMillicredits).toBe(before.balanceMillicredits);
    expect(after.pending).toEqual([{ purchaseId: purchase.purchaseId, method: 'sepa', dayKey: '2026-06-13', millicredits: 5_000_000 }]);
    expect(after.inflowMillicredits).toBe(5_000_000);
    expect(after.projectedBalanceAtMonthEndMillicredits).toBe(before.projectedBalanceAtMonthEndMillicredits + 5_000_000);
    expect(after.days.find((day) => day.dayKey === '2026-06-13')?.inflowMillicredits).toBe(5_000_000);
    // 5,000 more credits on 13 June last past the end of June at 190 a day.
    expect(after.depletionDayKey).toBeNull();
  });

  it('anomalies --json: the planted 10x day, a newcomer judged against the department, and nobody steady', async () => {
    const { sinceKey, anomalies } = (await ledger.ok(['anomalies', '--json'], at(NOW))).json<{ sinceKey: string; anomalies: Anomaly[] }>();
    expect(sinceKey).toBe(addDays('2026-06-10', -7));
    const don = anomalies.find((row) => row.subject.name === 'don@example.com');
    expect(don).toMatchObject({
      subject: { kind: 'user', name: 'don@example.com', department: 'Marketing' },
      dayKey: SPIKE_DAY,
      millicredits: 100_000,
      baselineMillicredits: 10_000,
      judgedAgainst: 'own',
    });
    expect(don!.timesBaseline).toBeGreaterThanOrEqual(9.5);
    expect(don!.timesBaseline).toBeLessThanOrEqual(10.5);
    expect(don!.baselineDays).toBeGreaterThanOrEqual(14);
    expect(anomalies.find((row) => row.subject.name === 'newbie@example.com')).toMatchObject({
      dayKey: '2026-06-09',
      millicredits: 75_000,
      judgedAgainst: 'department',
    });
    const names = new Set(anomalies.map((row) => row.subject.name));
    expect(names.has('ada@example.com')).toBe(false);
    expect(names.has('peggy@example.com')).toBe(false);
    expect(names.has('Engineering')).toBe(false);
    expect(
      anomalies.every((row) =>
        row.subject.kind === 'user' ? ['don@example.com', 'newbie@example.com'].includes(row.subject.name) : row.subject.name === 'Marketing',
      ),
    ).toBe(true);
    const days = anomalies.map((row) => row.dayKey);
    expect(days).toEqual([...days].sort());
  });

  it('finds nothing while usage is steady: the day before the spike', async () => {
    const quiet = (await ledger.ok(['anomalies', '--json'], at('2026-06-07T20:00:00Z'))).json();
    expect(quiet).toEqual({ sinceKey: '2026-05-31', anomalies: [] });
    const text = await ledger.ok(['anomalies'], at('2026-06-07T20:00:00Z'));
    expect(text.stdout).toContain('No unusual spend since 2026-05-31.');
  });
});
