import { MILLICREDITS_PER_CREDIT } from './amounts.js';

/**
 * Credits as plain text for messages raised in core and store (no thousands separators, at
 * least one decimal, trailing zeros trimmed): 8000 -> "8.0", 2125 -> "2.125". Tables and
 * reports format through render/, which adds separators and colour.
 */
export function formatMillicreditsPlain(millicredits: number): string {
  const sign = millicredits < 0 ? '-' : '';
  const absolute = Math.abs(millicredits);
  const whole = Math.floor(absolute / MILLICREDITS_PER_CREDIT);
  const fraction = String(absolute % MILLICREDITS_PER_CREDIT)
    .padStart(3, '0')
    .replace(/0+$/, '');
  return `${sign}${whole}.${fraction === '' ? '0' : fraction}`;
}

/** 1234567 -> "1,234,567": the CLI's grouping (en-US), without Intl so messages cost nothing to build. */
export function groupThousands(whole: number): string {
  return String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Credits as the CLI prints them: thousands separators, at least `minDecimals` decimals,
 * trailing zeros trimmed past that, never rounded (100900000 -> "100,900.0"). Notifications use
 * it too, so a text in Slack reads like the table it refers to.
 */
export function formatCreditsText(millicredits: number, minDecimals = 1): string {
  const sign = millicredits < 0 ? '-' : '';
  const absolute = Math.abs(millicredits);
  const whole = Math.floor(absolute / MILLICREDITS_PER_CREDIT);
  let fraction = String(absolute % MILLICREDITS_PER_CREDIT).padStart(3, '0');
  while (fraction.length > minDecimals && fraction.endsWith('0')) fraction = fraction.slice(0, -1);
  return `${sign}${groupThousands(whole)}${fraction === '' ? '' : `.${fraction}`}`;
}

/** 475000 -> "€4,750.00". */
export function formatEurosText(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const absolute = Math.abs(cents);
  return `${sign}€${groupThousands(Math.floor(absolute / 100))}.${String(absolute % 100).padStart(2, '0')}`;
}
