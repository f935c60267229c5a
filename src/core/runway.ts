import { assert } from './errors.js';
import type { DayAmount } from './forecast.js';
import { addLocalDays } from './time.js';

/**
 * Runway: the day the balance reaches zero at the forecast's daily usage, read past month end.
 *
 * Day by day from today: the day's pending purchases and settling recharges come in, the day's
 * expected usage goes out, then the recharge rules act on the end-of-day balance, as a usage
 * write that crosses a threshold would make them act. The first day that still ends at or below
 * zero is the day credits run out; `days` counts from today (0: today, 1: tomorrow).
 *
 * Looks at most `RUNWAY_HORIZON_DAYS` ahead: further out, a model fitted on eight weeks says
 * little, and a `check --min-days` beyond a year has no use. No end within the horizon is
 * `lasts-beyond-horizon`; no expected usage at all is `no-usage`. Integer millicredits and cents
 * throughout.
 */

/** One year: the furthest the runway looks, and the largest `check --min-days`. */
export const RUNWAY_HORIZON_DAYS = 365;

/**
 * `recharge set --threshold`: when the balance falls below the threshold (or an event finds none
 * left), the package is bought within the monthly cap; once per crossing, then the rule waits
 * until the balance is back at the threshold. A month whose cap refused it may try again next
 * month. As src/store/notify/watchers.ts does it.
 */
export type ThresholdRecharge = {
  kind: 'threshold';
  /** The account whose rule this is (shown, not used). */
  account: string;
  thresholdMillicredits: number;
  packageMillicredits: number;
  priceCents: number;
  monthlyCapCents: number;
  /** What its recharges cost so far in the month of `todayKey`. */
  monthSpentCents: number;
  /** Days from the purchase to its credits: 0 for card and PayPal, the expected settle time of SEPA. */
  settleDays: number;
  /**
   * A rule with a target (`recharge set --target`) buys what lifts the balance of the day to the
   * target: its credits and price at that balance. Without it, the package above.
   */
  purchaseAt?: (balanceMillicredits: number) => { millicredits: number; priceCents: number };
  /** False after a recharge (or refusal) that left the balance below the threshold. */
  armed: boolean;
  /** The month ('YYYY-MM') whose cap last refused it; null when none. */
  refusedInMonth: string | null;
};

/** A rule kind as the runway sees it: a new kind is one more member here and one more case in `rechargeOn`. */
export type RunwayRecharge = ThresholdRecharge;

export type RunwayInput = {
  todayKey: string;
  /** Balance now, after today's usage so far. */
  balanceMillicredits: number;
  /** Expected usage per day, today first, one row per consecutive day (projectUsageAhead). */
  usage: readonly DayAmount[];
  /** Pending purchases by the day they are expected to be credited (an overdue one: today). */
  pendingInflows: readonly DayAmount[];
  recharges: readonly RunwayRecharge[];
};

export type RunwayOutlook = 'runs-out' | 'lasts-beyond-horizon' | 'no-usage';

export type Runway = {
  /** The first day that ends at or below zero credits; null when none within the horizon. */
  runsOutOn: string | null;
  /** Days from today to `runsOutOn` (0: today); null with it. */
  days: number | null;
  outlook: RunwayOutlook;
  horizonDays: number;
  /** Expected usage from today through `runsOutOn` (or the horizon's last day). */
  usageMillicredits: number;
  /** Pending purchases credited on the way. */
  inflowMillicredits: number;
  rechargeCount: number;
  rechargeMillicredits: number;
  rechargeCents: number;
};

/** A rule's state as the days go by: what its month spent, whether it may act, recharges on their way. */
type RechargeState = { rule: RunwayRecharge; armed: boolean; refusedInMonth: string | null; monthKey: string; spentCents: number };

type Totals = { rechargeCount: number; rechargeMillicredits: number; rechargeCents: number };

function assertWhole(value: number, what: string, min = 0): void {
  assert(Number.isSafeInteger(value) && value >= min, `${what} is a whole number from ${min}, got ${value}`);
}

function assertRule(rule: RunwayRecharge): void {
  assertWhole(rule.thresholdMillicredits, 'a recharge threshold');
  assertWhole(rule.packageMillicredits, 'a recharge package', 1);
  assertWhole(rule.priceCents, 'a recharge price');
  assertWhole(rule.monthlyCapCents, 'a monthly recharge cap');
  assertWhole(rule.monthSpentCents, "a month's recharge spend");
  assertWhole(rule.settleDays, 'a recharge settle time');
}

/**
 * What one rule does at the end of a day with this balance: the credits it adds today (instant
 * methods), and those it schedules for a later day (SEPA). Mutates its state and the totals.
 */
function rechargeOn(state: RechargeState, dayKey: string, balanceMillicredits: number, totals: Totals, settling: Map<string, number>): number {
  const rule = state.rule;
  switch (rule.kind) {
    case 'threshold': {
      const low = balanceMillicredits < rule.thresholdMillicredits || balanceMillicredits <= 0;
      if (!low) {
        state.armed = true;
        state.refusedInMonth = null;
        return 0;
      }
      const monthKey = dayKey.slice(0, 7);
      if (!state.armed && (state.refusedInMonth === null || state.refusedInMonth === monthKey)) return 0;
      if (state.monthKey !== monthKey) {
        state.monthKey = monthKey;
        state.spentCents = 0;
      }
      const buy = rule.purchaseAt ? rule.purchaseAt(balanceMillicredits) : { millicredits: rule.packageMillicredits, priceCents: rule.priceCents };
      if (state.spentCents + buy.priceCents > rule.monthlyCapCents) {
        state.armed = false;
        state.refusedInMonth = monthKey;
        return 0;
      }
      state.spentCents += buy.priceCents;
      state.refusedInMonth = null;
      totals.rechargeCount += 1;
      totals.rechargeMillicredits += buy.millicredits;
      totals.rechargeCents += buy.priceCents;
      if (rule.settleDays > 0) {
        const settleKey = addLocalDays(dayKey, rule.settleDays);
        settling.set(settleKey, (settling.get(settleKey) ?? 0) + buy.millicredits);
        state.armed = false;
        return 0;
      }
      state.armed = balanceMillicredits + buy.millicredits >= rule.thresholdMillicredits;
      return buy.millicredits;
    }
  }
}

/** The runway from today's balance, the expected usage, pending purchases and recharge rules. */
export function projectRunway(input: RunwayInput): Runway {
  const { todayKey, usage, recharges } = input;
  assert(Number.isSafeInteger(input.balanceMillicredits), `the balance is whole millicredits, got ${input.balanceMillicredits}`);
  assert(usage.length <= RUNWAY_HORIZON_DAYS && usage[0]?.dayKey === todayKey, 'usage starts today, within the horizon');
  for (const row of [...usage, ...input.pendingInflows]) assertWhole(row.millicredits, `the amount of ${row.dayKey}`);
  for (const rule of recharges) assertRule(rule);

  // Nothing is spent, so nothing runs out: a department at zero that draws on the organisation
  // (or is simply unused) is not "out today".
  if (usage.every((day) => day.millicredits === 0))
    return {
      runsOutOn: null,
      days: null,
      outlook: 'no-usage',
      horizonDays: usage.length,
      usageMillicredits: 0,
      inflowMillicredits: 0,
      rechargeCount: 0,
      rechargeMillicredits: 0,
      rechargeCents: 0,
    };
  const pending = new Map<string, number>();
  for (const inflow of input.pendingInflows) {
    const dayKey = inflow.dayKey < todayKey ? todayKey : inflow.dayKey;
    pending.set(dayKey, (pending.get(dayKey) ?? 0) + inflow.millicredits);
  }
  /** Recharges bought by SEPA, by the day their credits are expected. */
  const settling = new Map<string, number>();
  const states: RechargeState[] = recharges.map((rule) => ({
    rule,
    armed: rule.armed,
    refusedInMonth: rule.refusedInMonth,
    monthKey: todayKey.slice(0, 7),
    spentCents: rule.monthSpentCents,
  }));
  const totals: Totals = { rechargeCount: 0, rechargeMillicredits: 0, rechargeCents: 0 };
  let balance = input.balanceMillicredits;
  let usageMillicredits = 0;
  let inflowMillicredits = 0;
  for (let index = 0; index < usage.length; index++) {
    const day = usage[index] as DayAmount;
    assert(index === 0 || day.dayKey === addLocalDays(todayKey, index), 'usage has one row per consecutive day');
    const inflow = pending.get(day.dayKey) ?? 0;
    inflowMillicredits += inflow;
    usageMillicredits += day.millicredits;
    balance += inflow + (settling.get(day.dayKey) ?? 0) - day.millicredits;
    for (const state of states) balance += rechargeOn(state, day.dayKey, balance, totals, settling);
    if (balance <= 0)
      return { runsOutOn: day.dayKey, days: index, outlook: 'runs-out', horizonDays: usage.length, usageMillicredits, inflowMillicredits, ...totals };
  }
  const outlook: RunwayOutlook = usageMillicredits === 0 ? 'no-usage' : 'lasts-beyond-horizon';
  return { runsOutOn: null, days: null, outlook, horizonDays: usage.length, usageMillicredits, inflowMillicredits, ...totals };
}
