import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { OutputFile } from '../app/spec.js';
import { CreditsError } from '../core/errors.js';

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

/**
 * Writes a command's file where the user asked: standard output for `--output -` (nothing else is
 * printed then), else the named file, atomically. Returns where it went.
 */
export function deliverFile(file: OutputFile, path: string | undefined, stdout: NodeJS.WritableStream): 'stdout' | 'file' {
  if (path === '-') {
    stdout.write(file.bytes);
    return 'stdout';
  }
  writeFileAtomic(path ?? file.name, file.bytes);
  return 'file';
}
