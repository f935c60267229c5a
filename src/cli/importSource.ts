import { isAscii } from 'node:buffer';
import { createReadStream, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import { CreditsError, isCreditsError } from '../core/errors.js';
import { parseUsageRecord, USAGE_FIELDS } from '../core/usageRecord.js';
import type { ImportItem } from '../store/ops/usage.js';

export type ImportFormat = 'jsonl' | 'csv';
export const IMPORT_BATCH_SIZE = 5000;

const MAX_LINE_CHARS = 64 * 1024;

function badFile(message: string, hint?: string): CreditsError {
  return new CreditsError('INVALID_INPUT_FILE', message, hint === undefined ? {} : { hint });
}

function openSource(input: Readable | string): Readable {
  if (typeof input !== 'string') return input;
  let isFile: boolean;
  try {
    isFile = statSync(input).isFile();
  } catch {
    throw badFile(`FILE "${input}" does not exist`, 'give the path of a .jsonl or .csv file, or - to read standard input');
  }
  if (!isFile) throw badFile(`FILE "${input}" is not a file`, 'give the path of a .jsonl or .csv file, or - to read standard input');
  return createReadStream(input, { highWaterMark: 1 << 20 });
}

function formatFromName(input: Readable | string): ImportFormat | undefined {
  if (typeof input !== 'string') return undefined;
  const extension = extname(input).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (extension === '.jsonl' || extension === '.ndjson' || extension === '.json') return 'jsonl';
  return undefined;
}

/**
 * Splits a stream into lines without holding more than one chunk and one partial line. Lines
 * are cut from the bytes (a newline byte never occurs inside a UTF-8 sequence) and each chunk's
 * whole lines are decoded at once: ASCII, the usual case, as latin1, which is several times
 * faster than a streaming UTF-8 decoder. Invalid UTF-8 decodes to U+FFFD, which with NUL bytes
 * marks a binary file.
 */
async function* lineChunks(stream: Readable, sourceName: string): AsyncGenerator<string[]> {
  let pending: Buffer = Buffer.alloc(0);
  const decode = (bytes: Buffer): string => {
    if (bytes.indexOf(0) !== -1) throw notText(sourceName);
    if (isAscii(bytes)) return bytes.toString('latin1');
    const text = bytes.toString('utf8');
    if (text.includes('\uFFFD')) throw notText(sourceName);
    return text;
  };
  for await (const chunk of stream) {
    const bytes: Buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    const lastNewline = bytes.lastIndexOf(NEWLINE);
    if (lastNewline === -1) {
      pending = pending.length === 0 ? bytes : Buffer.concat([pending, bytes]);
    } else {
      // Only the partial line carried over is copied, joined with the head of this chunk.
      const firstNewline = bytes.indexOf(NEWLINE);
      const head = pending.length === 0 ? bytes.subarray(0, firstNewline) : Buffer.concat([pending, bytes.subarray(0, firstNewline)]);
      const lines = firstNewline === lastNewline ? [decode(head)] : [decode(head), ...decode(bytes.subarray(firstNewline + 1, lastNewline)).split('\n')];
      pending = bytes.subarray(lastNewline + 1);
      yield lines;
    }
    // Bytes count at least one per character: decode only when the bytes alone may be too long.
    if (pending.length > MAX_LINE_CHARS && decode(pending).length > MAX_LINE_CHARS) throw badFile(`a line is longer than ${MAX_LINE_CHARS} characters`, 'put one event per line');
  }
  if (pending.length > 0) yield [decode(pending)];
}

const NEWLINE = 0x0a;

function notText(sourceName: string): CreditsError {
  return badFile(`${sourceName} is not UTF-8 text (is it a binary file?)`, 'import JSON lines or CSV');
}

/** Splits one CSV row (RFC 4180 quoting, no embedded newlines: one event per line). */
export function splitCsvRow(row: string): string[] | null {
  if (!row.includes('"')) return row.split(',');
  const cells: string[] = [];
  let cell = '';
  let index = 0;
  let quoted = false;
  while (index < row.length) {
    const char = row[index]!;
    if (quoted) {
      if (char === '"') {
        if (row[index + 1] === '"') {
          cell += '"';
          index += 1;
        } else quoted = false;
      } else cell += char;
    } else if (char === '"') {
      if (cell !== '') return null;
      quoted = true;
    } else if (char === ',') {
      cells.push(cell);
      cell = '';
    } else cell += char;
    index += 1;
  }
  if (quoted) return null;
  cells.push(cell);
  return cells;
}

type LineParser = (line: string, lineNumber: number) => Record<string, unknown>;

function jsonParser(): LineParser {
  return (line) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw badFile('is not valid JSON', 'each line must be one JSON object such as {"eventId":"e1","user":"ada@example.com","model":"gpt-4o","inputTokens":523}');
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badFile('is not a JSON object');
    return value as Record<string, unknown>;
  };
}

function csvParser(headerLine: string): LineParser {
  const header = splitCsvRow(headerLine)?.map((cell) => cell.trim());
  if (!header || header.length === 0) throw badFile('line 1: the CSV header cannot be read');
  const known: ReadonlySet<string> = new Set(USAGE_FIELDS);
  const unknown = header.filter((column) => !known.has(column));
  if (unknown.length > 0) {
    throw badFile(`line 1: unknown CSV column${unknown.length > 1 ? 's' : ''} ${unknown.map((column) => `"${column}"`).join(', ')}`, `the columns are ${USAGE_FIELDS.join(', ')}`);
  }
  for (const required of ['eventId', 'user', 'model']) {
    if (!header.includes(required)) throw badFile(`line 1: the CSV header has no "${required}" column`, `the columns are ${USAGE_FIELDS.join(', ')}`);
  }
  return (line) => {
    const cells = splitCsvRow(line);
    if (!cells) throw badFile('has an unterminated or misplaced quote');
    if (cells.length !== header.length) throw badFile(`has ${cells.length} columns, the header has ${header.length}`);
    const raw: Record<string, unknown> = {};
    header.forEach((column, index) => {
      raw[column] = cells[index];
    });
    return raw;
  };
}

function sniff(firstLine: string): ImportFormat {
  return firstLine.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}

/**
 * Reads usage events from a file or stream, in batches of at most IMPORT_BATCH_SIZE, each item
 * a parsed record or the error of its line. Streams: memory holds one batch, whatever the size.
 */
export async function* readUsageSource(input: Readable | string, options: { timeZone: string; format?: ImportFormat }): AsyncGenerator<ImportItem[]> {
  const stream = openSource(input);
  let format = options.format ?? formatFromName(input);
  let parse: LineParser | undefined;
  let batch: ImportItem[] = [];
  let lineNumber = 0;
  let sawContent = false;
  const parseOptions = { timeZone: options.timeZone, requireEventId: true, fieldNames: 'fields' } as const;
  try {
    for await (const chunk of lineChunks(stream, typeof input === 'string' ? `FILE "${input}"` : 'standard input')) {
      for (const rawLine of chunk) {
        lineNumber += 1;
        let line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
        // Windows tools start UTF-8 files with a byte order mark; it is not part of the first line.
        if (lineNumber === 1 && line.startsWith('\uFEFF')) line = line.slice(1);
        if (line.trim() === '') continue;
        if (!parse) {
          format ??= sniff(line);
          sawContent = true;
          if (format === 'csv') {
            parse = csvParser(line);
            continue;
          }
          parse = jsonParser();
        }
        try {
          const raw = parse(line, lineNumber);
          batch.push({ line: lineNumber, record: parseUsageRecord(raw, parseOptions) });
        } catch (error) {
          if (!isCreditsError(error)) throw error;
          const message = error.code === 'INVALID_INPUT_FILE' ? `line ${lineNumber} ${error.message}` : `line ${lineNumber}: ${error.message}`;
          batch.push({ line: lineNumber, error: new CreditsError('INVALID_INPUT_FILE', message, error.hint === undefined ? {} : { hint: error.hint }) });
        }
        if (batch.length >= IMPORT_BATCH_SIZE) {
          yield batch;
          batch = [];
        }
      }
    }
  } finally {
    if (typeof input === 'string') stream.destroy();
  }
  if (!sawContent) throw badFile(typeof input === 'string' ? `FILE "${input}" is empty` : 'standard input is empty', 'import JSON lines or CSV with at least one event');
  if (batch.length > 0) yield batch;
}
