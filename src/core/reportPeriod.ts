import { CreditsError } from './errors.js';
import { addLocalDays, daysInMonth, localDateKey, localMonthKey, parseInstantInput, parseMonthInput } from './time.js';

/** A span of whole local days, both ends included, and how to name it. */
export type DayRange = { firstDay: string; lastDay: string; label: string; monthKey: string | null };

export function monthRange(monthKey: string): DayRange {
  return { firstDay: `${monthKey}-01`, lastDay: `${monthKey}-${String(daysInMonth(monthKey)).padStart(2, '0')}`, label: monthKey, monthKey };
}

/**
 * `--month YYYY-MM` or `--since DATE [--until DATE]` (days in the organisation's time zone,
 * both included); neither means the current month.
 */
export function resolveDayRange(
  flags: { month?: string | undefined; since?: string | undefined; until?: string | undefined },
  nowMs: number,
  timeZone: string,
): DayRange {
  if (flags.month !== undefined && (flags.since !== undefined || flags.until !== undefined)) {
    throw new CreditsError('USAGE', '--month cannot be combined with --since or --until', {
      hint: 'use --month 2026-10, or --since 2026-10-01 --until 2026-10-15',
    });
  }
  if (flags.month !== undefined) return monthRange(parseMonthInput(flags.month, '--month'));
  if (flags.since === undefined && flags.until === undefined) return monthRange(localMonthKey(nowMs, timeZone));
  const today = localDateKey(nowMs, timeZone);
  const firstDay = flags.since === undefined ? `${today.slice(0, 7)}-01` : localDateKey(parseInstantInput(flags.since, '--since', timeZone), timeZone);
  const lastDay = flags.until === undefined ? today : localDateKey(parseInstantInput(flags.until, '--until', timeZone), timeZone);
  if (lastDay < firstDay) {
    throw new CreditsError('INVALID_DATE', `--until ${lastDay} is before --since ${firstDay}`, { hint: 'give the earlier day to --since' });
  }
  return { firstDay, lastDay, label: firstDay === lastDay ? firstDay : `${firstDay} to ${lastDay}`, monthKey: null };
}

export function daysBetween(firstDay: string, lastDay: string): string[] {
  const days: string[] = [];
  for (let day = firstDay; day <= lastDay; day = addLocalDays(day, 1)) days.push(day);
  return days;
}
