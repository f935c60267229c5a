import { extname } from 'node:path';
import { CreditsError } from '../core/errors.js';
import type { CommandInput } from './spec.js';

/** A string option as given, or undefined; commander gives `true` only for flags without value. */
export function stringOption(input: CommandInput, key: string): string | undefined {
  const value = input.options[key];
  return typeof value === 'string' ? value : undefined;
}

/** Every value of a repeatable option, in the order given; [] when it was left out. */
export function listOption(input: CommandInput, key: string): string[] {
  const value = input.options[key];
  if (Array.isArray(value)) return value;
  return typeof value === 'string' ? [value] : [];
}

export function flagOption(input: CommandInput, key: string): boolean {
  return input.options[key] === true;
}

export function parseLimit(text: string | undefined, field = '--limit', fallback = 50): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,6}$/.test(text.trim()) || Number(text) < 1) {
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not a count`, { hint: `${field} takes a whole number from 1 to 999999` });
  }
  return Number(text);
}

export function parseId(text: string, field: string): number {
  const trimmed = text.trim().replace(/^#/, '');
  if (!/^\d{1,15}$/.test(trimmed) || Number(trimmed) < 1) {
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not an id`, { hint: `${field} is a whole number like 12` });
  }
  return Number(trimmed);
}

export const FILE_FORMATS = ['table', 'json', 'csv', 'pdf', 'datev', 'xrechnung', 'zugferd'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

/** `--format` as given, else the --output file's extension, else `fallback`. */
export function chooseFormat(format: string | undefined, output: string | undefined, allowed: readonly FileFormat[], fallback: FileFormat): FileFormat {
  const fromExtension = output === undefined ? undefined : extname(output).slice(1).toLowerCase();
  const chosen = format ?? (fromExtension && (allowed as readonly string[]).includes(fromExtension) ? fromExtension : undefined) ?? fallback;
  if (!(allowed as readonly string[]).includes(chosen)) {
    throw new CreditsError('INVALID_VALUE', `--format "${chosen}" is not one of ${allowed.join(', ')}`, { hint: `use --format ${allowed.join('|')}` });
  }
  return chosen as FileFormat;
}
