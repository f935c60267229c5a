import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshLedger, type Ledger } from '../helpers/cli.js';
import { csvMillicredits, csvRecords, importUsage, parseCsv, pdfLines, priceOf, seeded, type UsageEvent } from '../helpers/readBack.js';

/**
 * The statement as files: PDF (read back as text), CSV (parsed back) and JSON, for the whole
 * organisation and for one department, of a March that opens with February's leftovers. Names
 * carry umlauts and an ampersand; every figure is recomputed from what the test posted.
 */

const FE = 'Forschung & Entwicklung';
const SUED = 'Vertrieb Süd';
const USERS = [
  { email: 'jürgen@example.com', dept: FE },
  { email: 'ada@example.com', dept: FE },
  { email: 'ana@example.com', dept: SUED },
];

const group = new Intl.NumberFormat('en-US');
/** Credits as people read them: thousands separators, at least one decimal, no trailing zeros past it. */
function fc(millicredits: number): string {
  const sign = millicredits < 0 ? '-' : '';
  const absolute = Math.abs(millicredits);
  let fraction = String(absolute % 1000).padStart(3, '0');
  while (fraction.length > 1 && fraction.endsWith('0')) fraction = fraction.slice(0, -1);
  return `${sign}${group.format(Math.floor(absolute / 1000))}.${fraction}`;
}
/** The euro value of credits (a credit is a cent), rounded half up to the cent. */
function fe(millicredits: number): string {
  const cents = Math.floor((Math.abs(millicredits) + 500) / 1000);
  return `${millicredits < 0 ? '-' : ''}€${group.format(Math.floor(cents / 100))}.${String(cents % 100).padStart(2, '0')}`;
}

function events(prefix: string, month: string, count: number, seed: number): UsageEvent[] {
  const next = seeded(seed);
  return Array.from({ length: count }, (_, index) => ({
    eventId: `${prefix}-${index}`,
    user: USERS[index % USERS.length]!.email,
    model: ['gpt-4o', 'gpt-4o-mini', 'claude-3-haiku'][Math.floor(next() * 3)]!,
    inputTokens: Math.floor(next() * 5000),
    outputTokens: Math.floor(next() * 2500),
    toolCalls: Math.floor(next() * 2),
    feature: ['chat', 'summarize', 'analyze'][Math.floor(next() * 3)]!,
    at: `${month}-${String(1 + Math.floor(next() * 18)).padStart(2, '0')}T10:00:00Z`,
  }));
}

const FEBRUARY = events('feb', '2026-02', 12, 1);
const MARCH = events('mar', '2026-03', 30, 2);
const cost = (list: UsageEvent[], dept?: string): number =>
  list.filter((event) => dept === undefined || USERS.find((user) => user.email === event.user)!.dept === dept).reduce((sum, event) => sum + priceOf(event), 0);
const count = (list: UsageEvent[], dept?: string): number =>
  list.filter((event) => dept === undefined || USERS.find((user) => user.email === event.user)!.dept === dept).length;

// The books: February buys Standard (5,000 credits) and gives Forschung & Entwicklung 1,000.
const ORG_OPENING = 5_000_000 - cost(FEBRUARY);
const ORG_USAGE = cost(MARCH);
const ORG_CLOSING = ORG_OPENING + 10_000_000 - ORG_USAGE;
const FE_OPENING = 1_000_000 - cost(FEBRUARY, FE);
const FE_USAGE = cost(MARCH, FE);
const FE_CLOSING = FE_OPENING + 3_000_000 - 250_250 - FE_USAGE;

describe('statement files on a local ledger', () => {
  let ledger: Ledger;
  let dir: string;
  const at = (now: string) => ({ env: { CREDITS_NOW: now } });
  const LATER = at('2026-04-01T05:00:00Z');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-statements-'));
    ledger = await freshLedger('local');
    const start = at('2026-02-01T09:00:00Z');
    await ledger.ok(['init', '--org', 'Müller Straße GmbH'], start);
    await ledger.ok(['dept', 'add', FE, '--cost-center', 'CC-5200'], start);
    await ledger.ok(['dept', 'add', SUED], start);
    for (const user of USERS) await ledger.ok(['user', 'add', user.email, '--dept', user.dept], start);
    await ledger.ok(['buy', 'standard', '--method', 'card'], at('2026-02-10T09:00:00Z'));
    await ledger.ok(['transfer', '1000', '--from', 'org', '--to', FE], at('2026-02-11T09:00:00Z'));
    await ledger.ok(['transfer', '300', '--from', 'org', '--to', SUED], at('2026-02-11T09:05:00Z'));
    await importUsage(ledger, FEBRUARY, { CREDITS_NOW: '2026-02-20T09:00:00Z' });
    await ledger.ok(['buy', 'professional', '--method', 'card'], at('2026-03-02T09:00:00Z'));
    await ledger.ok(['transfer', '3000', '--from', 'org', '--to', FE, '--reason', 'Quartalsbudget Q1'], at('2026-03-03T09:00:00Z'));
    await ledger.ok(['transfer', '250.25', '--from', FE, '--to', SUED, '--reason', 'Aushilfe für Kampagne'], at('2026-03-04T09:00:00Z'));
    await importUsage(ledger, MARCH, { CREDITS_NOW: '2026-03-20T09:00:00Z' });
  });
  afterAll(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the organisation PDF: summary, reconciliation, purchases and cost centres, with € and umlauts', async () => {
    const path = join(dir, 'statement-2026-03.pdf');
    const result = await ledger.ok(['statement', '--month', '2026-03', '--format', 'pdf', '--output', path], LATER);
    expect(result.stdout).toContain(`closing ${fc(ORG_CLOSING)} credits`);
    expect(readFileSync(path).subarray(0, 5).toString()).toBe('%PDF-');
    const pages = await pdfLines(path);
    const lines = pages.flat();
    const text = pages.map((page) => page.join(' ')).join(' ');
    expect(lines).toContain('Credits statement March 2026');
    expect(lines).toContain('Müller Straße GmbH');
    expect(lines).toContain(`Opening balance, 1 March 2026 ${fc(ORG_OPENING)} ${fe(ORG_OPENING)}`);
    expect(lines).toContain('Purchases (1), price paid +10,000.0 +€95.00');
    expect(lines).toContain('Volume discount (list value above the price) +€5.00');
    expect(lines).toContain(`Usage (${count(MARCH)} events) -${fc(ORG_USAGE)} -${fe(ORG_USAGE)}`);
    expect(lines).toContain(`Closing balance, 31 March 2026 ${fc(ORG_CLOSING)} ${fe(ORG_CLOSING)}`);
    expect(text).toContain(
      `Reconciliation: opening ${fc(ORG_OPENING)} + purchases 10,000.0 + transfers in 0.0 - transfers out 0.0 - usage ${fc(ORG_USAGE)} = closing ${fc(ORG_CLOSING)} credits.`,
    );
    expect(lines).toContain('2026-03-02 #2 Professional Card 10,000.0 €95.00');
    expect(lines).toContain(`${FE} CC-5200 ${count(MARCH, FE)} ${fc(cost(MARCH, FE))} ${fe(cost(MARCH, FE))}`);
    expect(lines).toContain(`${SUED} – ${count(MARCH, SUED)} ${fc(cost(MARCH, SUED))} ${fe(cost(MARCH, SUED))}`);
    expect(lines.some((line) => line.startsWith('jürgen@example.com Forschung'))).toBe(true);
    expect(pages.at(-1)!.some((line) => line.endsWith(`Page ${pages.length} of ${pages.length}`))).toBe(true);
  });

  it('the department PDF: its cost centre, transfers in and out, and its own usage only', async () => {
    const path = join(dir, 'fe.pdf');
    await ledger.ok(['statement', '--month', '2026-03', '--dept', FE, '--output', path], LATER);
    const pages = await pdfLines(path);
    const lines = pages.flat();
    const text = pages.map((page) => page.join(' ')).join(' ');
    expect(lines).toContain(`Department ${FE} · cost centre CC-5200`);
    expect(lines).toContain(`Opening balance, 1 March 2026 ${fc(FE_OPENING)} ${fe(FE_OPENING)}`);
    expect(lines).toContain('Purchases (0), price paid 0.0 €0.00');
    expect(lines).toContain('Transfers in (1) +3,000.0 +€30.00');
    expect(lines).toContain('Transfers out (1) -250.25 -€2.50');
    expect(lines).toContain(`Usage (${count(MARCH, FE)} events) -${fc(FE_USAGE)} -${fe(FE_USAGE)}`);
    expect(lines).toContain(`Closing balance, 31 March 2026 ${fc(FE_CLOSING)} ${fe(FE_CLOSING)}`);
    expect(text).toContain(
      `Reconciliation: opening ${fc(FE_OPENING)} + purchases 0.0 + transfers in 3,000.0 - transfers out 250.25 - usage ${fc(FE_USAGE)} = closing ${fc(FE_CLOSING)} credits.`,
    );
    expect(lines).toContain('2026-03-03 in from org Quartalsbudget Q1 +3,000.0');
    expect(lines.some((line) => line.startsWith('2026-03-04 out to Vertrieb Süd Aushilfe für Kampagne -250.25'))).toBe(true);
    expect(text).not.toContain('ana@example.com');
  });

  it('the CSV: a header row, one line item per row, dot decimals, and the rows reconcile', async () => {
    const path = join(dir, 'fe.csv');
    await ledger.ok(['statement', '--month', '2026-03', '--dept', FE, '--output', path], LATER);
    const content = readFileSync(path, 'utf8');
    expect(parseCsv(content)[0]).toEqual(['month', 'scope', 'section', 'item', 'detail', 'date', 'events', 'credits', 'euros']);
    const records = csvRecords(content);
    for (const record of records) {
      expect(record.month).toBe('2026-03');
      expect(record.scope).toBe(FE);
      expect(record.credits).toMatch(/^-?\d+\.\d{3}$/);
      expect(record.euros).toMatch(/^-?\d+\.\d{2}$/);
    }
    const section = (name: string) => records.filter((record) => record.section === name);
    const amount = (name: string): number => section(name).reduce((sum, record) => sum + csvMillicredits(record.credits!), 0);
    expect(amount('opening')).toBe(FE_OPENING);
    expect(amount('purchase')).toBe(0);
    expect(section('transfer_in')).toEqual([
      expect.objectContaining({ item: 'org', detail: 'Quartalsbudget Q1', date: '2026-03-03', credits: '3000.000', euros: '30.00' }),
    ]);
    expect(section('transfer_out')).toEqual([
      expect.objectContaining({ item: SUED, detail: 'Aushilfe für Kampagne', date: '2026-03-04', credits: '-250.250', euros: '-2.50' }),
    ]);
    expect(section('usage')).toEqual([expect.objectContaining({ events: String(count(MARCH, FE)) })]);
    expect(amount('usage')).toBe(-FE_USAGE);
    expect(amount('closing')).toBe(FE_CLOSING);
    expect(amount('opening') + amount('purchase') + amount('transfer_in') + amount('transfer_out') + amount('usage') + amount('adjustment')).toBe(
      amount('closing'),
    );
    expect(section('usage_by_cost_centre')).toEqual([expect.objectContaining({ item: FE, detail: 'CC-5200', events: String(count(MARCH, FE)) })]);
    expect(amount('usage_by_cost_centre')).toBe(FE_USAGE);
    expect(
      section('usage_by_user')
        .map((record) => record.item)
        .sort(),
    ).toEqual(['ada@example.com', 'jürgen@example.com']);
    expect(amount('usage_by_user')).toBe(FE_USAGE);
    expect(amount('usage_by_model')).toBe(FE_USAGE);
    expect(amount('usage_by_feature')).toBe(FE_USAGE);
  });

  it('the JSON file is the --json document, and the organisation CSV lists each department under its cost centre', async () => {
    const path = join(dir, 'march.json');
    await ledger.ok(['statement', '--month', '2026-03', '--output', path], LATER);
    const printed = (await ledger.ok(['statement', '--month', '2026-03', '--json'], LATER)).json();
    const written = JSON.parse(readFileSync(path, 'utf8'));
    expect(written).toEqual(printed);
    expect(written).toMatchObject({
      organisation: 'Müller Straße GmbH',
      monthKey: '2026-03',
      openingMillicredits: ORG_OPENING,
      usageMillicredits: ORG_USAGE,
      closingMillicredits: ORG_CLOSING,
      transfers: [],
    });
    expect(written.usageByDepartment).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ label: FE, costCenter: 'CC-5200', events: count(MARCH, FE), millicredits: cost(MARCH, FE) }),
        expect.objectContaining({ label: SUED, costCenter: null, events: count(MARCH, SUED), millicredits: cost(MARCH, SUED) }),
      ]),
    );
    const csvPath = join(dir, 'march.txt');
    await ledger.ok(['statement', '--month', '2026-03', '--format', 'csv', '--output', csvPath], LATER);
    const centres = csvRecords(readFileSync(csvPath, 'utf8')).filter((record) => record.section === 'usage_by_cost_centre');
    expect(centres.map((record) => [record.item, record.detail, csvMillicredits(record.credits!)]).sort()).toEqual(
      [
        [FE, 'CC-5200', cost(MARCH, FE)],
        [SUED, '', cost(MARCH, SUED)],
      ].sort(),
    );
  });

  it('refuses a folder that does not exist (exit 2), and leaves no temporary file anywhere', async () => {
    const missing = await ledger.run(['statement', '--month', '2026-03', '--output', join(dir, 'no-such-folder', 's.pdf'), '--json'], LATER);
    expect(missing.exitCode).toBe(2);
    expect(JSON.parse(missing.stderr).error.code).toBe('INVALID_VALUE');
    expect(readdirSync(dir).sort()).toEqual(['fe.csv', 'fe.pdf', 'march.json', 'march.txt', 'statement-2026-03.pdf']);
  });
});
