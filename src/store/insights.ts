import { findAnomalies, type Anomaly, type SubjectSeries } from '../core/anomalies.js';
import { backtestAccuracy, forecastMonth, projectUsageAhead, type BacktestResult, type DayAmount, type MonthForecast } from '../core/forecast.js';
import { quotePackage } from '../core/packages.js';
import { RUNWAY_HORIZON_DAYS, projectRunway, type Runway, type RunwayRecharge } from '../core/runway.js';
import { addLocalDays, localDateKey, localMonthKey, monthBounds, previousMonthKey } from '../core/time.js';
import type { SqlReader } from './driver.js';
import { currentBalances, withPercentLeft } from './ledgerQueries.js';
import { dailyUsage, dailyUsageBySubject, usageReport, type ReportRow } from './reportQueries.js';
import { limitStatuses } from './ops/rules.js';
import { rechargeQuotes, type RechargeRuleRow } from './notify/watchers.js';

/** Days after its creation a pending purchase is expected to settle: SEPA direct debit, invoice. */
export const EXPECTED_SETTLE_DAYS = { sepa: 3, invoice: 14 } as const;

export type Scope = { kind: 'org' } | { kind: 'department'; id: number; name: string };

export type ForecastReport = MonthForecast & {
  scope: string;
  balanceMillicredits: number;
  pending: { purchaseId: number; method: string; dayKey: string; millicredits: number }[];
  /** When the balance reaches zero past month end, with pending purchases and recharge rules. */
  runway: Runway;
  accuracy: BacktestResult;
};

async function scopeBalance(db: SqlReader, scope: Scope): Promise<number> {
  const balances = await currentBalances(db);
  return balances.filter((row) => (scope.kind === 'org' ? true : row.account === scope.name)).reduce((sum, row) => sum + row.balanceMillicredits, 0);
}

async function history(db: SqlReader, scope: Scope, firstDay: string, lastDay: string): Promise<DayAmount[]> {
  const rows = await dailyUsage(db, { firstDay, lastDay, departmentId: scope.kind === 'department' ? scope.id : undefined });
  return rows.map((row) => ({ dayKey: row.dayKey, millicredits: row.millicredits }));
}

/** What the forecast and the runway start from: the usage history, pending purchases and the balance now. */
type ForecastBasis = {
  todayKey: string;
  /** The ledger's first day: days before it are unknown, not idle. */
  startKey: string;
  history: DayAmount[];
  pending: ForecastReport['pending'];
  balanceMillicredits: number;
};

async function forecastBasis(db: SqlReader, scope: Scope, nowMs: number, timeZone: string): Promise<ForecastBasis> {
  const todayKey = localDateKey(nowMs, timeZone);
  const firstDay = addLocalDays(todayKey, -120);
  const created = await db.get<{ at: number | null }>('SELECT min(created_at_ms) AS at FROM ledger_transactions');
  const startKey = created?.at == null ? todayKey : localDateKey(created.at, timeZone);
  const usage = await history(db, scope, firstDay, todayKey);
  // Days before the ledger existed are unknown, not idle: the history starts on its first day.
  const days: DayAmount[] = startKey > firstDay ? [{ dayKey: startKey, millicredits: 0 }, ...usage] : usage;
  days.sort((a, b) => (a.dayKey < b.dayKey ? -1 : a.dayKey > b.dayKey ? 1 : 0));
  const pendingRows = await db.all<{ id: number; method: 'sepa' | 'invoice'; createdAtMs: number; millicredits: number; account: string }>(
    `SELECT p.id AS id, p.method AS method, p.created_at_ms AS createdAtMs, p.millicredits AS millicredits, a.name AS account FROM purchases p JOIN accounts a ON a.id = p.account_id WHERE p.status = 'pending'`,
  );
  const pending = pendingRows
    .filter((row) => scope.kind === 'org' || row.account === scope.name)
    .map((row) => {
      const expected = addLocalDays(localDateKey(row.createdAtMs, timeZone), EXPECTED_SETTLE_DAYS[row.method] ?? 3);
      return { purchaseId: row.id, method: row.method, dayKey: expected < todayKey ? todayKey : expected, millicredits: row.millicredits };
    });
  return { todayKey, startKey, history: mergeDays(days), pending, balanceMillicredits: await scopeBalance(db, scope) };
}

/**
 * The recharge rules the runway counts: a department's own rule; for the organisation every
 * rule, each taken to watch the organisation's total (the forecast treats all its credits as one
 * pool, so which account would cross its threshold first is not known).
 */
async function runwayRecharges(db: SqlReader, scope: Scope, nowMs: number, timeZone: string): Promise<RunwayRecharge[]> {
  const month = monthBounds(localMonthKey(nowMs, timeZone), timeZone);
  const rows = await db.all<RechargeRuleRow & { account: string; monthSpentCents: number }>(
    `SELECT r.account_id AS accountId, a.name AS account, r.threshold_millicredits AS thresholdMillicredits, r.package_name AS packageName, r.target_millicredits AS targetMillicredits,
       r.custom_discount_basis_points AS customDiscountBasisPoints, r.method AS method,
       r.monthly_cap_cents AS monthlyCapCents, r.armed AS armed, r.refused_in_month AS refusedInMonth,
       (SELECT coalesce(sum(price_cents), 0) FROM purchases p WHERE p.account_id = r.account_id AND p.origin = 'recharge' AND p.schedule_id IS NULL AND p.status <> 'cancelled'
          AND p.created_at_ms >= ? AND p.created_at_ms < ?) AS monthSpentCents
     FROM recharge_rules r JOIN accounts a ON a.id = r.account_id ORDER BY a.id`,
    [month.startMs, month.endMs],
  );
  return rows
    .filter((row) => scope.kind === 'org' || row.accountId === scope.id)
    .map((row) => {
      // A target rule's purchase depends on the balance of the day: quoted as the recharge would be.
      const quoteAt = (balanceMillicredits: number) => {
        const quotes = rechargeQuotes(row, balanceMillicredits);
        return { millicredits: quotes.reduce((sum, q) => sum + q.millicredits, 0), priceCents: quotes.reduce((sum, q) => sum + q.priceCents, 0) };
      };
      const quote =
        row.packageName === null ? { ...quoteAt(0), instant: rechargeQuotes(row, 0)[0]?.instant ?? true } : quotePackage(row.packageName, row.method);
      return {
        kind: 'threshold',
        account: row.account,
        thresholdMillicredits: row.thresholdMillicredits,
        packageMillicredits: quote.millicredits,
        priceCents: quote.priceCents,
        ...(row.packageName === null ? { purchaseAt: quoteAt } : {}),
        monthlyCapCents: row.monthlyCapCents,
        monthSpentCents: row.monthSpentCents,
        settleDays: quote.instant ? 0 : EXPECTED_SETTLE_DAYS.sepa,
        armed: row.armed === 1,
        refusedInMonth: row.refusedInMonth,
      };
    });
}

async function runwayFrom(db: SqlReader, scope: Scope, nowMs: number, timeZone: string, basis: ForecastBasis): Promise<Runway> {
  return projectRunway({
    todayKey: basis.todayKey,
    balanceMillicredits: basis.balanceMillicredits,
    usage: projectUsageAhead(basis.history, basis.todayKey, RUNWAY_HORIZON_DAYS),
    pendingInflows: basis.pending,
    recharges: await runwayRecharges(db, scope, nowMs, timeZone),
  });
}

/** When the org's (or a department's) credits run out at the forecast's pace, up to a year ahead. */
export async function runwayReport(db: SqlReader, scope: Scope, nowMs: number, timeZone: string): Promise<Runway> {
  return runwayFrom(db, scope, nowMs, timeZone, await forecastBasis(db, scope, nowMs, timeZone));
}

/**
 * The month-end forecast of the org (all accounts together) or one department: usage history
 * of the last 16 weeks, pending SEPA and invoice purchases as expected inflows, the runway past
 * month end (with the recharge rules), and the error the same method made on each of the last
 * three complete months (forecast at mid-month).
 */
export async function forecastReport(db: SqlReader, scope: Scope, nowMs: number, timeZone: string): Promise<ForecastReport> {
  const basis = await forecastBasis(db, scope, nowMs, timeZone);
  const { todayKey, startKey, history: merged, pending, balanceMillicredits } = basis;
  const forecast = forecastMonth({
    history: merged,
    todayKey,
    balanceMillicredits,
    pendingInflows: pending.map((row) => ({ dayKey: row.dayKey, millicredits: row.millicredits })),
    recharge: null,
  });
  const thisMonth = localMonthKey(nowMs, timeZone);
  const months = [
    previousMonthKey(previousMonthKey(previousMonthKey(thisMonth))),
    previousMonthKey(previousMonthKey(thisMonth)),
    previousMonthKey(thisMonth),
  ].filter((month) => `${month}-01` >= startKey);
  const accuracy = backtestAccuracy(merged, months);
  const runway = await runwayFrom(db, scope, nowMs, timeZone, basis);
  return { ...forecast, scope: scope.kind === 'org' ? 'organisation' : scope.name, balanceMillicredits, pending, runway, accuracy };
}

function mergeDays(days: DayAmount[]): DayAmount[] {
  const merged: DayAmount[] = [];
  for (const day of days) {
    const last = merged[merged.length - 1];
    if (last && last.dayKey === day.dayKey) last.millicredits += day.millicredits;
    else merged.push({ ...day });
  }
  return merged;
}

/** Spend far above a user's or department's own recent baseline, from `sinceKey` to today. */
export async function anomalyReport(db: SqlReader, sinceKey: string, nowMs: number, timeZone: string): Promise<Anomaly[]> {
  const todayKey = localDateKey(nowMs, timeZone);
  const rows = await dailyUsageBySubject(db, { firstDay: addLocalDays(sinceKey, -28), lastDay: todayKey });
  const series = new Map<string, SubjectSeries & { days: DayAmount[] }>();
  for (const row of rows) {
    const key = `${row.kind}|${row.name}|${row.department}`;
    let entry = series.get(key);
    if (!entry) {
      entry = { subject: { kind: row.kind, name: row.name, department: row.department }, days: [] };
      series.set(key, entry);
    }
    entry.days.push({ dayKey: row.dayKey, millicredits: row.millicredits });
  }
  for (const entry of series.values()) entry.days.sort((a, b) => (a.dayKey < b.dayKey ? -1 : 1));
  return findAnomalies({ series: [...series.values()], sinceKey, untilKey: todayKey });
}

export type DashboardData = {
  monthKey: string;
  todayKey: string;
  balances: { account: string; costCenter: string | null; millicredits: number; percentLeft: number | null }[];
  totalMillicredits: number;
  burnRateMillicreditsPerDay: number;
  depletionDayKey: string | null;
  projectedBalanceAtMonthEndMillicredits: number;
  topUsers: ReportRow[];
  topModels: ReportRow[];
  last30Days: { dayKey: string; millicredits: number }[];
  alerts: { level: 'critical' | 'warning'; message: string }[];
};

/** Everything the dashboard shows, from a handful of indexed reads. */
export async function dashboardData(db: SqlReader, nowMs: number, timeZone: string): Promise<DashboardData> {
  const todayKey = localDateKey(nowMs, timeZone);
  const monthKey = localMonthKey(nowMs, timeZone);
  const balances = (await withPercentLeft(db, await currentBalances(db), nowMs, timeZone)).accounts.map((row) => ({
    account: row.account,
    costCenter: row.costCenter,
    millicredits: row.balanceMillicredits,
    percentLeft: row.percentLeft,
  }));
  const firstDay = addLocalDays(todayKey, -29);
  const daily = await dailyUsage(db, { firstDay, lastDay: todayKey });
  const byDay = new Map(daily.map((row) => [row.dayKey, row.millicredits]));
  const last30Days: DashboardData['last30Days'] = [];
  for (let day = firstDay; day <= todayKey; day = addLocalDays(day, 1)) last30Days.push({ dayKey: day, millicredits: byDay.get(day) ?? 0 });
  const lastWeek = last30Days.slice(-8, -1);
  const burnRateMillicreditsPerDay = Math.round(lastWeek.reduce((sum, day) => sum + day.millicredits, 0) / Math.max(1, lastWeek.length));
  const forecast = await forecastReport(db, { kind: 'org' }, nowMs, timeZone);
  const monthRange = { firstDay: `${monthKey}-01`, lastDay: todayKey };
  const topUsers = (await usageReport(db, { by: 'user', ...monthRange })).slice(0, 5);
  const topModels = (await usageReport(db, { by: 'model', ...monthRange })).slice(0, 5);
  const alerts: DashboardData['alerts'] = [];
  for (const balance of balances) {
    if (balance.millicredits <= 0 && balance.account !== 'org')
      alerts.push({ level: 'critical', message: `${balance.account} has no credits left: its AI features are paused` });
    else if (balance.percentLeft !== null && balance.percentLeft <= 10)
      alerts.push({ level: 'critical', message: `${balance.account} has ${balance.percentLeft}% of this month's credits left` });
    else if (balance.percentLeft !== null && balance.percentLeft <= 20)
      alerts.push({ level: 'warning', message: `${balance.account} has ${balance.percentLeft}% of this month's credits left` });
  }
  for (const status of await limitStatuses(db, nowMs, timeZone)) {
    if (status.amountMillicredits > 0 && status.usedMillicredits >= status.amountMillicredits * 0.8) {
      alerts.push({
        // A soft limit refuses nothing: passing it is a warning, never critical.
        level: status.leftMillicredits <= 0 && status.kind === 'hard' ? 'critical' : 'warning',
        message: `${status.kind === 'soft' ? 'soft ' : ''}limit ${status.id} (${status.user ?? status.department ?? 'organisation'}${status.model ? `, ${status.model}` : ''}) is ${Math.round((status.usedMillicredits * 100) / status.amountMillicredits)}% used this ${status.period}`,
      });
    }
  }
  for (const anomaly of await anomalyReport(db, addLocalDays(todayKey, -2), nowMs, timeZone)) {
    alerts.push({ level: 'warning', message: `${anomaly.subject.name} spent ${anomaly.timesBaseline}x the usual on ${anomaly.dayKey}` });
  }
  if (forecast.depletionDayKey !== null)
    alerts.push({ level: 'critical', message: `at this pace the organisation runs out of credits on ${forecast.depletionDayKey}` });
  return {
    monthKey,
    todayKey,
    balances,
    totalMillicredits: balances.reduce((sum, row) => sum + row.millicredits, 0),
    burnRateMillicreditsPerDay,
    depletionDayKey: forecast.depletionDayKey,
    projectedBalanceAtMonthEndMillicredits: forecast.projectedBalanceAtMonthEndMillicredits,
    topUsers,
    topModels,
    last30Days,
    alerts,
  };
}
