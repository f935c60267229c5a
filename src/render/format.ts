import { formatCreditsText, formatEurosText } from '../core/amountText.js';

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
 * trimmed past that, never rounded. The one implementation lives in core, where notification
 * texts (written in the store) can use it too.
 */
export function formatCredits(millicredits: number, minDecimals = 1): string {
  return formatCreditsText(millicredits, minDecimals);
}

/** 4750 -> "€47.50". */
export function formatEuros(cents: number): string {
  return formatEurosText(cents);
}

export function formatPercent(percent: number | null): string {
  return percent === null ? '–' : `${percent.toFixed(1)}%`;
}

export function formatBasisPoints(basisPoints: number): string {
  return `${(basisPoints / 100).toFixed(basisPoints % 100 === 0 ? 0 : 2)}%`;
}
