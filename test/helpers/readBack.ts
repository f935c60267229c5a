import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { Ledger } from './cli.js';
import { seededRandom } from '../../src/core/random.js';

/**
 * Reading the CLI's output back as a user's tools would (a PDF viewer's text, a spreadsheet's
 * CSV reader), and building expected figures independently of the program's own code.
 */

/** The text of a PDF (its bytes, or a path): each page's pieces joined by spaces, pages by line breaks. */
export async function pdfText(source: Uint8Array | string): Promise<string> {
  const data = typeof source === 'string' ? new Uint8Array(readFileSync(source)) : new Uint8Array(source);
  const pdf = await getDocument({ data, verbosity: 0, isEvalSupported: false }).promise;
  try {
    const pages: string[] = [];
    for (let number = 1; number <= pdf.numPages; number += 1) {
      const content = await (await pdf.getPage(number)).getTextContent();
      pages.push(content.items.map((item) => ('str' in item ? item.str : '')).join(' '));
    }
    return pages.join('\n');
  } finally {
    await pdf.destroy();
  }
}

/** The text of each page as lines, top to bottom; pieces on one baseline joined by single spaces. */
export async function pdfLines(path: string): Promise<string[][]> {
  const pdf = await getDocument({ data: new Uint8Array(readFileSync(path)), verbosity: 0, isEvalSupported: false }).promise;
  try {
    const pages: string[][] = [];
    for (let number = 1; number <= pdf.numPages; number += 1) {
      const page = await pdf.getPage(number);
      const content = await page.getTextContent();
      const pieces: Array<{ x: number; y: number; text: string }> = [];
      for (const item of content.items) {
        if (!('str' in item) || item.str.trim() === '') continue;
        pieces.push({ x: item.transform[4] as number, y: item.transform[5] as number, text: item.str.trim() });
      }
      pieces.sort((a, b) => b.y - a.y || a.x - b.x);
      const lines: Array<{ y: number; parts: Array<{ x: number; text: string }> }> = [];
      for (const piece of pieces) {
        const line = lines.find((candidate) => Math.abs(candidate.y - piece.y) < 2.5);
        if (line) line.parts.push(piece);
        else lines.push({ y: piece.y, parts: [piece] });
      }
      pages.push(
        lines.map((line) =>
          line.parts
            .sort((a, b) => a.x - b.x)
            .map((part) => part.text)
            .join(' '),
        ),
      );
    }
    return pages;
  } finally {
    await pdf.destroy();
  }
}

/** RFC 4180: quoted cells may hold commas, doubled quotes and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        cell += '"';
        index += 1;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[index + 1] === '\n') index += 1;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += char;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** CSV rows as objects keyed by the header row. */
export function csvRecords(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  return rows.map((row) => Object.fromEntries(header.map((name, index) => [name, row[index] ?? ''])));
}

/** A plain dot-decimal number as a spreadsheet reads it: no thousands separators, no comma decimals. */
export function plainNumber(text: string): number {
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new Error(`"${text}" is not a plain dot-decimal number`);
  return Number(text);
}

/** Credits in millicredits from a CSV cell such as "1234.500". */
export function csvMillicredits(text: string): number {
  if (!/^-?\d+\.\d{3}$/.test(text)) throw new Error(`"${text}" is not credits with three decimals`);
  return Math.round(Number(text) * 1000);
}

/** The default rate card (src/core/rateCard.ts), written out: millicredits per 1k input / output tokens, per tool call. */
export const RATES: Record<string, { tier: string; input: number; output: number; tool: number }> = {
  'gpt-4o': { tier: 'premium', input: 4015, output: 3929, tool: 500 },
  'claude-3-opus': { tier: 'premium', input: 7500, output: 15000, tool: 500 },
  'gpt-4o-mini': { tier: 'standard', input: 600, output: 1200, tool: 200 },
  'claude-3.5-sonnet': { tier: 'standard', input: 1500, output: 3000, tool: 300 },
  'claude-3-haiku': { tier: 'economy', input: 150, output: 400, tool: 100 },
  'llama-3.1-groq': { tier: 'economy', input: 100, output: 150, tool: 50 },
};

/** Each part priced on its own and rounded up to the whole millicredit, then added. */
export function priceOf(event: { model: string; inputTokens?: number; outputTokens?: number; toolCalls?: number }): number {
  const rate = RATES[event.model];
  if (!rate) throw new Error(`no rate for ${event.model} in the test's copy of the rate card`);
  const part = (count: number, per1k: number): number => Math.ceil((count * per1k) / 1000);
  return part(event.inputTokens ?? 0, rate.input) + part(event.outputTokens ?? 0, rate.output) + (event.toolCalls ?? 0) * rate.tool;
}

const berlinDate = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit' });

/** The calendar day of an instant in Berlin, 'YYYY-MM-DD' (by Intl, not by the program's code). */
export function berlinDay(iso: string): string {
  return berlinDate.format(new Date(iso));
}

/** Deterministic pseudo-random numbers, so a failing run can be repeated. */
export const seeded = seededRandom;

export type UsageEvent = {
  eventId: string;
  user: string;
  model: string;
  inputTokens?: number;
  outputTokens?: number;
  toolCalls?: number;
  feature?: string;
  at: string;
};

/** Posts events through `usage import` of a JSONL file (one CLI call); fails unless every event is accepted. */
export async function importUsage(ledger: Ledger, events: readonly UsageEvent[], env: Record<string, string> = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'credits-import-'));
  try {
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, events.map((event) => JSON.stringify(event)).join('\n') + '\n');
    const result = await ledger.ok(['usage', 'import', file, '--json'], { env });
    const totals = result.json();
    if (totals.accepted !== events.length)
      throw new Error(`usage import accepted ${totals.accepted} of ${events.length}: ${JSON.stringify(totals.problems ?? totals)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Days from `first` to `last`, both included ('YYYY-MM-DD', calendar arithmetic in UTC). */
export function dayRange(first: string, last: string): string[] {
  const days: string[] = [];
  for (let ms = Date.parse(`${first}T00:00:00Z`); ms <= Date.parse(`${last}T00:00:00Z`); ms += 86_400_000) days.push(new Date(ms).toISOString().slice(0, 10));
  return days;
}

export function addDays(day: string, count: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + count * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Largest remainder, written here apart from src/core/footing.ts: `exact` values (in units of
 * 1/`unit` of a step) rounded down, then the steps missing to `total` (default: the exact sum
 * rounded half up) one each to the largest remainders, ties to the first listed.
 */
export function largestRemainder(exact: readonly number[], unit: number, total?: number): number[] {
  const floors = exact.map((value) => Math.floor(value / unit));
  const target = total ?? Math.floor((exact.reduce((sum, value) => sum + value, 0) + unit / 2) / unit);
  let missing = target - floors.reduce((sum, value) => sum + value, 0);
  const order = exact
    .map((value, index) => ({ index, remainder: value - floors[index]! * unit }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of order) {
    if (missing <= 0) break;
    floors[index]! += 1;
    missing -= 1;
  }
  return floors;
}

/** Euro cents of a table's lines of millicredits, footed to the total rounded once. */
export function footedCents(millicredits: readonly number[]): number[] {
  return largestRemainder(millicredits, 1000);
}

/** Shares in tenths of a percent adding up to 1000 (100.0%); all 0 when there is nothing to share. */
export function footedShareTenths(amounts: readonly number[]): number[] {
  const whole = amounts.reduce((sum, value) => sum + value, 0);
  return whole === 0
    ? amounts.map(() => 0)
    : largestRemainder(
        amounts.map((value) => value * 1000),
        whole,
        1000,
      );
}
