import { CreditsError } from './errors.js';
import { daysInMonth } from './time.js';

export const SCHEDULE_DAY_MAX = 31;

/** `--monthly-on D`: a day of the month, 1 to 31; a day a month lacks means its last day. */
export function parseDayOfMonth(text: string, field = '--monthly-on'): number {
  const trimmed = text.trim();
  if (!/^\d{1,2}$/.test(trimmed) || Number(trimmed) < 1 || Number(trimmed) > SCHEDULE_DAY_MAX) {
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not a day of the month`, {
      hint: `${field} takes a day from 1 to ${SCHEDULE_DAY_MAX}; 29-31 mean the last day in shorter months`,
    });
  }
  return Number(trimmed);
}

/** The day a schedule buys in a month ('YYYY-MM'): its day, or the month's last day when shorter. */
export function scheduleDay(monthKey: string, dayOfMonth: number): number {
  return Math.min(dayOfMonth, daysInMonth(monthKey));
}

/** Due on a local date ('YYYY-MM-DD'): on or after its day of that month, and not yet bought in that month. */
export function scheduleDue(dateKey: string, dayOfMonth: number, servedMonth: string | null): boolean {
  const monthKey = dateKey.slice(0, 7);
  return servedMonth !== monthKey && Number(dateKey.slice(8, 10)) >= scheduleDay(monthKey, dayOfMonth);
}

/**
 * The month a new schedule counts as bought already: this one when its day has passed, so a
 * schedule made on the 15th "monthly on the 1st" buys first on the next 1st, not today.
 */
export function servedMonthAtCreation(dateKey: string, dayOfMonth: number): string | null {
  const monthKey = dateKey.slice(0, 7);
  return Number(dateKey.slice(8, 10)) > scheduleDay(monthKey, dayOfMonth) ? monthKey : null;
}
