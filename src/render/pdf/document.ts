import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type PDFDocumentClass from 'pdfkit';
import { CreditsError } from '../../core/errors.js';
import { fontPaths } from './fonts.js';

/**
 * Shared PDF plumbing: loading pdfkit (lazily: only a command that writes a PDF pays for it),
 * a page cursor with page breaks, tables whose header repeats on every page, "Page X of N"
 * footers, and the atomic write. Text is always placed at explicit positions without pdfkit's line
 * wrapper, which would add pages on its own near the bottom margin; cells are cut to fit instead.
 */

export type Doc = PDFKit.PDFDocument;

export const FONT = { regular: 'Body', bold: 'Bold' } as const;
export type FontName = (typeof FONT)[keyof typeof FONT];

export const COLOR = { text: '#1a1a1a', muted: '#5f6670', rule: '#c5cad3', headerFill: '#e6eaf0', stripe: '#f5f7fa', accent: '#1f4e79' } as const;

/** A4 in points. */
export const A4 = { width: 595.28, height: 841.89 } as const;

export type PageFrame = { left: number; right: number; top: number; bottom: number; footerY: number };

export type DocumentMeta = { title: string; author: string; subject: string; lang: string };

export type OpenDocument = { doc: Doc; bytes: Promise<Buffer> };

/**
 * A variant of a document: more pdfkit options (like PDF/A's `subset`) and what to add before it
 * ends (like an embedded file). The Factur-X invoice is the invoice PDF with such a variant.
 */
export type DocumentVariant = { options: PDFKit.PDFDocumentOptions; beforeEnd(doc: Doc): void };

export async function openDocument(meta: DocumentMeta, frame: PageFrame, variant?: DocumentVariant): Promise<OpenDocument> {
  const fonts = fontPaths();
  const { default: PDFDocument } = (await import('pdfkit')) as { default: typeof PDFDocumentClass };
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: frame.top, bottom: A4.height - frame.bottom, left: frame.left, right: A4.width - frame.right },
    bufferPages: true,
    lang: meta.lang,
    displayTitle: true,
    info: { Title: meta.title, Author: meta.author, Subject: meta.subject, Creator: 'credits', Producer: 'credits (pdfkit)' },
    ...variant?.options,
  });
  const chunks: Buffer[] = [];
  const bytes = new Promise<Buffer>((resolvePromise, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolvePromise(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont(FONT.regular, fonts.regular);
  doc.registerFont(FONT.bold, fonts.bold);
  doc.font(FONT.regular).fontSize(9).fillColor(COLOR.text);
  return { doc, bytes };
}

export type TextStyle = { font?: FontName; size?: number; color?: string };

/** Draws one line of text at (x, y) without wrapping; `width` and `align` place it in a box. */
export function textAt(doc: Doc, text: string, x: number, y: number, options: TextStyle & { width?: number; align?: 'left' | 'right' | 'center' } = {}): void {
  doc
    .font(options.font ?? FONT.regular)
    .fontSize(options.size ?? 9)
    .fillColor(options.color ?? COLOR.text);
  const fitted = options.width === undefined ? text : fitText(doc, text, options.width);
  let left = x;
  if (options.width !== undefined && options.align && options.align !== 'left') {
    const free = options.width - doc.widthOfString(fitted);
    left = options.align === 'right' ? x + free : x + free / 2;
  }
  doc.text(fitted, left, y, { lineBreak: false });
}

/** Cuts `text` with an ellipsis so that it fits `width` in the current font. */
export function fitText(doc: Doc, text: string, width: number): string {
  if (doc.widthOfString(text) <= width) return text;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (doc.widthOfString(`${text.slice(0, middle)}…`) <= width) low = middle;
    else high = middle - 1;
  }
  return `${text.slice(0, low).trimEnd()}…`;
}

/** Greedy word wrap in the given style; words longer than a line are broken. */
export function wrapText(doc: Doc, text: string, width: number, style: TextStyle = {}): string[] {
  doc.font(style.font ?? FONT.regular).fontSize(style.size ?? 9);
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter((part) => part !== '')) {
      const candidate = line === '' ? word : `${line} ${word}`;
      if (doc.widthOfString(candidate) <= width) {
        line = candidate;
        continue;
      }
      if (line !== '') lines.push(line);
      let rest = word;
      while (doc.widthOfString(rest) > width && rest.length > 1) {
        let cut = rest.length - 1;
        while (cut > 1 && doc.widthOfString(rest.slice(0, cut)) > width) cut -= 1;
        lines.push(rest.slice(0, cut));
        rest = rest.slice(cut);
      }
      line = rest;
    }
    lines.push(line);
  }
  return lines;
}

export function rule(doc: Doc, x1: number, x2: number, y: number, color: string = COLOR.rule, width = 0.6): void {
  doc.save().moveTo(x1, y).lineTo(x2, y).lineWidth(width).strokeColor(color).stroke().restore();
}

export function fillRect(doc: Doc, x: number, y: number, width: number, height: number, color: string): void {
  doc.save().rect(x, y, width, height).fillColor(color).fill().restore();
}

/**
 * A top-to-bottom cursor over pages. `ensure` starts a new page when the next block would cross
 * the bottom of the frame; `onNewPage` draws what every continuation page starts with.
 */
export class Flow {
  y: number;
  private readonly continuationHooks: Array<() => void> = [];

  constructor(
    readonly doc: Doc,
    readonly frame: PageFrame,
    private readonly onNewPage: (flow: Flow) => void = () => {},
  ) {
    this.y = frame.top;
  }

  get width(): number {
    return this.frame.right - this.frame.left;
  }

  fits(height: number): boolean {
    return this.y + height <= this.frame.bottom;
  }

  ensure(height: number): boolean {
    if (this.fits(height)) return false;
    this.newPage();
    return true;
  }

  newPage(): void {
    this.doc.addPage();
    this.y = this.frame.top;
    this.onNewPage(this);
    for (const hook of this.continuationHooks) hook();
  }

  /** While `body` runs, every page break first calls `hook` (a table redraws its header). */
  withContinuation(hook: () => void, body: () => void): void {
    this.continuationHooks.push(hook);
    try {
      body();
    } finally {
      this.continuationHooks.pop();
    }
  }

  /** A wrapped paragraph across the full width (or `width` from `x`), breaking pages between lines. */
  paragraph(text: string, style: TextStyle & { x?: number; width?: number; lineHeight?: number } = {}): void {
    const x = style.x ?? this.frame.left;
    const width = style.width ?? this.frame.right - x;
    const lineHeight = style.lineHeight ?? (style.size ?? 9) * 1.35;
    for (const line of wrapText(this.doc, text, width, style)) {
      this.ensure(lineHeight);
      textAt(this.doc, line, x, this.y, style);
      this.y += lineHeight;
    }
  }

  gap(points: number): void {
    this.y += points;
  }
}

export type Column = {
  /** Header text; a newline gives a second header line (used for German / English labels). */
  header: string;
  /** Relative width; the columns share the frame's width in these proportions. */
  width: number;
  align?: 'left' | 'right';
  /** Wrap long cell text onto more lines instead of cutting it with an ellipsis. */
  wrap?: boolean;
};

export type TableRow = {
  /** One string per column; a newline inside a cell adds a smaller second line. */
  cells: string[];
  bold?: boolean;
};

export type TableSpec = {
  title?: string;
  columns: Column[];
  rows: TableRow[];
  /** Bold rows under a rule at the end (totals); kept together, never split from the table. */
  totals?: TableRow[];
  /** Printed in one row when `rows` is empty. */
  emptyText?: string;
  size?: number;
};

const CELL_PAD_X = 5;
const CELL_PAD_Y = 4;

/** Where a table's columns and lines go: measured once, used by its title, header and rows. */
type TableLayout = {
  spec: TableSpec;
  size: number;
  lineHeight: number;
  widths: number[];
  lefts: number[];
  headerHeight: number;
  titleHeight: number;
};

function tableLayout(flow: Flow, spec: TableSpec): TableLayout {
  const size = spec.size ?? 8.5;
  const lineHeight = size * 1.3;
  const totalWeight = spec.columns.reduce((sum, column) => sum + column.width, 0);
  const widths = spec.columns.map((column) => (column.width / totalWeight) * flow.width);
  const lefts = widths.map((_, index) => flow.frame.left + widths.slice(0, index).reduce((sum, width) => sum + width, 0));
  const headerLines = Math.max(...spec.columns.map((column) => column.header.split('\n').length));
  const headerHeight = headerLines * lineHeight + CELL_PAD_Y * 2;
  const titleHeight = spec.title ? 20 : 0;
  return { spec, size, lineHeight, widths, lefts, headerHeight, titleHeight };
}

/** A cell's first line is in the row's style, further lines (after a newline) smaller and muted. */
function cellLines(doc: Doc, layout: TableLayout, row: TableRow, index: number): Array<{ text: string; primary: boolean }> {
  const { spec, size } = layout;
  const cell = row.cells[index] ?? '';
  const width = (layout.widths[index] ?? 0) - CELL_PAD_X * 2;
  return cell.split('\n').flatMap((line, lineIndex) => {
    const primary = lineIndex === 0;
    if (!spec.columns[index]?.wrap) return [{ text: line, primary }];
    const font = primary && row.bold ? FONT.bold : FONT.regular;
    return wrapText(doc, line, width, { font, size: primary ? size : size - 1 }).map((text) => ({ text, primary }));
  });
}

function rowHeight(doc: Doc, layout: TableLayout, row: TableRow): number {
  return Math.max(...row.cells.map((_, index) => cellLines(doc, layout, row, index).length)) * layout.lineHeight + CELL_PAD_Y * 2;
}

function drawTableTitle(flow: Flow, layout: TableLayout, continued: boolean): void {
  const { title } = layout.spec;
  if (!title) return;
  textAt(flow.doc, continued ? `${title} (continued)` : title, flow.frame.left, flow.y, { font: FONT.bold, size: continued ? 10 : 12, color: COLOR.accent });
  flow.y += layout.titleHeight;
}

function drawTableHeader(flow: Flow, layout: TableLayout): void {
  const { doc, frame } = flow;
  const { size, lineHeight } = layout;
  fillRect(doc, frame.left, flow.y, flow.width, layout.headerHeight, COLOR.headerFill);
  layout.spec.columns.forEach((column, index) => {
    column.header.split('\n').forEach((line, lineIndex) => {
      textAt(doc, line, (layout.lefts[index] ?? 0) + CELL_PAD_X, flow.y + CELL_PAD_Y + lineIndex * lineHeight, {
        font: lineIndex === 0 ? FONT.bold : FONT.regular,
        size: lineIndex === 0 ? size : size - 1,
        color: lineIndex === 0 ? COLOR.text : COLOR.muted,
        width: (layout.widths[index] ?? 0) - CELL_PAD_X * 2,
        align: column.align ?? 'left',
      });
    });
  });
  flow.y += layout.headerHeight;
}

function drawTableRow(flow: Flow, layout: TableLayout, row: TableRow, striped: boolean): void {
  const { doc, frame } = flow;
  const { size, lineHeight } = layout;
  const height = rowHeight(doc, layout, row);
  if (striped) fillRect(doc, frame.left, flow.y, flow.width, height, COLOR.stripe);
  row.cells.forEach((_, index) => {
    cellLines(doc, layout, row, index).forEach((line, lineIndex) => {
      textAt(doc, line.text, (layout.lefts[index] ?? 0) + CELL_PAD_X, flow.y + CELL_PAD_Y + lineIndex * lineHeight, {
        font: row.bold && line.primary ? FONT.bold : FONT.regular,
        size: line.primary ? size : size - 1,
        color: line.primary ? COLOR.text : COLOR.muted,
        width: (layout.widths[index] ?? 0) - CELL_PAD_X * 2,
        align: layout.spec.columns[index]?.align ?? 'left',
      });
    });
  });
  flow.y += height;
}

/**
 * Draws a table at the flow's cursor. Rows never split; when the next row does not fit, the table
 * continues on a new page under the title "(continued)" and the header row again.
 */
export function drawTable(flow: Flow, spec: TableSpec): void {
  const { doc, frame } = flow;
  const layout = tableLayout(flow, spec);
  const { size, lineHeight } = layout;
  const rows = spec.rows;
  const firstRows = rows.slice(0, 2);
  const totals = spec.totals ?? [];
  const totalsHeight = totals.reduce((sum, row) => sum + rowHeight(doc, layout, row), 0);
  // Keep the title and header with the first rows (or the whole of a short table).
  const opening =
    layout.titleHeight +
    layout.headerHeight +
    firstRows.reduce((sum, row) => sum + rowHeight(doc, layout, row), 0) +
    (rows.length <= 2 ? totalsHeight : 0) +
    (rows.length === 0 ? lineHeight + CELL_PAD_Y * 2 : 0);
  flow.ensure(opening);
  drawTableTitle(flow, layout, false);
  drawTableHeader(flow, layout);
  flow.withContinuation(
    () => {
      drawTableTitle(flow, layout, true);
      drawTableHeader(flow, layout);
    },
    () => {
      if (rows.length === 0 && spec.emptyText) {
        textAt(doc, spec.emptyText, frame.left + CELL_PAD_X, flow.y + CELL_PAD_Y, { size, color: COLOR.muted });
        flow.y += lineHeight + CELL_PAD_Y * 2;
      }
      rows.forEach((row, index) => {
        const isLast = index === rows.length - 1;
        // The last row travels with the totals so a total never starts a page on its own.
        flow.ensure(rowHeight(doc, layout, row) + (isLast ? totalsHeight : 0));
        drawTableRow(flow, layout, row, index % 2 === 1);
      });
      if (totals.length > 0) {
        flow.ensure(totalsHeight);
        rule(doc, frame.left, frame.right, flow.y, COLOR.text, 0.8);
        for (const row of totals) drawTableRow(flow, layout, { ...row, bold: row.bold ?? true }, false);
      }
      rule(doc, frame.left, frame.right, flow.y);
    },
  );
}

/** Writes the footer on every buffered page: `left` text and "Page i of N" (or `pageLabel`). */
export function addFooters(
  doc: Doc,
  frame: PageFrame,
  left: string,
  pageLabel: (page: number, count: number) => string = (page, count) => `Page ${page} of ${count}`,
): void {
  const range = doc.bufferedPageRange();
  for (let index = range.start; index < range.start + range.count; index += 1) {
    doc.switchToPage(index);
    rule(doc, frame.left, frame.right, frame.footerY - 6);
    const label = pageLabel(index - range.start + 1, range.count);
    doc.font(FONT.regular).fontSize(7.5);
    const labelWidth = doc.widthOfString(label);
    textAt(doc, left, frame.left, frame.footerY, { size: 7.5, color: COLOR.muted, width: frame.right - frame.left - labelWidth - 12 });
    textAt(doc, label, frame.left, frame.footerY, { size: 7.5, color: COLOR.muted, width: frame.right - frame.left, align: 'right' });
  }
}

/** Ends the document and returns its bytes. */
export async function finishDocumentBytes(opened: OpenDocument): Promise<Uint8Array> {
  opened.doc.end();
  return opened.bytes;
}

/** Ends the document and writes it atomically: a temp file in the same folder, fsync, rename. */
export async function finishDocument(opened: OpenDocument, outputPath: string): Promise<void> {
  await writeFileAtomically(outputPath, await finishDocumentBytes(opened));
}

export async function writeFileAtomically(outputPath: string, bytes: Uint8Array): Promise<void> {
  const target = resolve(outputPath);
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw outputError(error, outputPath);
  }
  await syncDirectory(dirname(target));
}

async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not every platform can fsync a directory; the rename itself has happened.
  }
}

function outputError(error: unknown, outputPath: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const hint = 'give --output a file path in a folder that exists and that you may write to';
  if (code === 'ENOENT') return new CreditsError('INVALID_VALUE', `cannot write ${outputPath}: the folder does not exist`, { hint, cause: error });
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new CreditsError('INVALID_VALUE', `cannot write ${outputPath}: permission denied`, { hint, cause: error });
  if (code === 'EISDIR') return new CreditsError('INVALID_VALUE', `cannot write ${outputPath}: it is a folder`, { hint, cause: error });
  return error;
}
