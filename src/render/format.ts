import { MILLICREDITS_PER_CREDIT } from '../core/amounts.js';

let grouped: Intl.NumberFormat | undefined;
/** Created on first use: building an Intl formatter costs milliseconds every start-up would pay. */
function groupedFormat(value: number): string {
  grouped ??= new Intl.NumberFormat('en-US');
  return grouped.format(value);
}

/** 1234567 -> "1,234,567". */
export function formatCount(value: number): string {
  return groupedFormat(value);
}

/**
 * Credits for people: thousands separators, at least `minDecimals` decimals, trailing zeros
 * trimmed past that, never rounded (a millicredit is the smallest amount and is always shown).
 */
export function formatCredits(millicredits: number, minDecimals = 1): string {
  const sign = millicredits < 0 ? '-' : '';
  const absolute = Math.abs(millicredits);
  const whole = Math.floor(absolute / MILLICREDITS_PER_CREDIT);
  let fraction = String(absolute % MILLICREDITS_PER_CREDIT).padStart(3, '0');
  while (fraction.length > minDecimals && fraction.endsWith('0')) fraction = fraction.slice(0, -1);
  return `${sign}${groupedFormat(whole)}${fraction === '' ? '' : `.${fraction}`}`;
}

/** 4750 -> "€47.50". */
export function formatEuros(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const absolute = Math.abs(cents);
  return `${sign}€${groupedFormat(Math.floor(absolute / 100))}.${String(absolute % 100).padStart(2, '0')}`;
}

export function formatPercent(percent: number | null): string {
  return percent === null ? '–' : `${percent.toFixed(1)}%`;
}

export function formatBasisPoints(basisPoints: number): string {
  return `${(basisPoints / 100).toFixed(basisPoints % 100 === 0 ? 0 : 2)}%`;
}
