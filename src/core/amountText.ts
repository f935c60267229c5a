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
