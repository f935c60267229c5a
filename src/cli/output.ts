import { createWriteStream, lstatSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { OutputFile, OutputStream } from '../app/spec.js';
import { CreditsError } from '../core/errors.js';

/** A temp file beside the target, renamed over it: a reader never sees half a file. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
}

export function checkOutputPath(path: string): void {
  const kind = targetKind(path);
  if (kind === 'directory') throw new CreditsError('INVALID_VALUE', `--output ${path} is a directory`, { hint: 'name a file, like report.csv' });
  if (kind === 'refused')
    throw new CreditsError('INVALID_VALUE', `--output ${path} is a block device or a socket: refusing to write into it`, {
      hint: 'name a regular file, a pipe (FIFO), or - for standard output',
    });
}

/** What --output names, its symlinks followed: written in place when it is a pipe or a terminal. */
function targetKind(path: string): 'missing' | 'file' | 'directory' | 'stream' | 'refused' {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch {
    // A missing file is what we expect; a missing folder fails at write time with its own message.
    return 'missing';
  }
  if (stats.isDirectory()) return 'directory';
  if (stats.isFIFO() || stats.isCharacterDevice()) return 'stream';
  if (stats.isFile()) return 'file';
  return 'refused';
}

/**
 * The file a path names once its symlinks are followed, so that the rename replaces the target
 * and not the link; a dangling link names the file it would create.
 */
function followLinks(path: string): string {
  for (let hops = 0; hops < 40; hops += 1) {
    let link: string;
    try {
      if (!lstatSync(path).isSymbolicLink()) return path;
      link = readlinkSync(path);
    } catch {
      return path;
    }
    path = resolve(dirname(path), link);
  }
  return path;
}

function writeFailure(path: string, error: unknown): CreditsError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = error instanceof Error ? error.message : String(error);
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EIO')
    return new CreditsError('STORAGE_UNAVAILABLE', `--output ${path} cannot be written: ${reason}`, { hint: 'free space on that disk and run again' });
  return new CreditsError('INVALID_VALUE', `--output ${path} cannot be written: ${reason}`, { hint: 'check that the folder exists and is writable' });
}

/**
 * Writes a regular file atomically (a temp file renamed over the target, through symlinks); a
 * pipe or a character device is written into, never replaced by a file.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  checkOutputPath(path);
  const target = followLinks(path);
  if (targetKind(target) === 'stream') {
    try {
      writeFileSync(target, content);
    } catch (error) {
      throw writeFailure(path, error);
    }
    return;
  }
  const temporary = temporaryPathFor(target);
  try {
    writeFileSync(temporary, content);
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw writeFailure(path, error);
  }
}

/**
 * Writes a command's file where the user asked: standard output for `--output -` (nothing else is
 * printed then), else the named file, atomically. Returns where it went.
 */
export function deliverFile(file: OutputFile, path: string | undefined, stdout: NodeJS.WritableStream): 'stdout' | 'file' {
  // A streamed export sent back by a server: it names standard output when no --output was given.
  if (path === '-' || (path === undefined && file.name === '-')) {
    stdout.write(file.bytes);
    return 'stdout';
  }
  writeFileAtomic(path ?? file.name, file.bytes);
  return 'file';
}

/** A stream that cannot take more: its reader closed the pipe (`| head`), or it failed. */
function isClosed(out: NodeJS.WritableStream): boolean {
  const state = out as NodeJS.WritableStream & { destroyed?: boolean; writableEnded?: boolean };
  return state.destroyed === true || state.writableEnded === true;
}

/** Resolves when `out` may take more (or will never: closed, failed). */
function drained(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      out.off('error', done);
      resolve();
    };
    out.once('drain', done);
    out.once('close', done);
    out.once('error', done);
  });
}

/**
 * Writes the chunks as they come, waiting whenever `out` is full: one chunk in memory at a time.
 * A reader that goes away ends the writing quietly; `failure` reports an error of `out` itself.
 */
async function writeChunks(out: NodeJS.WritableStream, chunks: AsyncIterable<string>, failure: () => unknown): Promise<void> {
  for await (const chunk of chunks) {
    if (failure() !== undefined || isClosed(out)) return;
    if (!out.write(chunk)) await drained(out);
  }
}

/**
 * Writes a streamed file (an export too big to hold) where the user asked: standard output for
 * `--output -` or no --output, else the named file, atomically like writeFileAtomic (a temp file
 * renamed over the target when it is complete; a pipe or character device is written into).
 */
export async function deliverStream(stream: OutputStream, path: string | undefined, stdout: NodeJS.WritableStream): Promise<'stdout' | 'file'> {
  const target = path ?? stream.name;
  if (target === '-') {
    await writeChunks(stdout, stream.chunks, () => undefined);
    return 'stdout';
  }
  checkOutputPath(target);
  const resolved = followLinks(target);
  const inPlace = targetKind(resolved) === 'stream';
  const written = inPlace ? resolved : temporaryPathFor(resolved);
  const file = createWriteStream(written);
  let error: unknown;
  file.on('error', (caught) => {
    error = caught;
  });
  try {
    await writeChunks(file, stream.chunks, () => error);
    await new Promise<void>((resolveEnd, reject) => {
      if (error !== undefined) reject(error);
      else file.end((ended?: Error | null) => (ended ? reject(ended) : error !== undefined ? reject(error) : resolveEnd()));
    });
    if (!inPlace) renameSync(written, resolved);
  } catch (caught) {
    file.destroy();
    if (!inPlace) rmSync(written, { force: true });
    if (caught instanceof CreditsError) throw caught;
    throw writeFailure(target, caught);
  }
  return 'file';
}
