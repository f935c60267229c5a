import { subjectOf } from './names.js';
import { CreditsError } from './errors.js';

/** One credit is €0.01; every stored amount of credits is an integer count of millicredits. */
export const MILLICREDITS_PER_CREDIT = 1000;
/**
 * The ledger's bound: ten billion credits (€100 million). No amount, no account's balance and no
 * total of all balances may pass it, so 900 such figures still add up below 2^53 and every sum
 * the tool makes in floating point stays exact (`verify` sums in BigInt regardless).
 */
export const MAX_CREDITS = 10_000_000_000;
export const MAX_MILLICREDITS = MAX_CREDITS * MILLICREDITS_PER_CREDIT;
/** The largest amount a person may type is the ledger's bound. */
export const MAX_INPUT_MILLICREDITS = MAX_MILLICREDITS;
/** The largest amount of euros a person may type: the ledger's bound in cents (a credit is a cent). */
export const MAX_INPUT_CENTS = MAX_CREDITS;

/** What the CLI prints: 1-3 digits, comma groups of three, then always a dot and decimals. */
const PRINTED_GROUPING = /^\d{1,3}(?:,\d{3})+\.\d+$/;
const PLAIN_DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * A comma is never a decimal point: "1,5" is refused with its dot form, and "1,500" (a thousands
 * separator in English, a decimal comma in German) with both of its readings, never a guess.
 * Only the grouping the CLI itself prints (`12,345.5`, always with a dot) is read back.
 */
function refuseComma(trimmed: string, field: string): never {
  const grouped = /^(\d{1,3})((?:,\d{3})+)$/.exec(trimmed);
  if (grouped) {
    const digits = trimmed.replaceAll(',', '');
    const decimal = `${grouped[1]}.${grouped[2]!.slice(1).replaceAll(',', '')}`;
    throw new CreditsError('INVALID_AMOUNT', `${subjectOf(field, trimmed)} has a comma, a thousands separator in English but a decimal comma in German`, {
      hint: `the decimal point is a dot: write ${digits} if the comma separates thousands, or ${decimal} if it is a decimal comma`,
    });
  }
  const decimalComma = /^(\d+),(\d+)$/.exec(trimmed);
  if (decimalComma) {
    throw new CreditsError('INVALID_AMOUNT', `${subjectOf(field, trimmed)} has a decimal comma`, {
      hint: `use ${decimalComma[1]}.${decimalComma[2]}: the decimal point is a dot`,
    });
  }
  throw new CreditsError('INVALID_AMOUNT', `${subjectOf(field, trimmed)} has a comma`, {
    hint: `the decimal point is a dot and thousands need no separator: write 1000.5, or 1,000.5 as the tool prints it`,
  });
}

/**
 * A positive decimal as printed: digits, an optional dot and decimals, optionally grouped with
 * commas as the tool prints them. Returns the whole and fraction digits (leading zeros of the
 * whole and trailing zeros of the fraction dropped), or throws naming `field`.
 */
export function parseDecimalInput(text: string, field: string, allowed: string): { whole: string; fraction: string; trimmed: string } {
  const trimmed = String(text).trim();
  if (trimmed === '') throw new CreditsError('INVALID_AMOUNT', `${field || 'the amount'} is empty`, { hint: allowed });
  if (trimmed.startsWith('-')) {
    throw new CreditsError('INVALID_AMOUNT', `${field || 'the amount'} must be positive, got "${trimmed}"`, { hint: allowed });
  }
  let plain = trimmed;
  if (trimmed.includes(',')) {
    if (!PRINTED_GROUPING.test(trimmed)) refuseComma(trimmed, field);
    plain = trimmed.replaceAll(',', '');
  }
  const match = PLAIN_DECIMAL.exec(plain);
  if (!match) throw new CreditsError('INVALID_AMOUNT', `${subjectOf(field, trimmed)} is not a number`, { hint: allowed });
  return { whole: (match[1] ?? '0').replace(/^0+/, ''), fraction: (match[2] ?? '').replace(/0+$/, ''), trimmed };
}

/**
 * Parses an amount a person typed, in credits with up to three decimals, into millicredits.
 * A dot is always the decimal point (`2.125`, `1.000` is one credit), as the tool prints it.
 * `field` names the flag or field in every message so the user knows what to fix.
 */
export function parseCreditsInput(text: string, field: string, options: { allowZero?: boolean } = {}): number {
  const allowed = `${field || 'the amount'} takes a positive number of credits with up to 3 decimals, like 2.5, 2.125 or 1000`;
  const { whole, fraction, trimmed } = parseDecimalInput(text, field, allowed);
  if (fraction.length > 3) {
    throw new CreditsError('INVALID_AMOUNT', `${subjectOf(field, trimmed)} is more precise than a millicredit (0.001 credits)`, { hint: allowed });
  }
  const tooLarge = () =>
    new CreditsError('INVALID_AMOUNT', `${subjectOf(field, trimmed)} is too large: the most is ${MAX_CREDITS} credits`, {
      hint: `${field || 'the amount'} may be at most ${MAX_CREDITS} credits, the ledger's bound for any amount or balance`,
    });
  if (whole.length > String(MAX_CREDITS).length) throw tooLarge();
  const millicredits = Number(whole || '0') * MILLICREDITS_PER_CREDIT + Number(fraction.padEnd(3, '0'));
  if (millicredits > MAX_INPUT_MILLICREDITS) throw tooLarge();
  if (millicredits === 0 && !options.allowZero) {
    throw new CreditsError('INVALID_AMOUNT', `${field || 'the amount'} must be more than zero`, { hint: allowed });
  }
  return millicredits;
}

/**
 * A signed amount of credits (a correction up or down): an optional sign, `+` or `-` (or the
 * minus sign `−` that statements print), then an amount as parseCreditsInput reads it; never zero.
 */
export function parseSignedCreditsInput(text: string, field: string): number {
  const trimmed = String(text).trim();
  const negative = trimmed.startsWith('-') || trimmed.startsWith('\u2212');
  const unsigned = negative || trimmed.startsWith('+') ? trimmed.slice(1) : trimmed;
  if (/^[-+\u2212]/.test(unsigned.trim()))
    throw new CreditsError('INVALID_AMOUNT', `${subjectOf(field, trimmed)} has more than one sign`, { hint: `${field} takes credits like 25, +25 or -2.5` });
  const millicredits = parseCreditsInput(unsigned, field, { allowZero: true });
  if (millicredits === 0)
    throw new CreditsError('INVALID_AMOUNT', `${field} must not be zero`, {
      hint: `${field} takes credits to add (25) or, with a minus sign, to take away (-2.5)`,
    });
  return negative ? -millicredits : millicredits;
}

/** Euros a person typed, as printed (`199.50`, `1,000.00`, `€47.50`), into cents. */
export function parseEuroInput(text: string, field: string): number {
  const allowed = `${field || 'the amount'} takes euros with up to 2 decimals, like 500, 199.50 or €1,000.00`;
  const withoutSign = String(text)
    .trim()
    .replace(/^\u20ac\s*/, '');
  const { whole, fraction, trimmed } = parseDecimalInput(withoutSign, field, allowed);
  if (fraction.length > 2) throw new CreditsError('INVALID_AMOUNT', `${subjectOf(field, trimmed)} is more precise than a cent`, { hint: allowed });
  const cents = whole.length > String(MAX_INPUT_CENTS).length ? Number.POSITIVE_INFINITY : Number(whole || '0') * 100 + Number(fraction.padEnd(2, '0'));
  if (cents > MAX_INPUT_CENTS) {
    throw new CreditsError('INVALID_AMOUNT', `${subjectOf(field, trimmed)} is too large: the most is €${MAX_INPUT_CENTS / 100}`, { hint: allowed });
  }
  return cents;
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
    throw new CreditsError('INVALID_VALUE', `${subjectOf(field, trimmed)} is too large`, { hint: `${field} may be at most ${max}` });
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
