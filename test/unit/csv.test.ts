import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CsvRecordReader, detectCsvDelimiter, parseCsvDelimiter, splitCsvRow, type CsvDelimiter } from '../../src/core/csv.js';
import { parseUsageChunks } from '../../src/app/usageImport/importSource.js';
import { USAGE_FIELDS } from '../../src/core/usageRecord.js';
import type { ImportItem } from '../../src/store/ops/usage.js';

/** Every record and problem the reader reports for these lines, in order, by line. */
function readAll(lines: string[], delimiter: CsvDelimiter = ',', limits = { maxLines: 100, maxChars: 65536 }): (string[] | string)[] {
  const out: [number, string[] | string][] = [];
  const reader = new CsvRecordReader(
    delimiter,
    (cells, line) => out.push([line, cells]),
    (line, message) => out.push([line, message]),
    limits,
  );
  for (const [index, line] of lines.entries()) reader.push(line, index + 1);
  reader.end();
  return out.map(([line, value]) => (typeof value === 'string' ? `${line}: ${value}` : [String(line), ...value]));
}

describe('splitCsvRow: one line, RFC 4180 quoting', () => {
  it('splits by the delimiter given, keeping the others inside cells', () => {
    expect(splitCsvRow('a,b;c\td')).toEqual(['a', 'b;c\td']);
    expect(splitCsvRow('a,b;c\td', ';')).toEqual(['a,b', 'c\td']);
    expect(splitCsvRow('a,b;c\td', '\t')).toEqual(['a,b;c', 'd']);
  });

  it('reads quoted cells with the delimiter and doubled quotes inside, and empty cells', () => {
    expect(splitCsvRow('"x;y";"say ""hi""";;z', ';')).toEqual(['x;y', 'say "hi"', '', 'z']);
    expect(splitCsvRow('""')).toEqual(['']);
  });

  it('refuses a quote inside an unquoted cell and a quote never closed', () => {
    expect(splitCsvRow('ab"c,d')).toBeNull();
    expect(splitCsvRow('"abc,d')).toBeNull();
  });
});

describe('detectCsvDelimiter: the one that splits the header into known columns', () => {
  it('finds comma, semicolon and tab, quoted names and trailing spaces included', () => {
    expect(detectCsvDelimiter('eventId,user,model', USAGE_FIELDS)).toBe(',');
    expect(detectCsvDelimiter('eventId;user;model;inputTokens', USAGE_FIELDS)).toBe(';');
    expect(detectCsvDelimiter('eventId\tuser\tmodel', USAGE_FIELDS)).toBe('\t');
    expect(detectCsvDelimiter('"eventId";"user";"model" ', USAGE_FIELDS)).toBe(';');
  });

  it('finds none when a column is unknown or the header does not split', () => {
    expect(detectCsvDelimiter('eventId;user;modell', USAGE_FIELDS)).toBeUndefined();
    expect(detectCsvDelimiter('eventId|user|model', USAGE_FIELDS)).toBeUndefined();
  });

  it('reads --delimiter values and names the flag and the allowed values otherwise', () => {
    expect(parseCsvDelimiter('tab', '--delimiter')).toBe('\t');
    expect(parseCsvDelimiter(';', '--delimiter')).toBe(';');
    expect(parseCsvDelimiter('semicolon', '--delimiter')).toBe(';');
    expect(() => parseCsvDelimiter('|', '--delimiter')).toThrow(/^--delimiter "\|" is not a CSV delimiter: use ',' \(comma\), ';' \(semicolon\) or tab$/);
    expect(() => parseCsvDelimiter('toString', '--delimiter')).toThrow(/not a CSV delimiter/);
  });
});

describe('CsvRecordReader: records spanning lines', () => {
  it('joins a quoted field over line breaks (blank lines included), numbered by its first line', () => {
    expect(readAll(['a;"one', '', 'two";b', 'c;d'], ';')).toEqual([
      ['1', 'a', 'one\n\ntwo', 'b'],
      ['4', 'c', 'd'],
    ]);
  });

  it('skips blank lines between records', () => {
    expect(readAll(['a,b', '', '  ', 'c,d'])).toEqual([
      ['1', 'a', 'b'],
      ['4', 'c', 'd'],
    ]);
  });

  it('reports a quote never closed at its line and reads the lines it took as records again', () => {
    expect(readAll(['a,"b', 'c,d', 'e,f'])).toEqual(['1: has a quoted field that is not closed by the end of the file', ['2', 'c', 'd'], ['3', 'e', 'f']]);
  });

  it('gives up on a quoted field past the line limit and reads on from the line after it', () => {
    const lines = ['a,"b', 'c,d', 'e,f', 'g,h'];
    expect(readAll(lines, ',', { maxLines: 3, maxChars: 65536 })).toEqual([
      '1: has a quoted field that is not closed within 3 lines or 65536 characters',
      ['2', 'c', 'd'],
      ['3', 'e', 'f'],
      ['4', 'g', 'h'],
    ]);
  });

  it('reports a misplaced quote on its own line without taking the next', () => {
    expect(readAll(['a,b"c', 'd,e'])).toEqual(['1: has an unterminated or misplaced quote', ['2', 'd', 'e']]);
  });
});

async function parse(chunks: string[], delimiter?: CsvDelimiter): Promise<ImportItem[]> {
  const items: ImportItem[] = [];
  const options = { timeZone: 'UTC', nowMs: Date.parse('2026-10-15T12:00:00Z'), format: undefined, delimiter, sourceName: 'test' };
  for await (const batch of parseUsageChunks(Readable.from(chunks), options)) items.push(...batch);
  return items;
}

describe('parseUsageChunks: CSV import as streamed chunks', () => {
  it('reads a ; file with a quoted line break cut between chunks, CRLF line ends and a BOM', async () => {
    const text = '\uFEFFeventId;user;model;inputTokens\r\n"e""1";"ada@example.com\r\n";gpt-4o;523\r\ne2;don@example.com;gpt-4o-mini;"1\r\n000"\r\n';
    const cut = text.indexOf('example.com\r\n') + 12;
    const items = await parse([text.slice(0, cut), text.slice(cut)]);
    expect(items.map((item) => item.line)).toEqual([2, 4]);
    const first = items[0]!;
    expect('record' in first && first.record).toMatchObject({ eventId: 'e"1', user: 'ada@example.com', model: 'gpt-4o', inputTokens: 523 });
    // A count split over two lines is no number: that record is refused, by its first line.
    expect('error' in items[1]! && items[1].error.message).toMatch(/^line 4: inputTokens must be a whole number/);
  });

  it('takes --delimiter as given and says which delimiter the header has when it differs', async () => {
    const items = await parse(['eventId\tuser\tmodel\ne1\tada@example.com\tgpt-4o\n'], '\t');
    expect(items).toHaveLength(1);
    await expect(parse(['eventId;user;model\ne1;ada@example.com;gpt-4o\n'], ',')).rejects.toMatchObject({
      code: 'INVALID_INPUT_FILE',
      hint: expect.stringContaining('separated by ";": give --delimiter semicolon'),
    });
  });
});
