import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';

export type RenderOptions = { color: boolean; width: number; timeZone: string };

export function palette(options: RenderOptions): ChalkInstance {
  return new Chalk({ level: options.color ? 1 : 0 });
}

/** Low balances stand out: red at or under 10% left, yellow at or under 20%. */
export function percentColour(chalk: ChalkInstance, percent: number | null, text: string): string {
  if (percent === null) return text;
  if (percent <= 10) return chalk.red(text);
  if (percent <= 20) return chalk.yellow(text);
  return chalk.green(text);
}

export type Column = { header: string; align?: 'left' | 'right' };

const ANSI = /\u001b\[[0-9;]*m/g;

/** Columns a text takes on screen: colour codes take none; a cell of several lines is as wide as its widest. */
export function visibleWidth(text: string): number {
  return Math.max(
    0,
    ...text
      .replace(ANSI, '')
      .split('\n')
      .map((line) => line.length),
  );
}

/** The narrowest a text column becomes before the table is allowed to overflow the terminal instead. */
const MIN_TEXT_COLUMN = 10;

/**
 * Column widths (padding included, as cli-table3 counts them) that make the table fit `width`, or
 * null when it fits as it is. Numbers keep their width, since a wrapped amount is misread; text
 * columns give way, the widest first, down to MIN_TEXT_COLUMN characters.
 */
export function fitColumnWidths(columns: Column[], rows: string[][], width: number): number[] | null {
  const natural = columns.map((column, index) => Math.max(visibleWidth(column.header), ...rows.map((row) => visibleWidth(row[index] ?? ''))) + 2);
  // One border left of every column and one at the end.
  const total = natural.reduce((sum, columnWidth) => sum + columnWidth, 0) + columns.length + 1;
  if (total <= width) return null;
  const widths = [...natural];
  const floor = natural.map((columnWidth, index) => (columns[index]?.align === 'right' ? columnWidth : Math.min(columnWidth, MIN_TEXT_COLUMN + 2)));
  let excess = total - width;
  while (excess > 0) {
    let widest = -1;
    for (let index = 0; index < widths.length; index += 1) {
      if (widths[index]! > floor[index]! && (widest < 0 || widths[index]! > widths[widest]!)) widest = index;
    }
    if (widest < 0) break;
    widths[widest] = widths[widest]! - 1;
    excess -= 1;
  }
  return widths;
}

/** A plain-bordered table that fits the terminal; right-aligned columns hold numbers. */
export function table(options: RenderOptions, columns: Column[], rows: string[][]): string {
  const chalk = palette(options);
  const colWidths = fitColumnWidths(columns, rows, options.width);
  const instance = new Table({
    head: columns.map((column) => chalk.bold(column.header)),
    colAligns: columns.map((column) => column.align ?? 'left'),
    ...(colWidths ? { colWidths } : {}),
    style: { head: [], border: [], compact: true },
    wordWrap: true,
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows) instance.push(row);
  return instance.toString();
}
