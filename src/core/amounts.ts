import { CreditsError } from './errors.js';

/** One credit is €0.01; every stored amount of credits is an integer count of millicredits. */
export const MILLICREDITS_PER_CREDIT = 1000;
/** The largest amount a person may type: a trillion credits stays far inside 2^53 millicredits. */
export const MAX_INPUT_MILLICREDITS = 1_000_000_000_000 * MILLICREDITS_PER_CREDIT;

const PLAIN_DECIMAL = /^(\d+)(?:\.(\d+))?$/;
/** 1.000 or 12.500 read as one thousand in German and one in English: refuse rather than guess. */
const LOOKS_LIKE_THOUSANDS_SEPARATOR = /^[1-9]\d{0,2}\.\d{3}$/;

/**
 * Parses an amount a person typed, in credits with up to three decimals, into millicredits.
 * `field` names the flag or field in every message so the user knows what to fix.
 */
export function parseCreditsInput(text: string, field: string, options: { allowZero?: boolean } = {}): number {
  const trimmed = String(text).trim();
  const allowed = `${field} takes a positive number of credits with up to 3 decimals, like 2.5 or 1000`;
  if (trimmed === '') throw new CreditsError('INVALID_AMOUNT', `${field} is empty`, { hint: allowed });
  if (trimmed.startsWith('-')) {
    throw new CreditsError('INVALID_AMOUNT', `${field} must be positive, got "${trimmed}"`, { hint: allowed });
  }
  if (trimmed.includes(',') || /^\d{1,3}(\.\d{3}){2,}$/.test(trimmed) || LOOKS_LIKE_THOUSANDS_SEPARATOR.test(trimmed)) {
    throw new CreditsError('INVALID_AMOUNT', `${field} "${trimmed}" looks like it has a thousands separator, which reads differently in English and German`, {
      hint: `write 1000 for one thousand credits and 1.5 for one and a half; for exactly three decimals add a zero (2.1250)`,
    });
  }
  const match = PLAIN_DECIMAL.exec(trimmed);
  if (!match) throw new CreditsError('INVALID_AMOUNT', `${field} "${trimmed}" is not a number`, { hint: allowed });
  const wholePart = match[1] ?? '0';
  const fractionPart = (match[2] ?? '').replace(/0+$/, '');
  if (fractionPart.length > 3) {
    throw new CreditsError('INVALID_AMOUNT', `${field} "${trimmed}" is more precise than a millicredit (0.001 credits)`, { hint: allowed });
  }
  if (wholePart.replace(/^0+/, '').length > 13) {
    throw new CreditsError('INVALID_AMOUNT', `${field} "${trimmed}" is too large`, { hint: `${field} may be at most 1000000000000 credits` });
  }
  const millicredits = Number(wholePart) * MILLICREDITS_PER_CREDIT + Number(fractionPart.padEnd(3, '0'));
  if (millicredits > MAX_INPUT_MILLICREDITS) {
    throw new CreditsError('INVALID_AMOUNT', `${field} "${trimmed}" is too large`, { hint: `${field} may be at most 1000000000000 credits` });
  }
  if (millicredits === 0 && !options.allowZero) {
    throw new CreditsError('INVALID_AMOUNT', `${field} must be more than zero`, { hint: allowed });
  }
  return millicredits;
}

/** Parses a whole, non-negative count (tokens, tool calls, images) typed for `field`. */
export function parseCountInput(text: string, field: string, options: { max?: number } = {}): number {
  const trimmed = String(text).trim();
  const max = options.max ?? 1_000_000_000_000;
  if (!/^\d+$/.test(trimmed)) {
    throw new CreditsError('INVALID_VALUE', `${field} must be a whole number of 0 or more, got "${trimmed}"`);
  }
  const value = Number(trimmed);
  if (!Number.isSafeInteger(value) || value > max) {
    throw new CreditsError('INVALID_VALUE', `${field} "${trimmed}" is too large`, { hint: `${field} may be at most ${max}` });
  }
  return value;
}

/** For JSON output: a number of credits (exact, since millicredits / 1000 has at most 3 decimals). */
export function millicreditsToCredits(millicredits: number): number {
  return millicredits / MILLICREDITS_PER_CREDIT;
}

/** Euro cents for an amount of credits: one credit is one cent, rounded half up to whole cents. */
export function millicreditsToCents(millicredits: number): number {
  return Math.floor((millicredits + 500) / MILLICREDITS_PER_CREDIT);
}

/** Whole-number percentage of `part` in `whole`, one decimal, or null when there is no whole. */
export function percentOf(part: number, whole: number): number | null {
  if (whole <= 0) return null;
  return Math.round((part * 1000) / whole) / 10;
}
