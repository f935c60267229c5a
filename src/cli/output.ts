import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { CreditsError } from '../core/errors.js';

export const FILE_FORMATS = ['table', 'json', 'csv', 'pdf'] as const;
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

/** A temp file beside the target, renamed over it: a reader never sees half a file. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
}

export function checkOutputPath(path: string): void {
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // A missing file is what we expect; a missing folder fails at write time with its own message.
  }
  if (isDirectory) throw new CreditsError('INVALID_VALUE', `--output ${path} is a directory`, { hint: 'name a file, like report.csv' });
}

export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  checkOutputPath(path);
  const temporary = temporaryPathFor(path);
  try {
    writeFileSync(temporary, content);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    const reason = error instanceof Error ? error.message : String(error);
    throw new CreditsError('INVALID_VALUE', `--output ${path} cannot be written: ${reason}`, { hint: 'check that the folder exists and is writable' });
  }
}
