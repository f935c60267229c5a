import { describe, it, expect } from 'vitest';
import { CreditsError } from '../../src/core/errors.js';
import { BACKTEST_CUTOFF_DAY, backtestAccuracy, forecastMonth, type DayAmount } from '../../src/core/forecast.js';
import { addLocalDays, dayBounds, daysInMonth, localMidnightUtc, localParts, monthBounds } from '../../src/core/time.js';

const BERLIN = 'Europe/Berlin';
const HOUR = 3_600_000;

/** Every day from `fromKey` through `toKey`, with the amount `amountOf` gives. */
function series(fromKey: string, toKey: string, amountOf: (dayKey: string, index: number) => number): DayAmount[] {
  const rows: DayAmount[] = [];
  for (let dayKey = fromKey, index = 0; dayKey <= toKey; dayKey = addLocalDays(dayKey, 1), index++)
    rows.push({ dayKey, millicredits: amountOf(dayKey, index) });
  return rows;
}

function weekday(dayKey: string): number {
  return localParts(localMidnightUtc(dayKey, 'UTC'), 'UTC').weekday;
}

const isWeekend = (dayKey: string): boolean => weekday(dayKey) === 0 || weekday(dayKey) === 6;

/** Deterministic noise in [-1, 1): a small LCG, so tests never flake. */
function noise(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 31 - 1;
  };
}

function sumMonth(rows: readonly DayAmount[], monthKey: string): number {
  return rows.filter((row) => row.dayKey.startsWith(`${monthKey}-`)).reduce((sum, row) => sum + row.millicredits, 0);
}

describe('forecastMonth', () => {
  it('projects constant usage exactly, counting the rest of today', () => {
    const history = [...series('2026-03-01', '2026-05-12', () => 1000), { dayKey: '2026-05-13', millicredits: 400 }];
    const forecast = forecastMonth({ history, todayKey: '2026-05-13', balanceMillicredits: 100_000 });

    expect(forecast.method).toBe('weekday-level-trend');
    expect(forecast.historyDays).toBe(56);
    expect(forecast.weekdayFactors).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(forecast.dailyLevelMillicredits).toBe(1000);
    expect(forecast.trendMillicreditsPerDay).toBe(0);
    // Today: 1000 expected, 400 used, 600 to come; then 18 days of 1000.
    expect(forecast.projectedRemainingMillicredits).toBe(600 + 18 * 1000);
    expect(forecast.actualToDateMillicredits).toBe(12 * 1000 + 400);
    expect(forecast.projectedMonthTotalMillicredits).toBe(31 * 1000);
    expect(forecast.projectedBalanceAtMonthEndMillicredits).toBe(100_000 - 18_600);
    expect(forecast.depletionDayKey).toBeNull();

    expect(forecast.days).toHaveLength(31);
    expect(forecast.days[0]).toEqual({
      dayKey: '2026-05-01',
      actualMillicredits: 1000,
      projectedMillicredits: null,
      projectedBalanceMillicredits: null,
      inflowMillicredits: 0,
      rechargeMillicredits: 0,
    });
    expect(forecast.days[12]).toEqual({
      dayKey: '2026-05-13',
      actualMillicredits: 400,
      projectedMillicredits: 600,
      projectedBalanceMillicredits: 99_400,
      inflowMillicredits: 0,
      rechargeMillicredits: 0,
    });
    expect(forecast.days[30]).toMatchObject({
      dayKey: '2026-05-31',
      actualMillicredits: null,
      projectedMillicredits: 1000,
      projectedBalanceMillicredits: 81_400,
    });
  });

  it('never projects a negative rest of today when today is already busier than the model', () => {
    const history = [...series('2026-04-01', '2026-05-12', () => 1000), { dayKey: '2026-05-13', millicredits: 5000 }];
    const forecast = forecastMonth({ history, todayKey: '2026-05-13', balanceMillicredits: 100_000 });
    expect(forecast.days[12]?.projectedMillicredits).toBe(0);
    expect(forecast.projectedMonthTotalMillicredits).toBe(12 * 1000 + 5000 + 18 * 1000);
  });

  it('reproduces a weekday pattern better than a straight line through the month so far', () => {
    const amountOf = (dayKey: string): number => (isWeekend(dayKey) ? 100_000 : 1_000_000);
    const fullMonth = series('2026-05-01', '2026-05-31', amountOf);
    const actualTotal = sumMonth(fullMonth, '2026-05');
    expect(actualTotal).toBe(21 * 1_000_000 + 10 * 100_000);

    const todayKey = '2026-05-11'; // a Monday: 10 days gone, 4 of them weekend days
    const history = series('2026-03-01', addLocalDays(todayKey, -1), amountOf);
    const forecast = forecastMonth({ history, todayKey, balanceMillicredits: 0 });

    const soFar = sumMonth(history, '2026-05');
    const straightLine = Math.round((soFar / 10) * daysInMonth('2026-05'));
    const forecastError = Math.abs(forecast.projectedMonthTotalMillicredits - actualTotal);
    const straightLineError = Math.abs(straightLine - actualTotal);

    expect(forecastError).toBeLessThan(straightLineError);
    expect(forecastError).toBe(0);
    expect(straightLineError).toBeGreaterThan(2_000_000);
    // Saturday's factor is the weekend's share of an average day.
    expect(forecast.weekdayFactors[6]).toBeCloseTo(100_000 / (5_200_000 / 7), 3);
    expect(forecast.days.find((day) => day.dayKey === '2026-05-16')?.projectedMillicredits).toBe(100_000);
    expect(forecast.days.find((day) => day.dayKey === '2026-05-18')?.projectedMillicredits).toBe(1_000_000);
  });

  it('shrugs off a one-day spike and an idle holiday in the history', () => {
    const amountOf = (dayKey: string): number => {
      if (dayKey === '2026-05-05') return 20_000_000; // a one-off batch job
      if (dayKey === '2026-05-01') return 0; // public holiday
      return isWeekend(dayKey) ? 100_000 : 1_000_000;
    };
    const history = series('2026-03-01', '2026-05-10', amountOf);
    const forecast = forecastMonth({ history, todayKey: '2026-05-11', balanceMillicredits: 0 });
    const remainingTruth = series('2026-05-11', '2026-05-31', (dayKey) => (isWeekend(dayKey) ? 100_000 : 1_000_000)).reduce(
      (sum, row) => sum + row.millicredits,
      0,
    );
    expect(Math.abs(forecast.projectedRemainingMillicredits - remainingTruth) / remainingTruth).toBeLessThan(0.05);
  });

  it('follows a rising trend, damped, rather than the month average', () => {
    // +1% a day for 8 weeks: the level at the end is well above the average of the window.
    const history = series('2026-03-16', '2026-05-10', (_dayKey, index) => Math.round(1_000_000 * 1.01 ** index));
    const forecast = forecastMonth({ history, todayKey: '2026-05-11', balanceMillicredits: 0 });
    const lastDay = 1_000_000 * 1.01 ** 55;
    const firstProjected = forecast.days.find((day) => day.dayKey === '2026-05-11')?.projectedMillicredits ?? 0;
    expect(forecast.trendMillicreditsPerDay).toBeGreaterThan(0);
    expect(firstProjected).toBeGreaterThan(lastDay * 0.95);
    // Damped: the projection keeps rising, but more slowly than the history did.
    const lastProjected = forecast.days[30]?.projectedMillicredits ?? 0;
    expect(lastProjected).toBeGreaterThan(firstProjected);
    expect(lastProjected).toBeLessThan(lastDay * 1.01 ** 21);
  });

  it('falls back to the mean of fewer than 7 days, and to zero without history', () => {
    const few = forecastMonth({
      history: series('2026-05-10', '2026-05-12', (_k, i) => [300, 600, 900][i] ?? 0),
      todayKey: '2026-05-13',
      balanceMillicredits: 10_000,
    });
    expect(few.method).toBe('mean');
    expect(few.historyDays).toBe(3);
    expect(few.days.slice(12).every((day) => day.projectedMillicredits === 600)).toBe(true);
    expect(few.projectedRemainingMillicredits).toBe(19 * 600);
    expect(few.actualToDateMillicredits).toBe(1800);

    const none = forecastMonth({ history: [], todayKey: '2026-05-13', balanceMillicredits: 10_000 });
    expect(none.method).toBe('none');
    expect(none.projectedRemainingMillicredits).toBe(0);
    expect(none.projectedMonthTotalMillicredits).toBe(0);
    expect(none.projectedBalanceAtMonthEndMillicredits).toBe(10_000);
    expect(none.depletionDayKey).toBeNull();

    // Only today's partial usage: no complete day, so nothing to project from.
    const todayOnly = forecastMonth({ history: [{ dayKey: '2026-05-13', millicredits: 700 }], todayKey: '2026-05-13', balanceMillicredits: 10_000 });
    expect(todayOnly.method).toBe('none');
    expect(todayOnly.projectedMonthTotalMillicredits).toBe(700);
  });

  it('uses a flat rate from the last whole week under two weeks of history', () => {
    const forecast = forecastMonth({
      history: series('2026-05-01', '2026-05-10', (dayKey) => (isWeekend(dayKey) ? 100 : 1000)),
      todayKey: '2026-05-11',
      balanceMillicredits: 0,
    });
    expect(forecast.method).toBe('mean');
    expect(forecast.historyDays).toBe(10);
    expect(forecast.weekdayFactors).toEqual([1, 1, 1, 1, 1, 1, 1]);
    // 4-10 May: five weekdays and a weekend.
    expect(forecast.projectedRemainingMillicredits).toBe(Math.floor((21 * 5200) / 7 + 0.5));
  });

  it('drops the weekday factors when idle weeks hide the weekly shape', () => {
    const history = series('2026-04-27', '2026-05-10', (dayKey) => (dayKey < '2026-05-04' ? 0 : 2000));
    const forecast = forecastMonth({ history, todayKey: '2026-05-11', balanceMillicredits: 0 });
    expect(forecast.method).toBe('level-trend');
    expect(forecast.weekdayFactors).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(forecast.days[10]?.projectedMillicredits).toBeGreaterThan(1000);
    expect(forecast.days[10]?.projectedMillicredits).toBeLessThan(2000);
  });

  it('rounds fractional projections so the days add up to the total', () => {
    const forecast = forecastMonth({
      history: series('2026-05-10', '2026-05-12', (_k, i) => [1, 2, 2][i] ?? 0),
      todayKey: '2026-05-13',
      balanceMillicredits: 1000,
    });
    const projected = forecast.days.slice(12).map((day) => day.projectedMillicredits ?? 0);
    expect(projected.reduce((sum, value) => sum + value, 0)).toBe(forecast.projectedRemainingMillicredits);
    expect(forecast.projectedRemainingMillicredits).toBe(Math.floor((19 * 5) / 3 + 0.5));
    for (const value of projected) expect(Math.abs(value - 5 / 3)).toBeLessThan(1);
    for (const day of forecast.days) {
      for (const value of [day.actualMillicredits, day.projectedMillicredits, day.projectedBalanceMillicredits])
        if (value !== null) expect(Number.isInteger(value)).toBe(true);
    }
  });

  describe('balance, depletion, inflows and recharges', () => {
    // 1,000 credits a day from a balance of 10,000 credits, forecast made on 10 June before any use.
    const history = series('2026-05-01', '2026-06-09', () => 1_000_000);
    const base = { history, todayKey: '2026-06-10', balanceMillicredits: 10_000_000 };

    it('finds the first day the balance reaches zero', () => {
      const forecast = forecastMonth(base);
      // End of the 10th: 9,000 credits; ten days of use take it to zero at the end of the 19th.
      expect(forecast.depletionDayKey).toBe('2026-06-19');
      expect(forecast.days.find((day) => day.dayKey === '2026-06-19')?.projectedBalanceMillicredits).toBe(0);
      expect(forecast.days.find((day) => day.dayKey === '2026-06-18')?.projectedBalanceMillicredits).toBe(1_000_000);
      // Usage would be paused at zero; the negative end balance is the shortfall.
      expect(forecast.projectedBalanceAtMonthEndMillicredits).toBe(10_000_000 - 21 * 1_000_000);
    });

    it('reports no depletion when the balance lasts the month', () => {
      expect(forecastMonth({ ...base, balanceMillicredits: 21_000_001 }).depletionDayKey).toBeNull();
      expect(forecastMonth({ ...base, balanceMillicredits: 21_000_000 }).depletionDayKey).toBe('2026-06-30');
    });

    it('moves depletion later by a pending inflow, counts an overdue one today, ignores next month', () => {
      const pending = forecastMonth({ ...base, pendingInflows: [{ dayKey: '2026-06-12', millicredits: 5_000_000 }] });
      expect(pending.depletionDayKey).toBe('2026-06-24');
      expect(pending.inflowMillicredits).toBe(5_000_000);
      expect(pending.days.find((day) => day.dayKey === '2026-06-12')?.inflowMillicredits).toBe(5_000_000);

      const overdue = forecastMonth({ ...base, pendingInflows: [{ dayKey: '2026-06-01', millicredits: 2_000_000 }] });
      expect(overdue.days.find((day) => day.dayKey === '2026-06-10')?.inflowMillicredits).toBe(2_000_000);
      expect(overdue.depletionDayKey).toBe('2026-06-21');

      const later = forecastMonth({ ...base, pendingInflows: [{ dayKey: '2026-07-02', millicredits: 50_000_000 }] });
      expect(later.depletionDayKey).toBe('2026-06-19');
      expect(later.inflowMillicredits).toBe(0);
    });

    it('recharges at the threshold, within the remaining count', () => {
      const recharge = { thresholdMillicredits: 2_000_000, creditsPerRechargeMillicredits: 5_000_000 };
      const once = forecastMonth({ ...base, recharge: { ...recharge, remainingCount: 1 } });
      // The 17th ends at 2,000 credits: one recharge to 7,000, which lasts to the 24th.
      expect(once.days.find((day) => day.dayKey === '2026-06-17')).toMatchObject({ rechargeMillicredits: 5_000_000, projectedBalanceMillicredits: 7_000_000 });
      expect(once.rechargeCount).toBe(1);
      expect(once.rechargeMillicredits).toBe(5_000_000);
      expect(once.depletionDayKey).toBe('2026-06-24');

      const unlimited = forecastMonth({ ...base, recharge });
      expect(unlimited.rechargeCount).toBe(3); // the 17th, 22nd and 27th
      expect(unlimited.depletionDayKey).toBeNull();
      expect(unlimited.projectedBalanceAtMonthEndMillicredits).toBe(4_000_000);

      const none = forecastMonth({ ...base, recharge: { ...recharge, remainingCount: 0 } });
      expect(none.rechargeCount).toBe(0);
      expect(none.depletionDayKey).toBe('2026-06-19');
    });

    it('recharges within the remaining monthly cap in millicredits', () => {
      const forecast = forecastMonth({
        ...base,
        recharge: { thresholdMillicredits: 2_000_000, creditsPerRechargeMillicredits: 5_000_000, remainingCapMillicredits: 9_000_000 },
      });
      expect(forecast.rechargeCount).toBe(1);
      expect(forecast.depletionDayKey).toBe('2026-06-24');
    });

    it('recharges several times in one day when one package does not clear the threshold', () => {
      const forecast = forecastMonth({
        ...base,
        balanceMillicredits: 0,
        recharge: { thresholdMillicredits: 1_500_000, creditsPerRechargeMillicredits: 1_000_000, remainingCount: 30 },
      });
      // 0 - 1,000 = -1,000 credits; three packages end the day at 2,000, above 1,500.
      expect(forecast.days.find((day) => day.dayKey === '2026-06-10')).toMatchObject({
        rechargeMillicredits: 3_000_000,
        projectedBalanceMillicredits: 2_000_000,
      });
      expect(forecast.depletionDayKey).toBeNull();
    });

    it('rejects a recharge rule that cannot be right', () => {
      expect(() => forecastMonth({ ...base, recharge: { thresholdMillicredits: 1, creditsPerRechargeMillicredits: 0 } })).toThrow(CreditsError);
      expect(() => forecastMonth({ ...base, recharge: { thresholdMillicredits: -1, creditsPerRechargeMillicredits: 5 } })).toThrow(/threshold/);
    });
  });

  it('has one row per calendar day in DST months, not elapsed hours / 24', () => {
    for (const [monthKey, hours, dstDay, dstDayHours] of [
      ['2026-03', 31 * 24 - 1, '2026-03-29', 23],
      ['2026-10', 31 * 24 + 1, '2026-10-25', 25],
    ] as const) {
      const bounds = monthBounds(monthKey, BERLIN);
      expect((bounds.endMs - bounds.startMs) / HOUR).toBe(hours);
      const day = dayBounds(dstDay, BERLIN);
      expect((day.endMs - day.startMs) / HOUR).toBe(dstDayHours);

      const todayKey = `${monthKey}-01`;
      const history = series(addLocalDays(todayKey, -56), addLocalDays(todayKey, -1), () => 1000);
      const forecast = forecastMonth({ history, todayKey, balanceMillicredits: 1_000_000 });
      expect(forecast.days).toHaveLength(daysInMonth(monthKey));
      expect(forecast.days).toHaveLength(31);
      expect(forecast.days.find((row) => row.dayKey === dstDay)?.projectedMillicredits).toBe(1000);
      expect(forecast.projectedMonthTotalMillicredits).toBe(31 * 1000);
    }
    // February has its calendar length, leap year or not.
    expect(forecastMonth({ history: [], todayKey: '2028-02-10', balanceMillicredits: 0 }).days).toHaveLength(29);
    expect(forecastMonth({ history: [], todayKey: '2026-02-10', balanceMillicredits: 0 }).days).toHaveLength(28);
  });

  it('refuses history after today and a bad day key', () => {
    expect(() => forecastMonth({ history: [{ dayKey: '2026-05-14', millicredits: 1 }], todayKey: '2026-05-13', balanceMillicredits: 0 })).toThrow(/ends today/);
    expect(() => forecastMonth({ history: [], todayKey: '2026-02-30', balanceMillicredits: 0 })).toThrow(CreditsError);
    expect(() => forecastMonth({ history: [{ dayKey: '2026-05-01', millicredits: 1.5 }], todayKey: '2026-05-13', balanceMillicredits: 0 })).toThrow(/whole/);
  });
});

describe('backtestAccuracy', () => {
  // Four months: weekdays busy, weekends quiet, slow growth, +-15% daily noise.
  const random = noise(42);
  const history = series('2026-01-01', '2026-04-30', (dayKey, index) => {
    const base = isWeekend(dayKey) ? 150_000 : 1_200_000;
    return Math.round(base * (1 + index * 0.002) * (1 + 0.15 * random()));
  });

  it('forecasts mid-month from days 1-15 only and reports a small MAPE', () => {
    const result = backtestAccuracy(history, ['2026-01', '2026-02', '2026-03', '2026-04']);
    expect(BACKTEST_CUTOFF_DAY).toBe(15);
    expect(result.months).toHaveLength(4);
    expect(result.judgedMonthCount).toBe(4);
    expect(result.skippedMonths).toEqual([]);
    for (const month of result.months) {
      expect(month.actualMillicredits).toBe(sumMonth(history, month.monthKey));
      expect(month.absolutePercentError).not.toBeNull();
      expect(month.absolutePercentError ?? 100).toBeLessThan(5);
    }
    expect(result.meanAbsolutePercentError).not.toBeNull();
    expect(result.meanAbsolutePercentError ?? 100).toBeLessThan(3);
  });

  it('ignores what happened after day 15', () => {
    const changedLate = history.map((row) => (row.dayKey > '2026-03-15' && row.dayKey < '2026-04-01' ? { ...row, millicredits: row.millicredits * 3 } : row));
    const before = backtestAccuracy(history, ['2026-03']).months[0];
    const after = backtestAccuracy(changedLate, ['2026-03']).months[0];
    expect(after?.forecastMillicredits).toBe(before?.forecastMillicredits);
    expect(after?.actualMillicredits).toBeGreaterThan(before?.actualMillicredits ?? 0);
  });

  it('skips months with no usage and says so', () => {
    const result = backtestAccuracy(history, ['2025-12', '2026-02']);
    expect(result.skippedMonths).toEqual([{ monthKey: '2025-12', reason: 'actual is zero' }]);
    expect(result.months[0]).toMatchObject({ monthKey: '2025-12', actualMillicredits: 0, absolutePercentError: null });
    expect(result.judgedMonthCount).toBe(1);
    expect(result.meanAbsolutePercentError).toBe(result.months[1]?.absolutePercentError);
    expect(backtestAccuracy(history, ['2025-11']).meanAbsolutePercentError).toBeNull();
  });
});
