import { CreditsError, assert } from './errors.js';
import { MAD_TO_SIGMA, median, medianAbsoluteDeviation, roundHalfUp, roundOneDecimal } from './robustStats.js';
import { addLocalDays } from './time.js';
import type { DayAmount } from './forecast.js';

/**
 * Days on which a user or a department spent far more than its own recent normal.
 *
 * Baseline: the spend of the active days (spend > 0) among the `windowDays` days before the day
 * judged; the day itself is never part of its own baseline. Idle days are left out because a
 * baseline describes a typical working day: with zeros in, someone who uses AI twice a week
 * would have a median of 0 and every day they work would look unusual.
 *
 * A day is an anomaly when all three hold:
 *   - robust z-score (spend - median) / scale is above `minScore`, where
 *     scale = max(1.4826 x MAD, scaleFloorFraction x median). 1.4826 x MAD estimates a standard
 *     deviation without being moved by the spikes we look for; the floor keeps a perfectly
 *     regular series (MAD = 0) from turning every small wobble into an infinite score;
 *   - spend is at least `minTimesBaseline` x the median (a large score on a very quiet series
 *     can still be an unremarkable amount);
 *   - spend is at least `minMillicredits` (a user going from 1 to 5 credits is not news).
 *
 * A user with fewer than `minActiveDays` active days in the window (new, or rarely active) is
 * judged against the department instead: the department's spend per active user on each of its
 * active days in the window (department spend / active users that day), median and MAD of those.
 * The caller supplies that per-day activity (`departmentActivity`); for a department it does not
 * supply, it is derived from the user series in the input that name the department. A subject
 * with too little history either way is not judged at all.
 */

export type AnomalySubject = { kind: 'user' | 'department'; name: string; department?: string };

export type SubjectSeries = { subject: AnomalySubject; days: readonly DayAmount[] };

/** One day of a department: total spend, and how many of its users spent anything that day. */
export type DepartmentActivityDay = { dayKey: string; millicredits: number; activeUsers: number };

export type DepartmentActivity = { department: string; days: readonly DepartmentActivityDay[] };

export type AnomalyOptions = {
  windowDays: number;
  minScore: number;
  minTimesBaseline: number;
  minMillicredits: number;
  /** Active days in the window a subject needs before it is judged against itself. */
  minActiveDays: number;
  scaleFloorFraction: number;
};

export const DEFAULT_ANOMALY_OPTIONS: AnomalyOptions = {
  windowDays: 28,
  minScore: 3.5,
  minTimesBaseline: 3,
  /** 50 credits (EUR 0.50): below that a spike is not worth an admin's attention. */
  minMillicredits: 50_000,
  minActiveDays: 7,
  /** With MAD = 0 the scale is a tenth of the median: 3.5 "deviations" is then +35%. */
  scaleFloorFraction: 0.1,
};

export type AnomalyInput = {
  series: readonly SubjectSeries[];
  /** First day to judge (local 'YYYY-MM-DD'); the window before it is read as baseline. */
  sinceKey: string;
  /** Last day to judge; default: the latest day in any series. */
  untilKey?: string;
  departmentActivity?: readonly DepartmentActivity[];
  options?: Partial<AnomalyOptions>;
};

export type Anomaly = {
  subject: AnomalySubject;
  dayKey: string;
  millicredits: number;
  /** The baseline's median, rounded half up to whole millicredits. */
  baselineMillicredits: number;
  /** Active days the baseline was computed from. */
  baselineDays: number;
  /** millicredits / median, one decimal. */
  timesBaseline: number;
  /** Robust z-score, one decimal. */
  score: number;
  judgedAgainst: 'own' | 'department';
};

function checkedOptions(overrides: Partial<AnomalyOptions> | undefined): AnomalyOptions {
  const options = { ...DEFAULT_ANOMALY_OPTIONS, ...overrides };
  const { windowDays, minActiveDays } = options;
  if (!Number.isInteger(windowDays) || windowDays < 7 || windowDays > 366) {
    throw new CreditsError('INVALID_VALUE', `the baseline window must be a whole number of days from 7 to 366, got ${windowDays}`);
  }
  if (!Number.isInteger(minActiveDays) || minActiveDays < 1 || minActiveDays > windowDays) {
    throw new CreditsError('INVALID_VALUE', `the minimum active days must be a whole number from 1 to the window (${windowDays}), got ${minActiveDays}`);
  }
  for (const name of ['minScore', 'minTimesBaseline', 'minMillicredits', 'scaleFloorFraction'] as const) {
    const value = options[name];
    if (!Number.isFinite(value) || value < 0) throw new CreditsError('INVALID_VALUE', `${name} must be a number of 0 or more, got ${value}`);
  }
  if (options.scaleFloorFraction <= 0) {
    // Without a floor a flat series (MAD = 0) divides by zero.
    throw new CreditsError('INVALID_VALUE', `scaleFloorFraction must be more than 0, got ${options.scaleFloorFraction}`);
  }
  return options;
}

function sumByDay(rows: readonly DayAmount[], what: string): Map<string, number> {
  const byDay = new Map<string, number>();
  for (const row of rows) {
    assert(
      Number.isSafeInteger(row.millicredits) && row.millicredits >= 0,
      `${what} on ${row.dayKey} is whole, non-negative millicredits, got ${row.millicredits}`,
    );
    byDay.set(row.dayKey, (byDay.get(row.dayKey) ?? 0) + row.millicredits);
  }
  return byDay;
}

/** Per department: day -> spend per active user that day (only days with spend and users). */
function perUserByDepartment(input: AnomalyInput): Map<string, Map<string, number>> {
  const result = new Map<string, Map<string, number>>();
  for (const activity of input.departmentActivity ?? []) {
    const perUser = new Map<string, number>();
    for (const day of activity.days) {
      assert(Number.isSafeInteger(day.millicredits) && day.millicredits >= 0, `department spend on ${day.dayKey} is whole, non-negative millicredits`);
      assert(Number.isSafeInteger(day.activeUsers) && day.activeUsers >= 0, `active users on ${day.dayKey} is a whole number`);
      if (day.activeUsers > 0 && day.millicredits > 0) perUser.set(day.dayKey, day.millicredits / day.activeUsers);
    }
    result.set(activity.department, perUser);
  }

  // Departments the caller did not describe: add up the user series that belong to them.
  const derived = new Map<string, Map<string, { millicredits: number; activeUsers: number }>>();
  for (const { subject, days } of input.series) {
    if (subject.kind !== 'user' || subject.department === undefined || result.has(subject.department)) continue;
    let byDay = derived.get(subject.department);
    if (byDay === undefined) {
      byDay = new Map();
      derived.set(subject.department, byDay);
    }
    for (const [dayKey, millicredits] of sumByDay(days, `spend of ${subject.name}`)) {
      if (millicredits <= 0) continue;
      const day = byDay.get(dayKey) ?? { millicredits: 0, activeUsers: 0 };
      day.millicredits += millicredits;
      day.activeUsers += 1;
      byDay.set(dayKey, day);
    }
  }
  for (const [department, byDay] of derived) {
    result.set(department, new Map([...byDay].map(([dayKey, day]) => [dayKey, day.millicredits / day.activeUsers])));
  }
  return result;
}

function compareAnomalies(a: Anomaly, b: Anomaly): number {
  if (a.dayKey !== b.dayKey) return a.dayKey < b.dayKey ? -1 : 1;
  if (a.millicredits !== b.millicredits) return b.millicredits - a.millicredits;
  if (a.subject.kind !== b.subject.kind) return a.subject.kind < b.subject.kind ? -1 : 1;
  return a.subject.name < b.subject.name ? -1 : a.subject.name > b.subject.name ? 1 : 0;
}

/** Unusual days from `sinceKey` to `untilKey`, sorted by day, then largest spend first. */
export function findAnomalies(input: AnomalyInput): Anomaly[] {
  const options = checkedOptions(input.options);
  const { windowDays, minActiveDays, minScore, minTimesBaseline, minMillicredits, scaleFloorFraction } = options;
  const sinceKey = input.sinceKey;
  addLocalDays(sinceKey, 0); // validates the key, throws INVALID_DATE

  const subjects = input.series.map((series) => ({ subject: series.subject, byDay: sumByDay(series.days, `spend of ${series.subject.name}`) }));
  let untilKey = input.untilKey;
  if (untilKey === undefined) {
    for (const { byDay } of subjects) for (const dayKey of byDay.keys()) if (untilKey === undefined || dayKey > untilKey) untilKey = dayKey;
  }
  if (untilKey === undefined || untilKey < sinceKey) return [];
  addLocalDays(untilKey, 0);

  // Every day from the first baseline day to the last judged day, once: windows are index ranges.
  const dayKeys: string[] = [];
  for (let dayKey = addLocalDays(sinceKey, -windowDays); dayKey <= untilKey; dayKey = addLocalDays(dayKey, 1)) dayKeys.push(dayKey);

  const departments = perUserByDepartment(input);
  const anomalies: Anomaly[] = [];

  for (const { subject, byDay } of subjects) {
    const departmentPerUser = subject.kind === 'user' && subject.department !== undefined ? departments.get(subject.department) : undefined;
    for (let index = windowDays; index < dayKeys.length; index++) {
      const dayKey = dayKeys[index] as string;
      const millicredits = byDay.get(dayKey) ?? 0;
      if (millicredits <= 0) continue;
      const windowKeys = dayKeys.slice(index - windowDays, index);

      let judgedAgainst: Anomaly['judgedAgainst'] = 'own';
      let baseline = windowKeys.map((key) => byDay.get(key) ?? 0).filter((value) => value > 0);
      if (baseline.length < minActiveDays && subject.kind === 'user') {
        judgedAgainst = 'department';
        baseline = departmentPerUser === undefined ? [] : windowKeys.map((key) => departmentPerUser.get(key) ?? 0).filter((value) => value > 0);
      }
      if (baseline.length < minActiveDays) continue; // too little history to call anything unusual

      const center = median(baseline);
      assert(center > 0, 'a baseline of active days has a positive median');
      const scale = Math.max(MAD_TO_SIGMA * medianAbsoluteDeviation(baseline, center), scaleFloorFraction * center);
      const score = (millicredits - center) / scale;
      if (score <= minScore || millicredits < minTimesBaseline * center || millicredits < minMillicredits) continue;
      anomalies.push({
        subject,
        dayKey,
        millicredits,
        baselineMillicredits: roundHalfUp(center),
        baselineDays: baseline.length,
        timesBaseline: roundOneDecimal(millicredits / center),
        score: roundOneDecimal(score),
        judgedAgainst,
      });
    }
  }
  return anomalies.sort(compareAnomalies);
}
