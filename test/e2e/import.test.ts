import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, balanceOf, removeDir, seededLedger, type Ledger, type RunResult } from '../helpers/cli.js';

/** The --json document of `usage import` (the 'import' view of src/cli/commands/usage.ts). */
type ImportReport = {
  file: string;
  dryRun: boolean;
  parser: 'thread' | 'inline';
  read: number;
  accepted: number;
  duplicates: number;
  refused: number;
  malformed: number;
  acceptedMillicredits: number;
  firstMalformedLine: number | null;
  problems: { line: number; eventId: string | null; code: string; message: string }[];
  /** Soft limits passed (softLimits.test.ts); no soft limit is set here. */
  warnings: unknown[];
};

type UsageEvent = {
  eventId: string;
  user: string;
  model: string;
  inputTokens?: number;
  outputTokens?: number;
  toolCalls?: number;
  feature?: string;
  images?: number;
  imageSize?: 'standard' | 'hd';
  dbAccess?: boolean;
  at?: string;
};

/**
 * The default rate card as the README and src/core/rateCard.ts publish it, in millicredits:
 * per 1k input tokens, per 1k output tokens, per tool call. Written out here on purpose, so that
 * the test prices independently of the code under test.
 */
const DEFAULT_RATES: Record<string, readonly [number, number, number]> = {
  'gpt-4o': [4015, 3929, 500],
  'claude-3-opus': [7500, 15000, 500],
  'gemini-1.5-pro': [4500, 6000, 500],
  'gpt-4o-mini': [600, 1200, 200],
  'claude-3.5-sonnet': [1500, 3000, 300],
  'mistral-large': [1200, 2400, 300],
  'gpt-3.5-turbo': [250, 500, 100],
  'claude-3-haiku': [150, 400, 100],
  'llama-3.1-groq': [100, 150, 50],
};
const IMAGE_MILLICREDITS = { standard: 25_000, hd: 50_000 } as const;

/** ceil(a * b / d) in exact integers: every part of a price is rounded up to the whole millicredit. */
function ceilMulDiv(a: number, b: number, d: number): number {
  const product = BigInt(a) * BigInt(b);
  return Number((product + BigInt(d) - 1n) / BigInt(d));
}

/** What one event costs by the published card: each part rounded up, +50% (rounded up) for a workflow with database access. */
function priceOf(event: UsageEvent): number {
  const rate = DEFAULT_RATES[event.model];
  if (!rate) throw new Error(`no default rate for ${event.model}`);
  const [input, output, tool] = rate;
  let total = ceilMulDiv(event.inputTokens ?? 0, input, 1000) + ceilMulDiv(event.outputTokens ?? 0, output, 1000) + (event.toolCalls ?? 0) * tool;
  total += (event.images ?? 0) * IMAGE_MILLICREDITS[event.imageSize ?? 'standard'];
  if (event.dbAccess) total += ceilMulDiv(total, 50, 100);
  return total;
}

const sumOf = (events: readonly UsageEvent[]): number => events.reduce((sum, event) => sum + priceOf(event), 0);

const CSV_FIELDS = ['eventId', 'user', 'model', 'inputTokens', 'outputTokens', 'toolCalls', 'feature', 'images', 'imageSize', 'dbAccess', 'at'] as const;

const jsonLines = (events: readonly UsageEvent[]): string => events.map((event) => JSON.stringify(event)).join('\n') + '\n';

function csvText(events: readonly UsageEvent[], newline = '\n'): string {
  const cell = (value: unknown): string => (value === undefined ? '' : String(value));
  const rows = events.map((event) => CSV_FIELDS.map((field) => cell(event[field])).join(','));
  return [CSV_FIELDS.join(','), ...rows].join(newline) + newline;
}

/** An event of llama-3.1-groq costing exactly `credits` (a tool call costs 0.05 credits). */
const llama = (eventId: string, user: string, credits: number, at: string): UsageEvent => ({
  eventId,
  user,
  model: 'llama-3.1-groq',
  toolCalls: credits * 20,
  at,
});

/** With --json, a failed import prints its report on stdout and the error document on stderr. */
function errorOf(result: RunResult): { code: string; message: string } {
  return JSON.parse(result.stderr).error;
}

function report(result: RunResult): ImportReport {
  if (result.stdout === '') throw new Error(`usage import printed nothing (exit ${result.exitCode}): ${result.stderr}`);
  return result.json<ImportReport>();
}

describe(`usage import on a ${TARGET} ledger`, () => {
  const ada = 'ada@example.com';
  const don = 'don@example.com';
  const rey = 'rey@example.com';
  let ledger: Ledger;
  let dir: string;
  const file = (name: string, content: string | Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const usageImport = (target: string, extra: string[] = [], input?: string) =>
    ledger.run(['usage', 'import', target, ...extra], input === undefined ? {} : { input });
  const historyJson = async (): Promise<unknown> => (await ledger.ok(['history', '--limit', '999999', '--json'])).json();
  /** Every write leaves a ledger transaction or an audit row (an import run writes one, even of duplicates only). */
  const writes = async (): Promise<unknown> => {
    const [history, audit] = await Promise.all([historyJson(), ledger.ok(['audit', '--limit', '999999', '--json'])]);
    return { history, audit: audit.json() };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-import-'));
    ledger = await seededLedger();
    await ledger.ok(['transfer', '3000', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['transfer', '10', '--from', 'org', '--to', 'Marketing']);
    await ledger.ok(['dept', 'add', 'Research']);
    await ledger.ok(['user', 'add', rey, '--dept', 'Research']);
    await ledger.ok(['transfer', '15', '--from', 'org', '--to', 'Research']);
    await ledger.ok(['limits', 'set', '--user', rey, '--daily', '10']);
  });
  afterAll(async () => {
    await ledger?.close();
    if (dir) removeDir(dir);
  });

  it('posts JSON lines and CSV files, each event priced exactly by the default rate card', async () => {
    const at = '2026-05-04T09:30:00Z';
    const events: UsageEvent[] = [
      { eventId: 'price-1', user: ada, model: 'gpt-4o', inputTokens: 523, outputTokens: 1247, toolCalls: 2, at },
      { eventId: 'price-2', user: ada, model: 'claude-3-opus', inputTokens: 1, outputTokens: 1, at },
      { eventId: 'price-3', user: ada, model: 'gemini-1.5-pro', inputTokens: 333, outputTokens: 777, toolCalls: 1, feature: 'analyze', at },
      { eventId: 'price-4', user: ada, model: 'gpt-4o-mini', inputTokens: 1001, outputTokens: 3, feature: 'workflow', dbAccess: true, at },
      { eventId: 'price-5', user: ada, model: 'claude-3.5-sonnet', inputTokens: 12_345, outputTokens: 678, toolCalls: 3, feature: 'summarize', at },
      { eventId: 'price-6', user: ada, model: 'mistral-large', inputTokens: 999, outputTokens: 1, feature: 'translate', at },
      { eventId: 'price-7', user: ada, model: 'gpt-3.5-turbo', inputTokens: 7, outputTokens: 3, feature: 'analyze', at },
      { eventId: 'price-8', user: ada, model: 'claude-3-haiku', inputTokens: 10, feature: 'image', images: 2, imageSize: 'hd', at },
      { eventId: 'price-9', user: ada, model: 'llama-3.1-groq', feature: 'image', images: 1, at },
      { eventId: 'price-10', user: ada, model: 'llama-3.1-groq', toolCalls: 3, outputTokens: 1, feature: 'workflow', dbAccess: true, at },
    ];
    // The oracle against the README's example and its round-up rule.
    expect(priceOf(events[0]!)).toBe(8000);
    expect(priceOf(events[1]!)).toBe(8 + 15);
    expect(priceOf(events[3]!)).toBe(605 + 303);

    const before = await balanceOf(ledger, 'Engineering');
    const result = await usageImport(file('priced.jsonl', jsonLines(events)), ['--json']);
    expect(result.exitCode).toBe(0);
    expect(report(result)).toEqual({
      file: join(dir, 'priced.jsonl'),
      dryRun: false,
      // A small file is parsed on the posting thread; a pipe on a second one (README, Usage import files).
      parser: 'inline',
      read: events.length,
      accepted: events.length,
      duplicates: 0,
      refused: 0,
      malformed: 0,
      acceptedMillicredits: sumOf(events),
      firstMalformedLine: null,
      problems: [],
      warnings: [],
    });

    // The same kinds of events as a CSV export from Windows: CRLF line ends, quoted cells, blank cells for defaults.
    const csvEvents = events.map((event) => ({ ...event, eventId: event.eventId.replace('price', 'csv-price') }));
    const csv = csvText(csvEvents, '\r\n').replace('csv-price-1,ada@example.com', '"csv-price-1","ada@example.com"');
    const fromCsv = await usageImport(file('priced.csv', csv), ['--json']);
    expect(fromCsv.exitCode).toBe(0);
    expect(report(fromCsv)).toMatchObject({
      read: csvEvents.length,
      accepted: csvEvents.length,
      refused: 0,
      malformed: 0,
      acceptedMillicredits: sumOf(csvEvents),
      problems: [],
    });
    expect(await balanceOf(ledger, 'Engineering')).toBe(before - 2 * sumOf(events));

    // The posted usage moved exactly that much from Engineering to the outside world.
    const usage = (await ledger.ok(['history', '--kind', 'usage', '--limit', '999999', '--json'])).json().transactions as {
      entries: { account: string; millicredits: number }[];
    }[];
    const toWorld = usage
      .flatMap((transaction) => transaction.entries)
      .filter((entry) => entry.account === 'world')
      .reduce((sum, entry) => sum + entry.millicredits, 0);
    expect(toWorld).toBe(2 * sumOf(events));
  });

  it('imports the same file a second time as duplicates only, leaving balances and history as they were', async () => {
    const at = '2026-05-05T12:00:00Z';
    const events = Array.from({ length: 40 }, (_unused, index) => llama(`twice-${index}`, ada, 1 + (index % 3), at));
    const jsonl = file('twice.jsonl', jsonLines(events));
    const csv = file('twice.csv', csvText(events.map((event) => ({ ...event, eventId: `csv-${event.eventId}` }))));
    expect(report(await usageImport(jsonl, ['--json']))).toMatchObject({ accepted: 40, duplicates: 0, acceptedMillicredits: sumOf(events) });
    expect(report(await usageImport(csv, ['--json']))).toMatchObject({ accepted: 40, duplicates: 0, acceptedMillicredits: sumOf(events) });
    const balances = await balanceOf(ledger, 'Engineering');
    const history = await historyJson();

    const again = await usageImport(jsonl, ['--json']);
    const againCsv = await usageImport(csv, ['--json']);
    expect(again.exitCode).toBe(0);
    expect(againCsv.exitCode).toBe(0);
    expect(report(again)).toMatchObject({ read: 40, accepted: 0, duplicates: 40, refused: 0, malformed: 0, acceptedMillicredits: 0, problems: [] });
    expect(report(againCsv)).toMatchObject({ read: 40, accepted: 0, duplicates: 40, refused: 0, malformed: 0, acceptedMillicredits: 0, problems: [] });
    expect(await balanceOf(ledger, 'Engineering')).toBe(balances);
    expect(await historyJson()).toEqual(history);
  });

  it('reports each malformed line by its line number (exit 2, INVALID_INPUT_FILE) and posts the good lines', async () => {
    const at = '2026-05-06T08:00:00Z';
    const good = [llama('bad-ok-1', ada, 1, at), llama('bad-ok-2', ada, 2, at), llama('bad-ok-3', ada, 3, at)];
    const lines = [
      JSON.stringify(good[0]), // 1
      '{"eventId":"bad-truncated","user":"ada@example.com","model":"gpt-4o","inputTok', // 2: cut off
      JSON.stringify(good[1]), // 3
      '', // 4: blank: skipped, but still a line
      '{"eventId":"bad-unknown","user":"ada@example.com","model":"gpt-4o","inputToken":10}', // 5: typo of inputTokens
      '{"user":"ada@example.com","model":"gpt-4o","inputTokens":10}', // 6: no eventId
      '{"eventId":"bad-number","user":"ada@example.com","model":"gpt-4o","inputTokens":"12x"}', // 7
      '{"eventId":"bad-negative","user":"ada@example.com","model":"gpt-4o","outputTokens":-5}', // 8
      '{"eventId":"bad-fraction","user":"ada@example.com","model":"gpt-4o","toolCalls":1.5}', // 9
      JSON.stringify(good[2]), // 10
    ];
    const path = file('malformed.jsonl', lines.join('\n') + '\n');
    // CSV: rows with too few and too many cells between two good rows.
    const goodCsv = [llama('csvbad-ok-1', ada, 1, at), llama('csvbad-ok-2', ada, 2, at)];
    const [header, row1, row2] = csvText(goodCsv).trimEnd().split('\n');
    const csvPath = file(
      'columns.csv',
      [header, row1, 'csvbad-short,ada@example.com,llama-3.1-groq', `${row1!.replace('csvbad-ok-1', 'csvbad-long')},extra`, row2].join('\n') + '\n',
    );
    const before = await balanceOf(ledger, 'Engineering');

    const result = await usageImport(path, ['--json']);
    expect(result.exitCode).toBe(2);
    expect(errorOf(result).code).toBe('INVALID_INPUT_FILE');
    expect(errorOf(result).message).toContain('line 2');
    const data = report(result);
    expect(data).toMatchObject({ read: 9, accepted: 3, duplicates: 0, refused: 0, malformed: 6, acceptedMillicredits: sumOf(good), firstMalformedLine: 2 });
    expect(data.problems.map((problem) => [problem.line, problem.code])).toEqual([2, 5, 6, 7, 8, 9].map((line) => [line, 'INVALID_INPUT_FILE']));
    const message = (line: number): string => data.problems.find((problem) => problem.line === line)!.message;
    expect(message(2)).toContain('JSON');
    expect(message(5)).toContain('"inputToken"');
    expect(message(6)).toContain('eventId');
    expect(message(7)).toContain('inputTokens');
    expect(message(8)).toContain('outputTokens');
    expect(message(9)).toContain('toolCalls');
    for (const line of [2, 5, 6, 7, 8, 9]) expect(message(line)).toContain(`line ${line}`);

    const csvResult = await usageImport(csvPath, ['--json']);
    expect(csvResult.exitCode).toBe(2);
    expect(errorOf(csvResult).code).toBe('INVALID_INPUT_FILE');
    const csvData = report(csvResult);
    expect(csvData).toMatchObject({ read: 4, accepted: 2, malformed: 2, refused: 0, acceptedMillicredits: sumOf(goodCsv) });
    expect(csvData.problems).toEqual([
      { line: 3, eventId: null, code: 'INVALID_INPUT_FILE', message: expect.stringContaining('3 columns, the header has 11') },
      { line: 4, eventId: null, code: 'INVALID_INPUT_FILE', message: expect.stringContaining('12 columns, the header has 11') },
    ]);

    // Without --json a person reads the same lines and the error code; the good lines are duplicates now.
    const plain = await usageImport(path);
    expect(plain.exitCode).toBe(2);
    expect(plain.stdout).toContain('0 accepted');
    expect(plain.stdout).toContain('3 duplicates');
    expect(plain.stdout).toContain('line 2');
    expect(plain.stdout).toContain('line 9');
    expect(plain.stderr).toContain('[INVALID_INPUT_FILE]');
    expect(plain.stderr).toContain('line 2');
    expect(await balanceOf(ledger, 'Engineering')).toBe(before - sumOf(good) - sumOf(goodCsv));
  });

  it('names the first malformed line even when more than the 1,000 listed problems came before it', async () => {
    const refusedFirst = Array.from({ length: 1_001 }, (_unused, index) =>
      JSON.stringify({ eventId: `nobody-${index}`, user: 'nobody@example.com', model: 'gpt-4o', inputTokens: 10 }),
    );
    const result = await usageImport(file('many-refusals.jsonl', `${refusedFirst.join('\n')}\n{"eventId":"cut-off","user":\n`), ['--json']);
    expect(result.exitCode).toBe(2);
    const data = report(result);
    expect(data).toMatchObject({ read: 1_002, refused: 1_001, malformed: 1, firstMalformedLine: 1_002 });
    expect(data.problems).toHaveLength(1_000);
    expect(errorOf(result).message).toContain('the first is line 1002');
  });

  it('posts the other events when some are refused by a limit or an empty department (exit 3, EVENTS_REFUSED)', async () => {
    // Research has 15 credits; rey may spend 10 a day.
    const day1 = '2026-05-07T08:00:00Z';
    const day2 = '2026-05-08T08:00:00Z';
    const events = [
      llama('ref-1', rey, 5, day1), // 1: ok, 5 of 10 used that day, Research 10 left
      llama('ref-2', rey, 6, day1), // 2: 11 > 10: the daily limit
      llama('ref-3', rey, 5, day1), // 3: ok, exactly at the limit, Research 5 left
      llama('ref-4', rey, 4, day2), // 4: ok, a new day, Research 1 left
      llama('ref-5', rey, 2, day2), // 5: within the limit, but Research has only 1 credit
      llama('ref-6', rey, 1, day2), // 6: ok, Research at exactly zero
    ];
    const path = file('refusals.jsonl', jsonLines(events));
    const accepted = [events[0]!, events[2]!, events[3]!, events[5]!];

    const result = await usageImport(path, ['--json']);
    expect(result.exitCode).toBe(3);
    expect(errorOf(result).code).toBe('EVENTS_REFUSED');
    const data = report(result);
    expect(data).toMatchObject({ read: 6, accepted: 4, duplicates: 0, refused: 2, malformed: 0, acceptedMillicredits: sumOf(accepted) });
    expect(data.problems.map(({ line, eventId, code }) => ({ line, eventId, code }))).toEqual([
      { line: 2, eventId: 'ref-2', code: 'LIMIT_EXCEEDED' },
      { line: 5, eventId: 'ref-5', code: 'INSUFFICIENT_CREDITS' },
    ]);

    // Again without --json: the posted ones are duplicates, the refused ones refused again, EVENTS_REFUSED on stderr.
    const plain = await usageImport(path);
    expect(plain.exitCode).toBe(3);
    expect(plain.stderr).toContain('[EVENTS_REFUSED]');
    expect(plain.stdout).toContain('4 duplicates');
    expect(plain.stdout).toContain('2 refused');
    expect(plain.stdout).toContain('line 2: [LIMIT_EXCEEDED]');
    expect(plain.stdout).toContain('line 5: [INSUFFICIENT_CREDITS]');
    expect(await balanceOf(ledger, 'Research')).toBe(0);
  });

  it('--dry-run reports what the real import then does, and writes nothing', async () => {
    // Marketing has 10 credits.
    const at = '2026-05-09T10:00:00Z';
    const events = [llama('dry-1', don, 4, at), llama('dry-2', don, 4, at), llama('dry-3', don, 4, at), llama('dry-4', don, 2, at)];
    const path = file('dry.jsonl', jsonLines(events));
    const before = await writes();

    const dry = await usageImport(path, ['--dry-run', '--json']);
    expect(dry.exitCode).toBe(3);
    expect(errorOf(dry).code).toBe('EVENTS_REFUSED');
    const dryData = report(dry);
    expect(dryData).toMatchObject({ dryRun: true, read: 4, accepted: 3, refused: 1, acceptedMillicredits: 10_000 });
    expect(dryData.problems).toMatchObject([{ line: 3, eventId: 'dry-3', code: 'INSUFFICIENT_CREDITS' }]);
    expect(await writes()).toEqual(before);

    const real = await usageImport(path, ['--json']);
    expect(real.exitCode).toBe(dry.exitCode);
    expect({ ...report(real), dryRun: true }).toEqual(dryData);
    expect(await balanceOf(ledger, 'Marketing')).toBe(0);
  });

  it('--dry-run of a file longer than one batch (5,000 lines) reports the same as the real import', async () => {
    // The credits run out early and one event id repeats all through the file, across the import's batches.
    await ledger.ok(['transfer', '10', '--from', 'org', '--to', 'Marketing']);
    const at = '2026-05-10T10:00:00Z';
    const big = JSON.stringify(llama('long-big', don, 9, at));
    const lines = [...Array.from({ length: 5201 }, () => big), JSON.stringify(llama('long-last', don, 2, at))];
    const path = file('long.jsonl', lines.join('\n') + '\n');

    const dry = await usageImport(path, ['--dry-run', '--json']);
    const real = await usageImport(path, ['--json']);
    const realData = report(real);
    expect(real.exitCode).toBe(3);
    expect(errorOf(real).code).toBe('EVENTS_REFUSED');
    expect(realData).toMatchObject({ read: 5202, accepted: 1, duplicates: 5200, refused: 1, acceptedMillicredits: 9000 });
    expect(realData.problems).toMatchObject([{ line: 5202, eventId: 'long-last', code: 'INSUFFICIENT_CREDITS' }]);
    expect({ ...report(dry), dryRun: false }).toEqual(realData);
    expect(dry.exitCode).toBe(real.exitCode);
    expect(await balanceOf(ledger, 'Marketing')).toBe(1000);
  });

  it('reads standard input with -: JSON lines and CSV, told apart by the first line or by --format', async () => {
    const at = '2026-05-11T10:00:00Z';
    const viaJson = [llama('stdin-json-1', ada, 1, at), llama('stdin-json-2', ada, 2, at)];
    const viaCsv = [llama('stdin-csv-1', ada, 3, at), llama('stdin-csv-2', ada, 1, at)];
    const before = await balanceOf(ledger, 'Engineering');

    const json = await usageImport('-', ['--json'], jsonLines(viaJson));
    expect(json.exitCode).toBe(0);
    expect(report(json)).toEqual({
      file: '-',
      dryRun: false,
      parser: 'thread',
      read: 2,
      accepted: 2,
      duplicates: 0,
      refused: 0,
      malformed: 0,
      acceptedMillicredits: sumOf(viaJson),
      firstMalformedLine: null,
      problems: [],
      warnings: [],
    });
    const csv = await usageImport('-', ['--format', 'csv', '--json'], csvText(viaCsv));
    expect(csv.exitCode).toBe(0);
    expect(report(csv)).toMatchObject({ file: '-', read: 2, accepted: 2, acceptedMillicredits: sumOf(viaCsv) });
    // Piped again without --format: the header row tells CSV apart, and both are duplicates.
    expect(report(await usageImport('-', ['--json'], csvText(viaCsv)))).toMatchObject({ read: 2, accepted: 0, duplicates: 2 });
    expect(await balanceOf(ledger, 'Engineering')).toBe(before - sumOf(viaJson) - sumOf(viaCsv));
  });

  it('reads files that start with a UTF-8 byte order mark, as Windows tools write them, JSON lines and CSV alike', async () => {
    const at = '2026-05-11T11:00:00Z';
    const viaJson = [llama('bom-json-1', ada, 1, at), llama('bom-json-2', ada, 2, at)];
    const viaCsv = [llama('bom-csv-1', ada, 1, at), llama('bom-csv-2', ada, 2, at)];
    const before = await balanceOf(ledger, 'Engineering');
    const csv = await usageImport(file('bom.csv', `\uFEFF${csvText(viaCsv)}`), ['--json']);
    expect(report(csv)).toMatchObject({ read: 2, accepted: 2, malformed: 0, acceptedMillicredits: sumOf(viaCsv) });
    const json = await usageImport(file('bom.jsonl', `\uFEFF${jsonLines(viaJson)}`), ['--json']);
    expect(report(json)).toMatchObject({ read: 2, accepted: 2, malformed: 0, acceptedMillicredits: sumOf(viaJson), problems: [] });
    expect(json.exitCode).toBe(0);
    expect(await balanceOf(ledger, 'Engineering')).toBe(before - sumOf(viaJson) - sumOf(viaCsv));
  });

  it('reads a German spreadsheet export: ; detected from the header, quoted line breaks and doubled quotes; a bad --delimiter exits 2', async () => {
    const at = '2026-05-12T08:00:00Z';
    const events = [llama('de-1', ada, 1, at), llama('de-"2"', ada, 2, at)];
    const text = [
      'eventId;user;model;toolCalls;at',
      // Line 2: a cell with a line break in it (the spreadsheet kept an Alt+Enter): one record over lines 2-3.
      `de-1;"${ada}\n";llama-3.1-groq;20;${at}`,
      `"de-""2""";${ada};"llama-3.1-groq";40;${at}`,
      `de-3;${ada};llama-3.1-groq;;nicht-ein-datum`,
    ].join('\r\n');
    const path = file('oktober-export.csv', `${text}\r\n`);
    const before = await balanceOf(ledger, 'Engineering');
    const result = await usageImport(path, ['--json']);
    expect(result.exitCode).toBe(2);
    // Two events posted exactly; the bad one is numbered by the file's own line 5, counted past the record over two lines.
    expect(report(result)).toMatchObject({ read: 3, accepted: 2, malformed: 1, firstMalformedLine: 5, acceptedMillicredits: sumOf(events) });
    expect(await balanceOf(ledger, 'Engineering')).toBe(before - sumOf(events));

    const wrong = await usageImport(path, ['--delimiter', '|']);
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr).toMatch(/--delimiter "\|" is not a CSV delimiter: use ',' \(comma\), ';' \(semicolon\) or tab/);
  });

  it('refuses an empty file, a missing file, a directory, a binary file and empty stdin: exit 2, INVALID_INPUT_FILE, nothing written', async () => {
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]),
      Buffer.from(Array.from({ length: 4096 }, (_unused, index) => (index * 151) % 256)),
    ]);
    mkdirSync(join(dir, 'a-folder.jsonl'));
    const cases: { name: string; target: string; input?: string; mentions: string }[] = [
      { name: 'empty file', target: file('empty.jsonl', ''), mentions: 'empty' },
      { name: 'blank lines only', target: file('blank.csv', '\n\n  \n'), mentions: 'empty' },
      { name: 'missing file', target: join(dir, 'no-such-file.jsonl'), mentions: 'does not exist' },
      { name: 'directory', target: join(dir, 'a-folder.jsonl'), mentions: 'not a file' },
      { name: 'binary file', target: file('picture.jsonl', png), mentions: 'picture.jsonl" is not UTF-8 text (is it a binary file?)' },
      { name: 'empty stdin', target: '-', input: '', mentions: 'empty' },
    ];
    const before = await writes();
    const results = await Promise.all(cases.map((testCase) => usageImport(testCase.target, ['--json'], testCase.input)));
    results.forEach((result, index) => {
      const { name, mentions } = cases[index]!;
      expect({ name, exitCode: result.exitCode, stdout: result.stdout }).toEqual({ name, exitCode: 2, stdout: '' });
      const error = errorOf(result);
      expect({ name, code: error.code }).toEqual({ name, code: 'INVALID_INPUT_FILE' });
      expect(error.message).toContain(mentions);
    });
    expect(await writes()).toEqual(before);
  });

  it('refuses an event id posted before with other content (IDEMPOTENCY_CONFLICT, counted as refused)', async () => {
    const at = '2026-05-12T10:00:00Z';
    const original = { eventId: 'conflict-1', user: ada, model: 'gpt-4o', inputTokens: 100, at };
    const fresh = { eventId: 'conflict-2', user: ada, model: 'gpt-4o', inputTokens: 200, at };
    expect(report(await usageImport(file('conflict-a.jsonl', jsonLines([original])), ['--json']))).toMatchObject({ accepted: 1 });
    const before = await balanceOf(ledger, 'Engineering');

    const lines = [
      { ...original, inputTokens: 101 }, // 1: other content than posted before
      original, // 2: the very same event: a duplicate
      fresh, // 3: new
      { ...fresh, inputTokens: 201 }, // 4: the id of line 3 with other content, in the same file
      { ...original, model: 'gpt-4o-mini' }, // 5: another model
    ];
    const result = await usageImport(file('conflict-b.jsonl', jsonLines(lines)), ['--json']);
    expect(result.exitCode).toBe(3);
    expect(errorOf(result).code).toBe('EVENTS_REFUSED');
    const data = report(result);
    expect(data).toMatchObject({ read: 5, accepted: 1, duplicates: 1, refused: 3, malformed: 0, acceptedMillicredits: priceOf(fresh) });
    expect(data.problems.map(({ line, eventId, code }) => ({ line, eventId, code }))).toEqual([
      { line: 1, eventId: 'conflict-1', code: 'IDEMPOTENCY_CONFLICT' },
      { line: 4, eventId: 'conflict-2', code: 'IDEMPOTENCY_CONFLICT' },
      { line: 5, eventId: 'conflict-1', code: 'IDEMPOTENCY_CONFLICT' },
    ]);
    expect(await balanceOf(ledger, 'Engineering')).toBe(before - priceOf(fresh));
  });

  it('leaves a ledger that verifies', async () => {
    const result = await ledger.run(['verify', '--json']);
    expect(result.exitCode).toBe(0);
    expect(result.json()).toMatchObject({ ok: true, problems: [] });
  });
});
