import { formatCount, formatCredits, formatEuros } from '../format.js';
import { csvCents, csvCredits, toCsv } from '../csv.js';
import { palette, table, type RenderOptions } from '../style.js';
import type { ReportData } from '../../app/documentTypes.js';

const GROUP_TITLES: Record<string, [string, string | null]> = {
  user: ['User', 'Department'],
  dept: ['Department', 'Cost centre'],
  model: ['Model', 'Tier'],
  feature: ['Feature', null],
  day: ['Day', null],
};

/** A tag report's key column is the tag (`Tag project`); the other groupings have titles of their own. */
function titlesOf(by: string): [string, string | null] {
  if (by.startsWith('tag:')) return [`Tag ${by.slice(4)}`, null];
  return GROUP_TITLES[by] ?? [by, null];
}

/** Events without the tag of a tag report: their row has no key. */
const UNTAGGED = '(untagged)';

export function reportCsv(data: ReportData): Promise<string> {
  const [title, detail] = titlesOf(data.by);
  const header = [
    title.toLowerCase().replace(' ', '_'),
    ...(detail ? [detail.toLowerCase().replace(' ', '_')] : []),
    'events',
    'credits',
    'euros',
    'share_percent',
  ];
  const rows = data.rows.map((row) => [
    row.key,
    ...(detail ? [row.detail] : []),
    row.events,
    csvCredits(row.millicredits),
    csvCents(row.valueCents),
    row.sharePercent.toFixed(1),
  ]);
  // Reversals booked in the period: one row with the usage given back, so the rows add up to the net.
  const reversals = data.reversals;
  if (reversals !== undefined && reversals.events > 0)
    rows.push(['reversals', ...(detail ? [null] : []), -reversals.events, csvCredits(-reversals.millicredits), csvCents(-reversals.valueCents), null]);
  return toCsv(header, rows);
}

export const reportViews = {
  report(data: ReportData, options: RenderOptions): string {
    const chalk = palette(options);
    const [title, detail] = titlesOf(data.by);
    const heading = `${chalk.bold('Usage')} by ${title.toLowerCase()}, ${data.period.label}${data.department ? `, ${data.department}` : ''}`;
    const reversals = data.reversals;
    const reversalLine =
      reversals !== undefined && reversals.events > 0 && data.net !== undefined
        ? `\nReversed in this period: ${formatCount(reversals.events)} event${reversals.events === 1 ? '' : 's'}, -${formatCredits(reversals.millicredits)} credits (-${formatEuros(reversals.valueCents)}); net ${formatCredits(data.net.millicredits)} credits (${formatEuros(data.net.valueCents)}).`
        : '';
    if (data.rows.length === 0) return `${heading}\nNo usage in this period.${reversalLine}`;
    const rows = data.rows.map((row) => [
      row.key ?? chalk.dim(UNTAGGED),
      ...(detail ? [row.detail ?? ''] : []),
      formatCount(row.events),
      formatCredits(row.millicredits),
      formatEuros(row.valueCents),
      `${row.sharePercent.toFixed(1)}%`,
    ]);
    rows.push([
      chalk.bold('Total'),
      ...(detail ? [''] : []),
      chalk.bold(formatCount(data.totals.events)),
      chalk.bold(formatCredits(data.totals.millicredits)),
      chalk.bold(formatEuros(data.totals.valueCents)),
      chalk.bold(`${data.totals.sharePercent.toFixed(1)}%`),
    ]);
    const columns = [
      { header: title },
      ...(detail ? [{ header: detail }] : []),
      { header: 'Events', align: 'right' as const },
      { header: 'Credits', align: 'right' as const },
      { header: 'Value', align: 'right' as const },
      { header: 'Share', align: 'right' as const },
    ];
    return `${heading}\n${table(options, columns, rows).replace(/\n$/, '')}${reversalLine}`;
  },

  fileWritten(data: { path: string; format: string; rows?: number; bytes: number }): string {
    return `Wrote ${data.path} (${data.format}${data.rows === undefined ? '' : `, ${formatCount(data.rows)} rows`}, ${formatCount(data.bytes)} bytes).`;
  },
};
