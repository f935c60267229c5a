import { CreditsError } from './errors.js';

/**
 * What "percentage left" is measured against: the balance at the start of the current month
 * (in the organisation's time zone) plus the credits that came in since (purchases, recharges,
 * allocations and transfers in). A top-up raises the base by what it brings, so a small
 * transfer moves the percentage a little instead of resetting it to 100%. For the organisation
 * the figures are those of all its credits, pool and departments together, and only credits
 * from outside (purchases, recharges) come in: moving credits between them changes nothing.
 */
export type PercentBase = { balanceMillicredits: number; openingMillicredits: number; inflowMillicredits: number };

export function baseMillicredits(base: PercentBase): number {
  return base.openingMillicredits + base.inflowMillicredits;
}

/**
 * The percentage left, rounded down to 0.1% (so "19.9%" is never shown for an account that
 * is not yet below 20%, nor "20.0%" for one that is): null when nothing was there this month
 * (no opening balance and nothing came in); 0 for an empty or negative balance; at most 100
 * (a reversal can give back more than came in).
 */
export function percentLeft(base: PercentBase): number | null {
  const whole = baseMillicredits(base);
  if (whole <= 0) return base.balanceMillicredits > 0 ? 100 : null;
  if (base.balanceMillicredits <= 0) return 0;
  if (base.balanceMillicredits >= whole) return 100;
  // BigInt: balance x 1000 passes 2^53 long before a balance does.
  return Number((BigInt(base.balanceMillicredits) * 1000n) / BigInt(whole)) / 10;
}

/**
 * Whether an account is below an alert level: level 0 means empty (balance 0 or less); any other
 * level compares the exact balance with the exact share of the base. An account with no base
 * this month is below no level: there is nothing it could have fallen from.
 */
export function isBelowLevel(base: PercentBase, levelPercent: number): boolean {
  const whole = baseMillicredits(base);
  if (whole <= 0) return false;
  if (levelPercent === 0) return base.balanceMillicredits <= 0;
  return BigInt(base.balanceMillicredits) * 100n < BigInt(levelPercent) * BigInt(whole);
}

/** Whether at least `minPercent` (0-100, one decimal) is left, compared exactly; no base counts as 0%. */
export function hasPercentLeft(base: PercentBase, minPercent: number): boolean {
  const whole = baseMillicredits(base);
  if (minPercent <= 0) return true;
  if (whole <= 0) return base.balanceMillicredits > 0;
  return BigInt(base.balanceMillicredits) * 1000n >= BigInt(Math.round(minPercent * 10)) * BigInt(whole);
}

/** The seed's notifications: at 20% and 10% left, and when credits are depleted. */
export const DEFAULT_ALERT_LEVELS_PERCENT: readonly number[] = [20, 10, 0];

/**
 * Parses `notify levels set` input: whole percentages 0-100, comma-separated, each once.
 * Returned highest first, the order in which a falling balance crosses them.
 */
export function parseAlertLevels(text: string, field = 'LEVELS'): number[] {
  const allowed = `${field} takes whole percentages from 0 to 100, comma-separated, each once, like 50,20,10,0`;
  const parts = String(text)
    .split(',')
    .map((part) => part.trim());
  if (parts.length === 1 && parts[0] === '') throw new CreditsError('INVALID_VALUE', `${field} is empty`, { hint: allowed });
  if (parts.length > 20) throw new CreditsError('INVALID_VALUE', `${field} has ${parts.length} levels, at most 20 are allowed`, { hint: allowed });
  const levels: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 100) {
      throw new CreditsError('INVALID_VALUE', `${field}: "${part}" is not a whole percentage from 0 to 100`, { hint: allowed });
    }
    const level = Number(part);
    if (levels.includes(level)) throw new CreditsError('INVALID_VALUE', `${field}: ${level} is given twice`, { hint: allowed });
    levels.push(level);
  }
  return levels.sort((a, b) => b - a);
}

/** Stored levels (the setting's text), or the seed's default when none were set. */
export function alertLevelsFromSetting(value: string | undefined): number[] {
  if (value === undefined || value === '') return [...DEFAULT_ALERT_LEVELS_PERCENT];
  return parseAlertLevels(value, 'notify.levels');
}

/** The settings key the alert levels are stored under (text, like "20,10,0"). */
export const ALERT_LEVELS_SETTING = 'notify.levels';

/** The share left as an exact fraction, between 0 and 1 (no base: all or nothing). */
function shareLeft(base: PercentBase): [bigint, bigint] {
  const whole = baseMillicredits(base);
  if (whole <= 0) return [base.balanceMillicredits > 0 ? 1n : 0n, 1n];
  return [BigInt(Math.min(whole, Math.max(0, base.balanceMillicredits))), BigInt(whole)];
}

/** Whether `a` has a smaller share left than `b`, compared exactly (for the tightest of several constraints). */
export function hasLessLeft(a: PercentBase, b: PercentBase): boolean {
  const [aLeft, aWhole] = shareLeft(a);
  const [bLeft, bWhole] = shareLeft(b);
  return aLeft * bWhole < bLeft * aWhole;
}

/** A limit as a percentage base: what is left of it this period out of its amount. */
export function limitAsBase(leftMillicredits: number, amountMillicredits: number): PercentBase {
  return { balanceMillicredits: leftMillicredits, openingMillicredits: amountMillicredits, inflowMillicredits: 0 };
}
