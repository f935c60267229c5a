import { CreditsError } from './errors.js';

/**
 * CSV as spreadsheets write it (RFC 4180): a field in double quotes may hold the delimiter, a
 * doubled quote ("") and line breaks. German exports separate fields with `;` (the comma is
 * their decimal point), some tools with a tab. Pure: lines in, cells out; the reading of bytes
 * into lines stays with the caller, so an import keeps streaming.
 */
export type CsvDelimiter = ',' | ';' | '\t';

/**
 * The delimiters as a flag names them: a tab is awkward to type, and an unquoted `;` ends a
 * shell command, so each also has a word.
 */
const DELIMITER_BY_NAME: Record<string, CsvDelimiter> = { ',': ',', comma: ',', ';': ';', semicolon: ';', tab: '\t', '\t': '\t' };

/** What `detectCsvDelimiter` tries, in order: the first that names only known columns wins. */
const DETECTED: readonly CsvDelimiter[] = [',', ';', '\t'];

/** A delimiter as a word that needs no quoting on a shell's command line. */
export function csvDelimiterName(delimiter: CsvDelimiter): 'comma' | 'semicolon' | 'tab' {
  return delimiter === '\t' ? 'tab' : delimiter === ';' ? 'semicolon' : 'comma';
}

export function parseCsvDelimiter(text: string, flag: string): CsvDelimiter {
  const delimiter = Object.hasOwn(DELIMITER_BY_NAME, text) ? DELIMITER_BY_NAME[text] : undefined;
  if (delimiter === undefined) {
    throw new CreditsError('INVALID_VALUE', `${flag} "${text}" is not a CSV delimiter: use ',' (comma), ';' (semicolon) or tab`, {
      hint: `like ${flag} ';' or ${flag} semicolon; leave it out to detect it from the header line`,
    });
  }
  return delimiter;
}

/** How a line left its record: complete, inside a quoted field that goes on, or broken by a stray quote. */
const Scan = { Complete: 0, Open: 1, Misplaced: 2 } as const;
type Scan = (typeof Scan)[keyof typeof Scan];

/** A record being read: the cells so far, the cell being read and whether it is inside quotes. */
type RecordState = { cells: string[]; cell: string; quoted: boolean };

/**
 * Reads one line into `state`, starting inside a quoted field when `state.quoted`. A quote opens
 * a field only at its start; inside, "" is one quote and a lone quote closes it; text after the
 * closing quote is kept, as spreadsheets read it.
 */
function scanLine(line: string, delimiter: CsvDelimiter, state: RecordState): Scan {
  let { cell, quoted } = state;
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index]!;
    if (quoted) {
      if (char !== '"') cell += char;
      else if (line[index + 1] === '"') {
        cell += '"';
        index += 1;
      } else quoted = false;
    } else if (char === delimiter) {
      state.cells.push(cell);
      cell = '';
    } else if (char === '"') {
      if (cell !== '') return Scan.Misplaced;
      quoted = true;
    } else cell += char;
  }
  state.cell = cell;
  state.quoted = quoted;
  if (quoted) return Scan.Open;
  state.cells.push(cell);
  return Scan.Complete;
}

/** The cells of one whole line, or null when a quote is misplaced or never closed on it. */
export function splitCsvRow(row: string, delimiter: CsvDelimiter = ','): string[] | null {
  if (!row.includes('"')) return row.split(delimiter);
  const state: RecordState = { cells: [], cell: '', quoted: false };
  return scanLine(row, delimiter, state) === Scan.Complete ? state.cells : null;
}

/**
 * The delimiter that splits a header line into known column names only: a column name holds
 * none of the three, so at most one can. Undefined when none does (the caller names the
 * unknown columns).
 */
export function detectCsvDelimiter(header: string, columns: readonly string[]): CsvDelimiter | undefined {
  const known = new Set(columns);
  return DETECTED.find((delimiter) => {
    const cells = splitCsvRow(header, delimiter);
    return cells !== null && cells.length > 1 && cells.every((cell) => known.has(cell.trim()));
  });
}

/** The most lines and characters one record may span: no field of ours needs more. */
export type CsvLimits = { maxLines: number; maxChars: number };
export const CSV_RECORD_LIMITS: CsvLimits = { maxLines: 100, maxChars: 64 * 1024 };

/**
 * Joins the lines of a file into records, one line at a time. A record whose quoted field is
 * not closed within the limits (or by the end of the input) is reported at its first line, and
 * the lines it had taken are read again as records of their own: one stray quote costs its
 * line, not the rest of the file. Blank lines between records are skipped.
 */
export class CsvRecordReader {
  private state: RecordState = { cells: [], cell: '', quoted: false };
  /** The lines of the open record, its first included. */
  private lines: { text: string; line: number }[] = [];
  private chars = 0;

  constructor(
    private readonly delimiter: CsvDelimiter,
    /** A whole record, by the line it starts on (called for each, in order). */
    private readonly onRecord: (cells: string[], line: number) => void,
    /** A record that cannot be read, by the line it starts on. */
    private readonly onProblem: (line: number, message: string) => void,
    private readonly limits: CsvLimits = CSV_RECORD_LIMITS,
  ) {}

  /** Whether a quoted field is open: the next line belongs to it (even a blank one). */
  get isOpen(): boolean {
    return this.lines.length > 0;
  }

  /** One line of the input, without its line break. */
  push(text: string, line: number): void {
    if (this.lines.length === 0) {
      this.start(text, line);
      return;
    }
    this.lines.push({ text, line });
    this.chars += text.length + 1;
    this.state.cell += '\n';
    const scan = scanLine(text, this.delimiter, this.state);
    if (scan === Scan.Complete) this.finish();
    else if (scan === Scan.Misplaced) this.abandon(`has a misplaced quote on line ${line}, in a record that spans lines`);
    else if (this.lines.length >= this.limits.maxLines || this.chars > this.limits.maxChars)
      this.abandon(`has a quoted field that is not closed within ${this.limits.maxLines} lines or ${this.limits.maxChars} characters`);
  }

  /** The end of the input (or a line that cannot be part of a record): an open record's quote was never closed. */
  end(reason = 'has a quoted field that is not closed by the end of the file'): void {
    if (this.lines.length > 0) this.abandon(reason);
  }

  private start(text: string, line: number): void {
    if (!text.includes('"')) {
      if (text.trim() !== '') this.onRecord(text.split(this.delimiter), line);
      return;
    }
    this.state = { cells: [], cell: '', quoted: false };
    const scan = scanLine(text, this.delimiter, this.state);
    if (scan === Scan.Complete) this.onRecord(this.state.cells, line);
    else if (scan === Scan.Misplaced) this.onProblem(line, 'has an unterminated or misplaced quote');
    else {
      this.lines = [{ text, line }];
      this.chars = text.length;
    }
  }

  private finish(): void {
    const first = this.lines[0]!;
    this.lines = [];
    this.onRecord(this.state.cells, first.line);
  }

  private abandon(message: string): void {
    const [first, ...rest] = this.lines;
    this.lines = [];
    this.onProblem(first!.line, message);
    for (const again of rest) this.push(again.text, again.line);
  }
}
