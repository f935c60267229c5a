import { MILLICREDITS_PER_CREDIT } from '../core/amounts.js';

export type CsvCell = string | number | null;

/** Credits as a plain dot-decimal number with three places: 1234.5 credits -> "1234.500". */
export function csvCredits(millicredits: number): string {
  const sign = millicredits < 0 ? '-' : '';
  const absolute = Math.abs(millicredits);
  return `${sign}${Math.floor(absolute / MILLICREDITS_PER_CREDIT)}.${String(absolute % MILLICREDITS_PER_CREDIT).padStart(3, '0')}`;
}

/** Euros for spreadsheets: "12.35" (a credit is a cent; rounded half up to whole cents). */
export function csvEuros(millicredits: number): string {
  const cents = Math.sign(millicredits) * Math.floor((Math.abs(millicredits) + 500) / MILLICREDITS_PER_CREDIT);
  const sign = cents < 0 ? '-' : '';
  const absolute = Math.abs(cents);
  return `${sign}${Math.floor(absolute / 100)}.${String(absolute % 100).padStart(2, '0')}`;
}

/** Euro cents for spreadsheets: 1235 -> "12.35" (already rounded: a footed table's lines). */
export function csvCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const absolute = Math.abs(cents);
  return `${sign}${Math.floor(absolute / 100)}.${String(absolute % 100).padStart(2, '0')}`;
}

/** RFC 4180 CSV with a header row, by csv-stringify (loaded only when a CSV is written). */
export async function toCsv(header: string[], rows: CsvCell[][]): Promise<string> {
  const { stringify } = await import('csv-stringify/sync');
  return stringify([header, ...rows.map((row) => row.map((cell) => (cell === null ? '' : cell)))], { record_delimiter: '\n' });
}
