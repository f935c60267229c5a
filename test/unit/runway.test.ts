import { describe, expect, it } from 'vitest';
import { forecastMonth, projectUsageAhead, type DayAmount } from '../../src/core/forecast.js';
import { RUNWAY_HORIZON_DAYS, projectRunway, type ThresholdRecharge } from '../../src/core/runway.js';
import { addLocalDays } from '../../src/core/time.js';

/** `count` days from `fromKey`, each with the amount `amountOf` gives. */
function days(fromKey: string, count: number, amountOf: (index: number) => number = () => 1000): DayAmount[] {
  return Array.from({ length: count }, (_, index) => ({ dayKey: addLocalDays(fromKey, index), millicredits: amountOf(index) }));
}

/** A card recharge of 5 credits for €47.50 below 2 credits (millicredits and cents scaled down to keep the arithmetic readable). */
const CARD: ThresholdRecharge = {
  kind: 'threshold',
  account: 'Eng',
  thresholdMillicredits: 2000,
  packageMillicredits: 5000,
  priceCents: 4750,
  monthlyCapCents: 9500,
  monthSpentCents: 0,
  settleDays: 0,
  armed: true,
  refusedInMonth: null,
};

describe('projectRunway', () => {
  it('counts whole days to the first day that ends at or below zero, past month end', () => {
    const usage = days('2026-06-25', RUNWAY_HORIZON_DAYS);
    const runway = projectRunway({ todayKey: '2026-06-25', balanceMillicredits: 10_500, usage, pendingInflows: [], recharges: [] });
    // 10,500 at 1,000 a day: 500 left after day 9, below zero on day 10 (5 July).
    expect(runway).toEqual({
      runsOutOn: '2026-07-05',
      days: 10,
      outlook: 'runs-out',
      horizonDays: RUNWAY_HORIZON_DAYS,
      usageMillicredits: 11_000,
      inflowMillicredits: 0,
      rechargeCount: 0,
      rechargeMillicredits: 0,
      rechargeCents: 0,
    });
    // Exactly zero is run out: 10,000 last through day 9.
    expect(projectRunway({ todayKey: '2026-06-25', balanceMillicredits: 10_000, usage, pendingInflows: [], recharges: [] }).days).toBe(9);
    expect(projectRunway({ todayKey: '2026-06-25', balanceMillicredits: 0, usage, pendingInflows: [], recharges: [] })).toMatchObject({
      days: 0,
      runsOutOn: '2026-06-25',
    });
    // At zero with nothing spent nothing runs out (a department that draws on the organisation).
    const idle = days('2026-06-25', RUNWAY_HORIZON_DAYS, () => 0);
    expect(projectRunway({ todayKey: '2026-06-25', balanceMillicredits: 0, usage: idle, pendingInflows: [], recharges: [] })).toMatchObject({
      days: null,
      outlook: 'no-usage',
    });
  });

  it('adds pending purchases on their day; an overdue one today', () => {
    const usage = days('2026-06-25', 30);
    const runway = projectRunway({
      todayKey: '2026-06-25',
      balanceMillicredits: 3500,
      usage,
      pendingInflows: [
        { dayKey: '2026-06-20', millicredits: 1000 },
        { dayKey: '2026-06-27', millicredits: 5000 },
      ],
      recharges: [],
    });
    // 3,500 + 1,000 today + 5,000 on the 27th = 9,500: below zero on day 9.
    expect(runway).toMatchObject({ runsOutOn: '2026-07-04', days: 9, inflowMillicredits: 6000 });
  });

  it('recharges by card below the threshold, within the monthly cap, until the cap refuses', () => {
    const runway = projectRunway({ todayKey: '2026-06-28', balanceMillicredits: 10_000, usage: days('2026-06-28', 60), pendingInflows: [], recharges: [CARD] });
    // 1,000 on 6 July and 11 July: recharged to 6,000 each time (€95 of the €95 cap); the third
    // crossing on 16 July is refused, and 17 July ends at zero.
    expect(runway).toMatchObject({ runsOutOn: '2026-07-17', days: 19, rechargeCount: 2, rechargeMillicredits: 10_000, rechargeCents: 9500 });
    // A month's spend before today counts against this month's cap only.
    const spent = projectRunway({
      todayKey: '2026-07-28',
      balanceMillicredits: 5000,
      usage: days('2026-07-28', 60),
      pendingInflows: [],
      recharges: [{ ...CARD, monthlyCapCents: 4750, monthSpentCents: 4750 }],
    });
    // Refused on 31 July (cap spent), recharged on 1 August (a new cap), refused again on 5 August.
    expect(spent).toMatchObject({ runsOutOn: '2026-08-06', days: 9, rechargeCount: 1, rechargeCents: 4750 });
  });

  it('waits for a SEPA recharge to settle, and recharges once per crossing', () => {
    const sepa = { ...CARD, thresholdMillicredits: 4000, settleDays: 3 };
    const runway = projectRunway({ todayKey: '2026-06-01', balanceMillicredits: 6000, usage: days('2026-06-01', 60), pendingInflows: [], recharges: [sepa] });
    // Bought on 3 June at 3,000 (credited 6 June) and 8 June (credited 11 June); the cap refuses 13 June.
    expect(runway).toMatchObject({ runsOutOn: '2026-06-16', days: 15, rechargeCount: 2, rechargeMillicredits: 10_000 });
    // Bought at 1,000 on 2 June: 2 June's usage ends at zero before the credits come on the 5th.
    const late = projectRunway({
      todayKey: '2026-06-01',
      balanceMillicredits: 3000,
      usage: days('2026-06-01', 60),
      pendingInflows: [],
      recharges: [{ ...CARD, settleDays: 3 }],
    });
    expect(late).toMatchObject({ runsOutOn: '2026-06-03', days: 2, rechargeCount: 1 });
    const unlimited = projectRunway({
      todayKey: '2026-06-01',
      balanceMillicredits: 6000,
      usage: days('2026-06-01', RUNWAY_HORIZON_DAYS),
      pendingInflows: [],
      recharges: [{ ...sepa, monthlyCapCents: 1_000_000 }],
    });
    expect(unlimited).toMatchObject({ runsOutOn: null, days: null, outlook: 'lasts-beyond-horizon', rechargeCount: 73 });
  });

  it('tells no usage apart from a long runway', () => {
    const idle = projectRunway({
      todayKey: '2026-06-01',
      balanceMillicredits: 100,
      usage: days('2026-06-01', 365, () => 0),
      pendingInflows: [],
      recharges: [],
    });
    expect(idle).toMatchObject({ runsOutOn: null, days: null, outlook: 'no-usage' });
    const slow = projectRunway({
      todayKey: '2026-06-01',
      balanceMillicredits: 1_000_000,
      usage: days('2026-06-01', 365, () => 1),
      pendingInflows: [],
      recharges: [],
    });
    expect(slow).toMatchObject({ runsOutOn: null, outlook: 'lasts-beyond-horizon', usageMillicredits: 365 });
  });
});

describe('projectUsageAhead', () => {
  it("reads on past month end with the month forecast's own days", () => {
    let state = 7;
    const noisy = days('2026-03-01', 73, (index) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return 800 + (index % 7 === 0 ? 900 : 0) + (state % 400);
    });
    const history = [...noisy, { dayKey: '2026-05-13', millicredits: 300 }];
    const ahead = projectUsageAhead(history, '2026-05-13', RUNWAY_HORIZON_DAYS);
    expect(ahead).toHaveLength(RUNWAY_HORIZON_DAYS);
    expect(ahead[0]?.dayKey).toBe('2026-05-13');
    expect(ahead[364]?.dayKey).toBe('2027-05-12');
    const month = forecastMonth({ history, todayKey: '2026-05-13', balanceMillicredits: 0 });
    const projected = month.days
      .filter((day) => day.projectedMillicredits !== null)
      .map((day) => ({ dayKey: day.dayKey, millicredits: day.projectedMillicredits }));
    expect(ahead.slice(0, projected.length)).toEqual(projected);
    expect(ahead.every((day) => Number.isSafeInteger(day.millicredits) && day.millicredits >= 0)).toBe(true);
  });
});

describe('projectRunway with a target rule', () => {
  it('buys what lifts the balance of the day to the target, within the monthly cap', () => {
    const usage = days('2026-06-25', 30);
    // Below 2,000 the rule buys up to 6,000, at 1 cent per 1,000 millicredits (a stand-in price list).
    const toTarget: ThresholdRecharge = {
      ...CARD,
      monthlyCapCents: 10,
      purchaseAt: (balance) => ({ millicredits: 6000 - balance, priceCents: Math.ceil((6000 - balance) / 1000) }),
    };
    const project = (rule: ThresholdRecharge) =>
      projectRunway({ todayKey: '2026-06-25', balanceMillicredits: 3500, usage, pendingInflows: [], recharges: [rule] });
    // 26 June ends at 1,500: +4,500 (5 cents). 1 July ends at 1,000: +5,000 (a new month's cap). 6 July: +5,000
    // (10 cents in July). 11 July: the cap refuses, and 12 July ends at zero.
    expect(project(toTarget)).toMatchObject({ rechargeCount: 3, rechargeMillicredits: 14_500, rechargeCents: 15, runsOutOn: '2026-07-12', days: 17 });
    // A cap of 5 cents a month: 26 June and 1 July only; 6 July is refused, 7 July ends at zero.
    expect(project({ ...toTarget, monthlyCapCents: 5 })).toMatchObject({
      rechargeCount: 2,
      rechargeMillicredits: 9500,
      rechargeCents: 10,
      runsOutOn: '2026-07-07',
      days: 12,
    });
  });
});
