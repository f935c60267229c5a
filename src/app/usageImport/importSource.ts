import { isAscii, isUtf8 } from 'node:buffer';
import { createReadStream, existsSync, fstatSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { CreditsError, isCreditsError } from '../../core/errors.js';
import { csvDelimiterName, CsvRecordReader, detectCsvDelimiter, splitCsvRow, type CsvDelimiter } from '../../core/csv.js';
import { parseUsageRecord, USAGE_FIELDS } from '../../core/usageRecord.js';
import type { ImportItem } from '../../store/ops/usage.js';

export type ImportFormat = 'jsonl' | 'csv';
export const IMPORT_BATCH_SIZE = 5000;

const MAX_LINE_CHARS = 64 * 1024;

function badFile(message: string, hint?: string): CreditsError {
  return new CreditsError('INVALID_INPUT_FILE', message, hint === undefined ? {} : { hint });
}

/** A file's content given as bytes, with the name it had where it came from. */
export type InMemoryFile = { name: string; bytes: Uint8Array };

function formatFromName(input: Readable | string | InMemoryFile): ImportFormat | undefined {
  if (input instanceof Readable) return undefined;
  const extension = extname(typeof input === 'string' ? input : input.name).toLowerCase();
  if (extension === '.csv' || extension === '.tsv') return 'csv';
  if (extension === '.jsonl' || extension === '.ndjson' || extension === '.json') return 'jsonl';
  return undefined;
}

/** Stands for a line that is not UTF-8 text (or holds a NUL byte): no decoded line contains NUL. */
const NOT_TEXT_LINE = '\u0000';

/**
 * The lines of whole-line bytes. ASCII, the usual case, decodes as latin1, several times faster
 * than UTF-8; a line that is not UTF-8 text becomes NOT_TEXT_LINE, so that one bad byte costs its
 * line (reported by number like any malformed line), not the whole import.
 */
function decodeLines(bytes: Buffer): string[] {
  const hasNul = bytes.indexOf(0) !== -1;
  if (!hasNul && isAscii(bytes)) return bytes.toString('latin1').split('\n');
  if (!hasNul && isUtf8(bytes)) return bytes.toString('utf8').split('\n');
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const end = bytes.indexOf(NEWLINE, start);
    const line = bytes.subarray(start, end === -1 ? bytes.length : end);
    lines.push(line.indexOf(0) === -1 && isUtf8(line) ? line.toString('utf8') : NOT_TEXT_LINE);
    if (end === -1) return lines;
    start = end + 1;
  }
}

/**
 * Splits a stream into lines without holding more than one chunk and one partial line. Lines
 * are cut from the bytes (a newline byte never occurs inside a UTF-8 sequence) and each chunk's
 * whole lines are decoded at once.
 */
async function* lineChunks(chunks: AsyncIterable<Buffer | string>, sourceName: string): AsyncGenerator<string[]> {
  let pending: Buffer = Buffer.alloc(0);
  let sawLine = false;
  for await (const chunk of chunks) {
    const bytes: Buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const lastNewline = bytes.lastIndexOf(NEWLINE);
    if (lastNewline === -1) {
      pending = pending.length === 0 ? bytes : Buffer.concat([pending, bytes]);
    } else {
      // Only the partial line carried over is copied, joined with the head of this chunk.
      const firstNewline = bytes.indexOf(NEWLINE);
      const head = pending.length === 0 ? bytes.subarray(0, firstNewline) : Buffer.concat([pending, bytes.subarray(0, firstNewline)]);
      const lines = firstNewline === lastNewline ? decodeLines(head) : [...decodeLines(head), ...decodeLines(bytes.subarray(firstNewline + 1, lastNewline))];
      pending = bytes.subarray(lastNewline + 1);
      sawLine = true;
      yield lines;
    }
    // Bytes count at least one per character: decode only when the bytes alone may be too long.
    if (pending.length > MAX_LINE_CHARS) {
      const [line = ''] = decodeLines(pending);
      if (line === NOT_TEXT_LINE && !sawLine) throw notText(sourceName);
      if (line.length > MAX_LINE_CHARS) throw badFile(`a line is longer than ${MAX_LINE_CHARS} characters`, 'put one event per line');
    }
  }
  if (pending.length > 0) yield decodeLines(pending);
}

const NEWLINE = 0x0a;

function notText(sourceName: string): CreditsError {
  return badFile(`${sourceName} is not UTF-8 text (is it a binary file?)`, 'import JSON lines or CSV');
}

/** The fields of one JSON line. */
function jsonFields(line: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw badFile(
      'is not valid JSON',
      'each line must be one JSON object such as {"eventId":"e1","user":"ada@example.com","model":"gpt-4o","inputTokens":523}',
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badFile('is not a JSON object');
  if (topLevelKeySpans(line).length !== Object.keys(value).length) throw badFile(`has the field "${repeatedKey(line)}" twice`, 'give each field once');
  // The one object a line holds (tags) is held to the same rule: a tag given twice is no "last one wins" either.
  if (line.indexOf('{', 1) !== -1 && keySpans(line, 2).length !== innerKeyCount(value as Record<string, unknown>))
    throw badFile('names a key twice inside a field (tags)', 'give each tag once');
  return value as Record<string, unknown>;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/**
 * Where the keys of the object on a line (valid JSON) are, at its top level, repeats included:
 * JSON.parse folds a repeated key into one ("last one wins"), so fewer parsed keys than spans
 * means a field was given twice. One pass over the characters, without decoding any key.
 */
function topLevelKeySpans(line: string): [number, number][] {
  return keySpans(line, 1);
}

/** How many keys the objects directly inside a line's object hold (the tags' keys). */
function innerKeyCount(value: Record<string, unknown>): number {
  let count = 0;
  for (const inner of Object.values(value)) if (inner !== null && typeof inner === 'object' && !Array.isArray(inner)) count += Object.keys(inner).length;
  return count;
}

/** The key spans of the objects at this depth (1: the line's own object, 2: objects in its fields). */
function keySpans(line: string, wanted: number): [number, number][] {
  let depth = 0;
  const spans: [number, number][] = [];
  for (let index = 0; index < line.length; index += 1) {
    const code = line.charCodeAt(index);
    if (code === QUOTE) {
      const start = index;
      index += 1;
      while (index < line.length && line.charCodeAt(index) !== QUOTE) index += line.charCodeAt(index) === BACKSLASH ? 2 : 1;
      let next = index + 1;
      while (next < line.length && line.charCodeAt(next) <= 0x20) next += 1;
      if (depth === wanted && line.charCodeAt(next) === COLON) spans.push([start, index + 1]);
    } else if (code === 0x7b || code === 0x5b) depth += 1;
    else if (code === 0x7d || code === 0x5d) depth -= 1;
  }
  return spans;
}

/** The first key a line's object names twice (decoded: "a" and "\u0061" are one key). */
function repeatedKey(line: string): string {
  const seen = new Set<string>();
  for (const [from, to] of topLevelKeySpans(line)) {
    const key = JSON.parse(line.slice(from, to)) as string;
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return '?';
}

const COLUMNS_HINT = `the columns are ${USAGE_FIELDS.join(', ')}, separated by , or ; or a tab`;

/**
 * The columns of a CSV header line, split by the delimiter given (--delimiter) or else by the
 * one that makes them all known column names.
 */
function csvHeader(headerLine: string, given: CsvDelimiter | undefined): { columns: string[]; delimiter: CsvDelimiter } {
  const detected = given === undefined ? detectCsvDelimiter(headerLine, USAGE_FIELDS) : undefined;
  const delimiter = given ?? detected ?? ',';
  const columns = splitCsvRow(headerLine, delimiter)?.map((cell) => cell.trim());
  if (!columns || columns.length === 0) throw badFile('line 1: the CSV header cannot be read');
  const known: ReadonlySet<string> = new Set(USAGE_FIELDS);
  const unknown = columns.filter((column) => !known.has(column));
  if (unknown.length > 0) {
    const other = given === undefined ? undefined : detectCsvDelimiter(headerLine, USAGE_FIELDS);
    throw badFile(
      `line 1: unknown CSV column${unknown.length > 1 ? 's' : ''} ${unknown.map((column) => `"${column}"`).join(', ')}`,
      other === undefined ? COLUMNS_HINT : `the header is separated by ${quotedDelimiter(other)}: give --delimiter ${csvDelimiterName(other)}, or leave it out`,
    );
  }
  const twice = columns.find((column, index) => columns.indexOf(column) !== index);
  if (twice !== undefined) throw badFile(`line 1: the CSV header names the column "${twice}" twice`, 'give each column once');
  for (const required of ['eventId', 'user', 'model']) {
    if (!columns.includes(required)) throw badFile(`line 1: the CSV header has no "${required}" column`, COLUMNS_HINT);
  }
  return { columns, delimiter };
}

function quotedDelimiter(delimiter: CsvDelimiter): string {
  return delimiter === '\t' ? 'tabs' : `"${delimiter}"`;
}

/** One CSV record as fields by column name. */
function csvFields(columns: readonly string[], cells: readonly string[]): Record<string, unknown> {
  if (cells.length !== columns.length) throw badFile(`has ${cells.length} columns, the header has ${columns.length}`);
  const raw: Record<string, unknown> = {};
  for (let index = 0; index < columns.length; index += 1) raw[columns[index]!] = cells[index];
  return raw;
}

/** Reads the records after a CSV header line, each as fields by column name. */
function csvReader(
  headerLine: string,
  given: CsvDelimiter | undefined,
  post: (line: number, raw: Record<string, unknown>) => void,
  fail: (line: number, error: unknown) => void,
): CsvRecordReader {
  const { columns, delimiter } = csvHeader(headerLine, given);
  const onRecord = (cells: string[], line: number): void => {
    let raw: Record<string, unknown>;
    try {
      raw = csvFields(columns, cells);
    } catch (error) {
      fail(line, error);
      return;
    }
    post(line, raw);
  };
  return new CsvRecordReader(delimiter, onRecord, (line, message) => fail(line, badFile(message)));
}

function sniff(firstLine: string): ImportFormat {
  return firstLine.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}

/** What parsing a source needs besides its bytes: plain data, so the parse thread gets it too. */
export type ParseOptions = {
  timeZone: string;
  nowMs: number;
  format: ImportFormat | undefined;
  /** CSV only: the field separator given (--delimiter); undefined detects it from the header line. */
  delimiter?: CsvDelimiter | undefined;
  sourceName: string;
};

/**
 * Parses the bytes of an import into batches of about IMPORT_BATCH_SIZE (a CSV record spanning
 * lines may add a few), each item a parsed record or the error of its line. Holds one batch and
 * one chunk, whatever the size. A CSV record is numbered by the line it starts on.
 */
export async function* parseUsageChunks(chunks: AsyncIterable<Buffer | string>, options: ParseOptions): AsyncGenerator<ImportItem[]> {
  let batch: ImportItem[] = [];
  let lineNumber = 0;
  let content: 'none' | 'jsonl' | 'csv' = 'none';
  let csv: CsvRecordReader | undefined;
  const parseOptions = { timeZone: options.timeZone, nowMs: options.nowMs, requireEventId: true, fieldNames: 'fields' } as const;
  const fail = (line: number, error: unknown): void => {
    if (!isCreditsError(error)) throw error;
    const message = error.code === 'INVALID_INPUT_FILE' ? `line ${line} ${error.message}` : `line ${line}: ${error.message}`;
    batch.push({ line, error: new CreditsError('INVALID_INPUT_FILE', message, error.hint === undefined ? {} : { hint: error.hint }) });
  };
  const post = (line: number, raw: Record<string, unknown>): void => {
    try {
      batch.push({ line, record: parseUsageRecord(raw, parseOptions) });
    } catch (error) {
      fail(line, error);
    }
  };
  const postJson = (line: string, lineNumber: number): void => {
    let raw: Record<string, unknown>;
    try {
      raw = jsonFields(line);
    } catch (error) {
      fail(lineNumber, error);
      return;
    }
    post(lineNumber, raw);
  };
  for await (const chunk of lineChunks(chunks, options.sourceName)) {
    for (const rawLine of chunk) {
      lineNumber += 1;
      if (rawLine === NOT_TEXT_LINE) {
        // A file that is not text from its first line is refused whole; later, the line is skipped.
        if (content === 'none') throw notText(options.sourceName);
        csv?.end(`has a quoted field that runs into line ${lineNumber}, which is not text`);
        batch.push({ line: lineNumber, error: badFile(`line ${lineNumber} is not UTF-8 text (or holds a NUL byte)`, 'save the file as UTF-8') });
        continue;
      }
      let line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
      // Windows tools start UTF-8 files with a byte order mark; it is not part of the first line.
      if (lineNumber === 1 && line.startsWith('\uFEFF')) line = line.slice(1);
      if (csv !== undefined) csv.push(line, lineNumber);
      else if (line.trim() === '') continue;
      else if (content === 'jsonl') postJson(line, lineNumber);
      else {
        // The first line says what the rest is: a CSV header, or the first JSON event.
        content = options.format ?? (options.delimiter === undefined ? sniff(line) : 'csv');
        if (content === 'jsonl') postJson(line, lineNumber);
        else csv = csvReader(line, options.delimiter, post, fail);
      }
      if (batch.length >= IMPORT_BATCH_SIZE) {
        yield batch;
        batch = [];
      }
    }
  }
  csv?.end();
  if (content === 'none') throw badFile(`${options.sourceName} is empty`, 'import JSON lines or CSV with at least one event');
  if (batch.length > 0) yield batch;
}

/**
 * Reads usage events from a file, `-` (standard input) or a stream, in batches (see
 * parseUsageChunks). A large file, or a pipe, is read and parsed on a second thread while this
 * one posts (importThread.ts): reading and checking the lines was a third of an import's time,
 * and machines have two cores.
 */
export function openUsageSource(
  input: Readable | string | InMemoryFile,
  options: { timeZone: string; nowMs: number; format?: ImportFormat | undefined; delimiter?: CsvDelimiter | undefined },
): UsageSource {
  const parseOptions: ParseOptions = {
    timeZone: options.timeZone,
    nowMs: options.nowMs,
    // A delimiter says the file is CSV, whatever its name.
    format: options.format ?? (options.delimiter === undefined ? formatFromName(input) : 'csv'),
    delimiter: options.delimiter,
    sourceName: sourceNameOf(input),
  };
  if (!(input instanceof Readable) && typeof input !== 'string')
    return { parser: 'inline', batches: inlineBatches(Readable.from([input.bytes]), parseOptions) };
  const source = typeof input === 'string' ? sourceOf(input) : undefined;
  const workerPath = source !== undefined && wantsThread(source) ? parseWorkerPath() : undefined;
  if (workerPath !== undefined && source !== undefined) return { parser: 'thread', batches: threadBatches(workerPath, source.path, parseOptions) };
  return { parser: 'inline', batches: inlineBatches(input, parseOptions) };
}

function sourceNameOf(input: Readable | string | InMemoryFile): string {
  if (input instanceof Readable || input === '-') return 'standard input';
  return `FILE "${typeof input === 'string' ? input : input.name}"`;
}

/** The batches of a source, and where they are parsed: on a second thread or on this one. */
export type UsageSource = { parser: 'thread' | 'inline'; batches: AsyncGenerator<ImportItem[]> };

async function* threadBatches(workerPath: string, path: string | null, options: ParseOptions): AsyncGenerator<ImportItem[]> {
  const { parseInThread } = await import('./importThread.js');
  yield* parseInThread(workerPath, path, options);
}

async function* inlineBatches(input: Readable | string, options: ParseOptions): AsyncGenerator<ImportItem[]> {
  const stream = typeof input !== 'string' ? input : input === '-' ? process.stdin : openStream(input);
  try {
    yield* parseUsageChunks(stream, options);
  } finally {
    if (typeof input === 'string' && input !== '-') stream.destroy();
  }
}

/**
 * A file to read by path, or standard input (path null), checked here so that a wrong path fails
 * before any thread starts. A pipe's size is unknown; a terminal is read on this thread, where
 * process.stdin knows terminals.
 */
type Source = { path: string | null; sizeBytes: number | null; terminal: boolean };

function sourceOf(input: string): Source {
  if (input === '-') {
    const stats = fstatSync(0);
    return { path: null, sizeBytes: stats.isFile() ? stats.size : null, terminal: stats.isCharacterDevice() };
  }
  return { path: input, sizeBytes: checkedInputFile(input), terminal: false };
}

/** The size of the import file at `path`, or INVALID_INPUT_FILE when there is no such file (also for remote mode). */
export function checkedInputFile(path: string): number {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch {
    throw badFile(`FILE "${path}" does not exist`, 'give the path of a .jsonl or .csv file, or - to read standard input');
  }
  if (!stats.isFile()) throw badFile(`FILE "${path}" is not a file`, 'give the path of a .jsonl or .csv file, or - to read standard input');
  return stats.size;
}

/** Opens a checked source (see sourceOf); also used by the parse thread. */
export function openStream(path: string | null): Readable {
  if (path !== null) return createReadStream(path, { highWaterMark: 1 << 20 });
  // A pipe may be non-blocking (spawnSync's input is): read through libuv's stream, which waits
  // for data, rather than fs.read, which then fails with EAGAIN.
  const stats = fstatSync(0);
  if (stats.isFIFO() || stats.isSocket()) return new Socket({ fd: 0, readable: true, writable: false });
  return createReadStream('', { fd: 0, autoClose: false, highWaterMark: 1 << 20 });
}

/** Below this many bytes starting a thread costs more than it saves. */
const PARSE_THREAD_MIN_BYTES = 1 << 20;

/** CREDITS_IMPORT_THREAD: on (always parse on a second thread), off (never), else a pipe or a large file. */
function wantsThread(source: Source): boolean {
  const mode = process.env.CREDITS_IMPORT_THREAD;
  if (mode === 'on' || mode === 'off') return mode === 'on';
  if (source.terminal) return false;
  return source.sizeBytes === null || source.sizeBytes >= PARSE_THREAD_MIN_BYTES;
}

/** The built parse thread's script, beside the CLI bundle; absent when running from the sources. */
function parseWorkerPath(): string | undefined {
  const path = fileURLToPath(new URL('./importWorker.cjs', import.meta.url));
  return existsSync(path) ? path : undefined;
}
