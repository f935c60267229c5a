import { CreditsError, assert } from './errors.js';
import { median, roundHalfUp, roundOneDecimal, medianAbsoluteDeviation, MAD_TO_SIGMA } from './robustStats.js';
import { addLocalDays, daysInMonth, localMidnightUtc, weekdayOf } from './time.js';

/**
 * Month-end forecast of credit consumption from daily usage history.
 *
 * Model: daily usage = level (with a damped trend) x weekday factor.
 *  - Weekday factors come from the last 8 weeks: every day is divided by the centred 7-day mean
 *    around it, the factor of a weekday is the median of its ratios, and the seven factors are
 *    scaled to average 1. A median over up to 8 weeks ignores one odd week (a holiday, a one-off
 *    batch job) where a mean would not.
 *  - Dividing each day by its weekday factor leaves a series without the weekly wave. Days far
 *    from the median of the 7 days before them are pulled back to a band around that median
 *    (winsorised), so an isolated spike moves the level by little, while a real shift in usage
 *    passes within about four days, once it is the median itself.
 *  - Holt's linear method with a damped trend runs over that series. Damping keeps a few weeks of
 *    growth from being stretched into a steep line to the end of the month.
 *  - Not a straight line through the month so far: that line ignores the weekly wave (a month
 *    half over on a Friday has had fewer weekends than it has left) and the recent level.
 * Fallbacks: fewer than 14 complete days (two weeks), a flat rate: the mean of the last 7 days,
 *    or of all of them when there are fewer than 7. Two weeks are the least that show each weekday
 *    twice. 14 days or more where some weekday still has fewer than two usable ratios (idle
 *    weeks): level and trend without weekday factors. No complete day at all: zero.
 *
 * Days are local calendar days ('YYYY-MM-DD') in the organisation's time zone; the caller has
 * bucketed usage by local day already, so a DST month simply has its calendar number of days.
 * Days missing from the history count as zero, from the earliest day in the history on (days
 * before it are unknown, not zero: an organisation that started last week has no idle past).
 * A caller that knows the ledger started earlier passes that day with 0 millicredits.
 *
 * Today: today's usage so far is the actual of today, but today is not fitted (a partial day
 * would drag the level down every morning). Today's projection is what the model expects for the
 * whole day minus what is already used, never below zero; so today's expected total is
 * max(model, used so far).
 *
 * Rounding: the model works in fractional millicredits; projected days are rounded by rounding the
 * running total half up and taking differences. Every day is within one millicredit of the model,
 * and the days add up exactly to the rounded remaining total.
 */

export type DayAmount = { dayKey: string; millicredits: number };

/**
 * Automatic recharge as the forecast sees it: when the balance falls to or below the threshold,
 * a recharge of creditsPerRechargeMillicredits is credited at once (card or PayPal, the methods
 * an unattended recharge can use). The caps say what the monthly limit still allows this month;
 * an absent cap does not limit.
 */
export type RechargeRule = {
  thresholdMillicredits: number;
  creditsPerRechargeMillicredits: number;
  /** Recharges the monthly cap still allows this month (count). */
  remainingCount?: number | null;
  /** Millicredits the monthly cap still allows this month; a recharge that would exceed it does not happen. */
  remainingCapMillicredits?: number | null;
};

export type ForecastInput = {
  /** Usage per local day, up to and including today (today partial). Several rows for one day are added up. */
  history: readonly DayAmount[];
  todayKey: string;
  /** Balance now, after today's usage so far. */
  balanceMillicredits: number;
  /** Pending SEPA and invoice purchases by expected settle day; an overdue one is expected today. */
  pendingInflows?: readonly DayAmount[];
  recharge?: RechargeRule | null;
};

export type ForecastMethod = 'none' | 'mean' | 'level-trend' | 'weekday-level-trend';

export type ForecastDay = {
  dayKey: string;
  /** Usage recorded: whole days before today, today so far; null after today. */
  actualMillicredits: number | null;
  /** Usage expected: null before today; for today the rest of the day. */
  projectedMillicredits: number | null;
  /** Balance at the end of the day; null before today (past balances are the ledger's to tell). */
  projectedBalanceMillicredits: number | null;
  /** Pending purchases expected to settle this day. */
  inflowMillicredits: number;
  /** Automatic recharges expected this day. */
  rechargeMillicredits: number;
};

export type MonthForecast = {
  monthKey: string;
  todayKey: string;
  method: ForecastMethod;
  /** Complete days (before today) the model was fitted on. */
  historyDays: number;
  /** Sunday first, average 1; all 1 when no weekday pattern is used. */
  weekdayFactors: number[];
  /** The model's level at the last complete day: usage of an average weekday, rounded half up. */
  dailyLevelMillicredits: number;
  /** The model's trend per day at the last fitted day, rounded half up (may be negative). */
  trendMillicreditsPerDay: number;
  actualToDateMillicredits: number;
  projectedRemainingMillicredits: number;
  projectedMonthTotalMillicredits: number;
  projectedBalanceAtMonthEndMillicredits: number;
  /** First day whose end-of-day balance is at or below zero; null when not this month. */
  depletionDayKey: string | null;
  rechargeCount: number;
  rechargeMillicredits: number;
  inflowMillicredits: number;
  days: ForecastDay[];
};

/** The model's fixed constants, exported so the CLI and the docs can show them. */
export const FORECAST_PARAMETERS = {
  /** Eight weeks: enough weeks for a median per weekday, recent enough to be today's pattern. */
  lookbackDays: 56,
  /** Two weeks: every weekday seen twice, the least that can tell a weekday effect from chance. */
  minDaysForModel: 14,
  /**
   * Level smoothing: a memory of about two weeks. On synthetic series (weekly wave, noise,
   * growth, steps, spikes) 0.15 gave the lowest errors at mid-month short of strong growth, where
   * faster settings win; 0.3 doubled the error on noisy flat usage.
   */
  alpha: 0.15,
  /** Trend smoothing: slow, so a single busy week is not a trend. */
  beta: 0.05,
  /** Per-day trend damping: the trend adds at most phi / (1 - phi) = 19 days of slope in total. */
  phi: 0.95,
  /** Winsorising band: median of the previous 7 days +- 3 robust standard deviations ... */
  clipWidth: 3,
  /** ... where the deviation is at least 20% of that median (a perfectly flat week has MAD 0). */
  clipScaleFloorFraction: 0.2,
} as const;

const MS_PER_DAY = 86_400_000;
/** A weekday whose factor is below this carries no information about the level (it is always idle). */
const MIN_USABLE_FACTOR = 0.01;

/** Days since 1970-01-01 of a calendar day; the key is read in UTC, which only counts days. */
function dayNumber(dayKey: string): number {
  return Math.round(localMidnightUtc(dayKey, 'UTC') / MS_PER_DAY);
}

function monthKeyOf(dayKey: string): string {
  addLocalDays(dayKey, 0); // validates the key, throws INVALID_DATE
  return dayKey.slice(0, 7);
}

function assertAmounts(rows: readonly DayAmount[], what: string): void {
  for (const row of rows) {
    assert(
      Number.isSafeInteger(row.millicredits) && row.millicredits >= 0,
      `${what} of ${row.dayKey} is whole, non-negative millicredits, got ${row.millicredits}`,
    );
  }
}

function sumByDay(rows: readonly DayAmount[]): Map<string, number> {
  const byDay = new Map<string, number>();
  for (const row of rows) byDay.set(row.dayKey, (byDay.get(row.dayKey) ?? 0) + row.millicredits);
  return byDay;
}

type DailyModel = {
  method: ForecastMethod;
  historyDays: number;
  weekdayFactors: number[];
  level: number;
  trend: number;
  /** Expected usage of the day `stepsAhead` days after the last complete day (1 = today). */
  expected(stepsAhead: number, weekday: number): number;
};

const FLAT_FACTORS = [1, 1, 1, 1, 1, 1, 1];

/**
 * Per-weekday factors: each day divided by the mean of the 7-day window centred on it (at the
 * two ends of the history, the nearest whole week), so a steady trend cancels out instead of
 * making the last weekday of a block look busy; then the median of those ratios per weekday,
 * scaled so the seven average 1. Null when some weekday has fewer than two ratios: a single week
 * cannot tell a weekday effect from chance.
 */
function weekdayFactors(values: readonly number[], firstWeekday: number): number[] | null {
  if (values.length < 7) return null;
  const prefixTotals = [0];
  for (const value of values) prefixTotals.push((prefixTotals[prefixTotals.length - 1] as number) + value);
  const ratios: number[][] = [[], [], [], [], [], [], []];
  for (let i = 0; i < values.length; i++) {
    const windowStart = Math.min(Math.max(i - 3, 0), values.length - 7);
    const windowTotal = (prefixTotals[windowStart + 7] as number) - (prefixTotals[windowStart] as number);
    if (windowTotal <= 0) continue; // an idle week says nothing about the weekly shape
    ratios[(firstWeekday + i) % 7]?.push(((values[i] as number) * 7) / windowTotal);
  }
  if (ratios.some((list) => list.length < 2)) return null;
  const raw = ratios.map((list) => median(list));
  const total = raw.reduce((sum, factor) => sum + factor, 0);
  if (total <= 0) return null;
  return raw.map((factor) => (factor * 7) / total);
}

/** Pulls each value into a band around the median of the up to 7 usable values before it. */
function winsorise(values: readonly (number | null)[]): (number | null)[] {
  const { clipWidth, clipScaleFloorFraction } = FORECAST_PARAMETERS;
  const cleaned: (number | null)[] = [];
  const recent: number[] = [];
  for (const value of values) {
    if (value === null) {
      cleaned.push(null);
      continue;
    }
    let kept = value;
    // Three earlier days are the fewest that have a median at all worth comparing against.
    const center = recent.length >= 3 ? median(recent) : 0;
    // Without a positive median there is no level to be far from (usage is only starting).
    if (center > 0) {
      const scale = Math.max(MAD_TO_SIGMA * medianAbsoluteDeviation(recent, center), clipScaleFloorFraction * center);
      kept = Math.min(Math.max(value, center - clipWidth * scale), center + clipWidth * scale);
    }
    cleaned.push(kept);
    // The reference median is built from the raw values: a real shift then becomes the median
    // after four days and stops being clipped, while isolated spikes never do.
    recent.push(value);
    if (recent.length > 7) recent.shift();
  }
  return cleaned;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function fitModel(values: readonly number[], firstWeekday: number): DailyModel {
  const { minDaysForModel, alpha, beta, phi } = FORECAST_PARAMETERS;
  const n = values.length;
  if (n === 0) {
    return { method: 'none', historyDays: 0, weekdayFactors: FLAT_FACTORS, level: 0, trend: 0, expected: () => 0 };
  }
  if (n < minDaysForModel) {
    // Under two weeks, a flat rate. The last whole week holds every weekday once: the freshest
    // figure that is not tilted towards whichever weekdays happen to come last.
    const level = mean(values.slice(-7));
    return { method: 'mean', historyDays: n, weekdayFactors: FLAT_FACTORS, level, trend: 0, expected: () => level };
  }

  const factors = weekdayFactors(values, firstWeekday) ?? FLAT_FACTORS;
  const seasonal = factors !== FLAT_FACTORS;
  const deseasonalised = values.map((value, i) => {
    const factor = factors[(firstWeekday + i) % 7] as number;
    return factor < MIN_USABLE_FACTOR ? null : value / factor;
  });
  const series = winsorise(deseasonalised);
  const usable = series.filter((value): value is number => value !== null);
  assert(usable.length > 0, 'factors average 1, so some weekday is usable');

  // Start from the first week's mean and no slope: a slope guessed from two noisy weeks did more
  // harm than good; a real trend builds up through beta within a few weeks.
  const firstWeek = usable.slice(0, 7);
  let level = mean(firstWeek);
  let trend = 0;
  let seeded = 0;
  for (const value of series) {
    if (seeded < firstWeek.length) {
      // The first week seeded the level; smoothing starts after it.
      if (value !== null) seeded++;
      continue;
    }
    const predicted = level + phi * trend;
    if (value === null) {
      level = predicted;
      trend = phi * trend;
      continue;
    }
    const nextLevel = alpha * value + (1 - alpha) * predicted;
    trend = beta * (nextLevel - level) + (1 - beta) * phi * trend;
    level = nextLevel;
  }

  const fittedLevel = level;
  const fittedTrend = trend;
  return {
    method: seasonal ? 'weekday-level-trend' : 'level-trend',
    historyDays: n,
    weekdayFactors: factors,
    level: fittedLevel,
    trend: fittedTrend,
    expected(stepsAhead: number, weekday: number): number {
      // phi + phi^2 + ... + phi^h: the damped trend's total contribution after h days.
      const dampedSteps = (phi * (1 - phi ** stepsAhead)) / (1 - phi);
      const deseasonalisedValue = Math.max(0, fittedLevel + dampedSteps * fittedTrend);
      return deseasonalisedValue * (factors[weekday] as number);
    },
  };
}

function assertRechargeRule(rule: RechargeRule): void {
  const { thresholdMillicredits, creditsPerRechargeMillicredits, remainingCount, remainingCapMillicredits } = rule;
  if (!Number.isSafeInteger(thresholdMillicredits) || thresholdMillicredits < 0) {
    throw new CreditsError('INVALID_VALUE', `the recharge threshold must be whole, non-negative millicredits, got ${thresholdMillicredits}`);
  }
  if (!Number.isSafeInteger(creditsPerRechargeMillicredits) || creditsPerRechargeMillicredits <= 0) {
    throw new CreditsError('INVALID_VALUE', `the recharge amount must be whole, positive millicredits, got ${creditsPerRechargeMillicredits}`);
  }
  if (remainingCount != null && (!Number.isSafeInteger(remainingCount) || remainingCount < 0)) {
    throw new CreditsError('INVALID_VALUE', `the remaining recharge count must be a whole number of 0 or more, got ${remainingCount}`);
  }
  if (remainingCapMillicredits != null && (!Number.isSafeInteger(remainingCapMillicredits) || remainingCapMillicredits < 0)) {
    throw new CreditsError('INVALID_VALUE', `the remaining recharge cap must be whole, non-negative millicredits, got ${remainingCapMillicredits}`);
  }
}

/** The model fitted to the complete days before today, from the history's start or the lookback. */
function fitToHistory(usageByDay: ReadonlyMap<string, number>, todayKey: string): DailyModel {
  const todayNumber = dayNumber(todayKey);
  let earliestNumber = todayNumber;
  for (const dayKey of usageByDay.keys()) {
    const number = dayNumber(dayKey);
    assert(number <= todayNumber, `usage history ends today (${todayKey}), got ${dayKey}`);
    earliestNumber = Math.min(earliestNumber, number);
  }

  // Complete days only: from the later of the history's start and the lookback, to yesterday.
  const fitDays = Math.min(todayNumber - earliestNumber, FORECAST_PARAMETERS.lookbackDays);
  const fitStartKey = addLocalDays(todayKey, -fitDays);
  const fitValues: number[] = [];
  for (let i = 0; i < fitDays; i++) fitValues.push(usageByDay.get(addLocalDays(fitStartKey, i)) ?? 0);
  return fitModel(fitValues, weekdayOf(fitStartKey));
}

/** Pending inflows that settle by the month's end, by the day they count on (an overdue one: today). */
function inflowsByDay(pendingInflows: readonly DayAmount[], todayKey: string, monthLastKey: string): { byDay: Map<string, number>; totalMillicredits: number } {
  const byDay = new Map<string, number>();
  let totalMillicredits = 0;
  for (const inflow of pendingInflows) {
    if (inflow.dayKey > monthLastKey) continue; // settles after this month: not part of its forecast
    const settleKey = inflow.dayKey < todayKey ? todayKey : inflow.dayKey;
    byDay.set(settleKey, (byDay.get(settleKey) ?? 0) + inflow.millicredits);
    totalMillicredits += inflow.millicredits;
  }
  return { byDay, totalMillicredits };
}

/** What is left of the recharge rule's caps as the days are projected, and how many recharges were made. */
type RechargeBudget = { rechargesLeft: number; capLeftMillicredits: number; rechargeCount: number };

/**
 * The recharges of one day whose balance ended at or below the threshold: as many as it takes to
 * end the day above it, as far as the caps allow. Spends them from the budget.
 */
function rechargeMillicreditsFor(recharge: RechargeRule, budget: RechargeBudget, balanceMillicredits: number): number {
  const per = recharge.creditsPerRechargeMillicredits;
  const needed = Math.floor((recharge.thresholdMillicredits - balanceMillicredits) / per) + 1;
  const allowed = Math.min(needed, budget.rechargesLeft, Math.floor(budget.capLeftMillicredits / per));
  const rechargedMillicredits = allowed * per;
  budget.rechargesLeft -= allowed;
  budget.capLeftMillicredits -= rechargedMillicredits;
  budget.rechargeCount += allowed;
  return rechargedMillicredits;
}

/** The month's days: the actuals of those past, the projection of today and those to come. */
function projectMonthDays(
  monthKey: string,
  todayKey: string,
  usageByDay: ReadonlyMap<string, number>,
  model: DailyModel,
  inflowByDay: ReadonlyMap<string, number>,
  recharge: RechargeRule | null,
  balanceMillicredits: number,
) {
  const budget: RechargeBudget = {
    rechargesLeft: recharge?.remainingCount ?? Number.POSITIVE_INFINITY,
    capLeftMillicredits: recharge?.remainingCapMillicredits ?? Number.POSITIVE_INFINITY,
    rechargeCount: 0,
  };
  const monthFirstKey = `${monthKey}-01`;
  const monthLastKey = addLocalDays(monthFirstKey, daysInMonth(monthKey) - 1);
  const todayWeekday = weekdayOf(todayKey);
  const days: ForecastDay[] = [];
  let actualToDate = 0;
  let expectedRunningTotal = 0;
  let roundedRunningTotal = 0;
  let balance = balanceMillicredits;
  let depletionDayKey: string | null = null;

  for (
    let dayKey = monthFirstKey, offset = dayNumber(todayKey) - dayNumber(monthFirstKey);
    dayKey <= monthLastKey;
    dayKey = addLocalDays(dayKey, 1), offset--
  ) {
    const actual = usageByDay.get(dayKey) ?? 0;
    if (offset > 0) {
      actualToDate += actual;
      days.push({
        dayKey,
        actualMillicredits: actual,
        projectedMillicredits: null,
        projectedBalanceMillicredits: null,
        inflowMillicredits: 0,
        rechargeMillicredits: 0,
      });
      continue;
    }
    const stepsAhead = 1 - offset; // today is one step after the last complete day
    const modelled = model.expected(stepsAhead, (todayWeekday + stepsAhead - 1) % 7);
    const expected = offset === 0 ? Math.max(0, modelled - actual) : modelled;
    expectedRunningTotal += expected;
    const nextRounded = roundHalfUp(expectedRunningTotal);
    const projected = nextRounded - roundedRunningTotal;
    roundedRunningTotal = nextRounded;

    const inflow = inflowByDay.get(dayKey) ?? 0;
    balance += inflow - projected;
    let rechargedMillicredits = 0;
    if (recharge !== null && balance <= recharge.thresholdMillicredits) {
      rechargedMillicredits = rechargeMillicreditsFor(recharge, budget, balance);
      balance += rechargedMillicredits;
    }
    if (depletionDayKey === null && balance <= 0) depletionDayKey = dayKey;
    if (offset === 0) actualToDate += actual;
    days.push({
      dayKey,
      actualMillicredits: offset === 0 ? actual : null,
      projectedMillicredits: projected,
      projectedBalanceMillicredits: balance,
      inflowMillicredits: inflow,
      rechargeMillicredits: rechargedMillicredits,
    });
  }
  return { days, actualToDate, roundedRunningTotal, balance, depletionDayKey, rechargeCount: budget.rechargeCount };
}

/** Forecast of the month that contains `todayKey`, from today to its last day. */
export function forecastMonth(input: ForecastInput): MonthForecast {
  const { history, todayKey, balanceMillicredits } = input;
  const pendingInflows = input.pendingInflows ?? [];
  const recharge = input.recharge ?? null;
  const monthKey = monthKeyOf(todayKey);
  assert(Number.isSafeInteger(balanceMillicredits), `the balance is whole millicredits, got ${balanceMillicredits}`);
  assertAmounts(history, 'usage');
  assertAmounts(pendingInflows, 'a pending inflow');
  if (recharge !== null) assertRechargeRule(recharge);

  const usageByDay = sumByDay(history);
  const model = fitToHistory(usageByDay, todayKey);
  const monthLastKey = addLocalDays(`${monthKey}-01`, daysInMonth(monthKey) - 1);
  const inflows = inflowsByDay(pendingInflows, todayKey, monthLastKey);
  const projection = projectMonthDays(monthKey, todayKey, usageByDay, model, inflows.byDay, recharge, balanceMillicredits);
  const { days, actualToDate, roundedRunningTotal, balance, depletionDayKey, rechargeCount } = projection;
  assert(days.length === daysInMonth(monthKey), 'one row per calendar day of the month');

  return {
    monthKey,
    todayKey,
    method: model.method,
    historyDays: model.historyDays,
    weekdayFactors: model.weekdayFactors.map((factor) => Math.round(factor * 1000) / 1000),
    dailyLevelMillicredits: roundHalfUp(model.level),
    trendMillicreditsPerDay: Math.round(model.trend),
    actualToDateMillicredits: actualToDate,
    projectedRemainingMillicredits: roundedRunningTotal,
    projectedMonthTotalMillicredits: actualToDate + roundedRunningTotal,
    projectedBalanceAtMonthEndMillicredits: balance,
    depletionDayKey,
    rechargeCount,
    rechargeMillicredits: rechargeCount * (recharge?.creditsPerRechargeMillicredits ?? 0),
    inflowMillicredits: inflows.totalMillicredits,
    days,
  };
}

/**
 * Usage the model expects on each of the `horizonDays` days from today on (today: the rest of it),
 * in whole millicredits, rounded like the month's days (running total half up, then differences).
 * The first days are the month forecast's own projections; the runway reads on past month end.
 */
export function projectUsageAhead(history: readonly DayAmount[], todayKey: string, horizonDays: number): DayAmount[] {
  assert(Number.isSafeInteger(horizonDays) && horizonDays >= 1, `the horizon is whole days from 1, got ${horizonDays}`);
  assertAmounts(history, 'usage');
  const usageByDay = sumByDay(history);
  const model = fitToHistory(usageByDay, todayKey);
  const usedToday = usageByDay.get(todayKey) ?? 0;
  const todayWeekday = weekdayOf(todayKey);
  const days: DayAmount[] = [];
  let expectedRunningTotal = 0;
  let roundedRunningTotal = 0;
  for (let stepsAhead = 1; stepsAhead <= horizonDays; stepsAhead++) {
    const modelled = model.expected(stepsAhead, (todayWeekday + stepsAhead - 1) % 7);
    expectedRunningTotal += stepsAhead === 1 ? Math.max(0, modelled - usedToday) : modelled;
    const nextRounded = roundHalfUp(expectedRunningTotal);
    days.push({ dayKey: addLocalDays(todayKey, stepsAhead - 1), millicredits: nextRounded - roundedRunningTotal });
    roundedRunningTotal = nextRounded;
  }
  return days;
}

// ---------------------------------------------------------------------------------------------
// Backtest: how good would the forecast have been?
// ---------------------------------------------------------------------------------------------

/** The forecast is judged as it stands at mid-month: days 1-15 known, day 16 not yet begun. */
export const BACKTEST_CUTOFF_DAY = 15;

export type BacktestMonth = {
  monthKey: string;
  forecastMillicredits: number;
  actualMillicredits: number;
  /** |forecast - actual| / actual in percent, one decimal; null when the actual is zero. */
  absolutePercentError: number | null;
};

export type BacktestResult = {
  months: BacktestMonth[];
  /** Mean of the months' unrounded errors, one decimal; null when no month could be judged. */
  meanAbsolutePercentError: number | null;
  judgedMonthCount: number;
  /** Months left out of the mean because nothing was used: a percentage of zero has no meaning. */
  skippedMonths: { monthKey: string; reason: 'actual is zero' }[];
};

/**
 * For each given (complete) month: the month total forecast at mid-month from the data up to and
 * including day 15, against the month's actual total.
 */
export function backtestAccuracy(history: readonly DayAmount[], monthKeys: readonly string[]): BacktestResult {
  assertAmounts(history, 'usage');
  const months: BacktestMonth[] = [];
  const skippedMonths: BacktestResult['skippedMonths'] = [];
  const errors: number[] = [];
  for (const monthKey of monthKeys) {
    daysInMonth(monthKey); // validates the key, throws INVALID_DATE
    const cutoffKey = `${monthKey}-${String(BACKTEST_CUTOFF_DAY).padStart(2, '0')}`;
    const forecastDayKey = addLocalDays(cutoffKey, 1);
    const known = history.filter((row) => row.dayKey <= cutoffKey);
    const forecast = forecastMonth({ history: known, todayKey: forecastDayKey, balanceMillicredits: 0 });
    const actual = history.reduce((sum, row) => (row.dayKey.startsWith(`${monthKey}-`) ? sum + row.millicredits : sum), 0);
    const predicted = forecast.projectedMonthTotalMillicredits;
    if (actual === 0) {
      months.push({ monthKey, forecastMillicredits: predicted, actualMillicredits: 0, absolutePercentError: null });
      skippedMonths.push({ monthKey, reason: 'actual is zero' });
      continue;
    }
    const error = (Math.abs(predicted - actual) * 100) / actual;
    errors.push(error);
    months.push({ monthKey, forecastMillicredits: predicted, actualMillicredits: actual, absolutePercentError: roundOneDecimal(error) });
  }
  return {
    months,
    meanAbsolutePercentError: errors.length === 0 ? null : roundOneDecimal(mean(errors)),
    judgedMonthCount: errors.length,
    skippedMonths,
  };
}
