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

/** A plain-bordered table that fits the terminal; right-aligned columns hold numbers. */
export function table(options: RenderOptions, columns: Column[], rows: string[][]): string {
  const chalk = palette(options);
  const instance = new Table({
    head: columns.map((column) => chalk.bold(column.header)),
    colAligns: columns.map((column) => column.align ?? 'left'),
    style: { head: [], border: [], compact: true },
    wordWrap: true,
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows) instance.push(row);
  return instance.toString();
}
