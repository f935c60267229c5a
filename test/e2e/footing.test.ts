import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, freshLedger, type Ledger } from '../helpers/cli.js';
import { csvRecords, pdfLines } from '../helpers/readBack.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';

/**
 * Every figure adds up, on the demo ledger and one month of a department that overdraws on the
 * org pool: each report and statement is read back (JSON and CSV over the HTTP API, CSV, the
 * terminal table and PDF from the command) and checked to foot, to reconcile to its closing
 * balance, and to give one usage total in every breakdown of a statement.
 */

const DEMO_NOW = '2026-11-20T10:00:00Z';
const DEMO_MONTHS = ['2026-08', '2026-09', '2026-10', '2026-11'];
const GROUPS = ['user', 'dept', 'model', 'feature', 'day'];
const DEPARTMENTS = ['Engineering', 'Marketing', 'Sales', 'Support'];

const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);
/** "12.34" or "-0.07" -> cents. */
const csvCents = (text: string): number => Math.round(Number(text) * 100) + 0;
const csvMillicredits = (text: string): number => Math.round(Number(text) * 1000) + 0;
/** "€1,234.56", "+€3.00", "-€0.07" -> cents. */
function cents(text: string): number {
  const match = /([+-]?)€([\d,]+)\.(\d\d)$/.exec(text.trim());
  if (!match) throw new Error(`no euro amount at the end of "${text}"`);
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]!.replaceAll(',', '')) * 100 + Number(match[3]));
}
const roundedOnce = (millicredits: number): number => Math.floor((millicredits + 500) / 1000);

type ReportJson = {
  rows: { key: string; millicredits: number; valueCents: number; sharePercent: number }[];
  totals: { millicredits: number; valueCents: number; sharePercent: number };
};
type StatementJson = {
  usageMillicredits: number;
  usageCents: number;
  openingCents: number;
  closingCents: number;
  usageByDepartment: { millicredits: number; cents: number }[];
  usageByUser: { millicredits: number; cents: number }[];
  usageByModel: { millicredits: number; cents: number }[];
  usageByFeature: { millicredits: number; cents: number }[];
};

/** A statement CSV: opening + every summary line = closing in credits and euros; each breakdown totals the usage line. */
function expectStatementCsvFoots(text: string, what: string): { usageCents: number } {
  const records = csvRecords(text);
  const closing = records.find((record) => record.section === 'closing')!;
  const summary = records.filter((record) => record.section !== 'closing' && !record.section!.startsWith('usage_by_'));
  expect(sum(summary.map((record) => csvMillicredits(record.credits!))), what).toBe(csvMillicredits(closing.credits!));
  expect(sum(summary.map((record) => csvCents(record.euros!))), what).toBe(csvCents(closing.euros!));
  expect(csvCents(closing.euros!), what).toBe(roundedOnce(csvMillicredits(closing.credits!)));
  const usageCents = -csvCents(records.find((record) => record.section === 'usage')!.euros!) + 0;
  for (const section of ['usage_by_cost_centre', 'usage_by_user', 'usage_by_model', 'usage_by_feature']) {
    const rows = records.filter((record) => record.section === section);
    if (rows.length > 0) expect(sum(rows.map((record) => csvCents(record.euros!))), `${what} ${section}`).toBe(usageCents);
  }
  return { usageCents };
}

describe(`every table foots, on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  let server: ApiServer;
  let token: string;
  let dir: string;
  const at = (now: string) => ({ env: { CREDITS_NOW: now } });
  const get = async <T>(path: string): Promise<{ body: T; text: string }> => {
    const answer = await server.request('GET', path, { token });
    expect(answer.status, `${path}: ${answer.text}`).toBe(200);
    return { body: answer.body as T, text: answer.text };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-footing-'));
    ledger = await freshLedger();
    await ledger.ok(['init', '--demo'], at(DEMO_NOW));
    // December: Ops has 1 credit and an overdraft on the pool, spends more, and org buys Enterprise (EUR 850).
    const december = at('2026-12-05T10:00:00Z');
    await ledger.ok(['dept', 'add', 'Ops', '--cost-center', 'CC-500'], december);
    await ledger.ok(['user', 'add', 'ops@demo.example', '--dept', 'Ops'], december);
    await ledger.ok(['transfer', '1', '--from', 'org', '--to', 'Ops'], december);
    await ledger.ok(['dept', 'set', 'Ops', '--overdraft-from', 'org', '--overdraft-max', '100'], december);
    await ledger.ok(['usage', 'record', '--user', 'ops@demo.example', '--model', 'gpt-4o-mini', '--input-tokens', '1500', '--output-tokens', '800'], december);
    await ledger.ok(['usage', 'record', '--user', 'ops@demo.example', '--model', 'gpt-4o-mini', '--input-tokens', '1500', '--output-tokens', '900'], december);
    await ledger.ok(['buy', 'enterprise', '--method', 'card'], december);
    token = (await createToken(ledger, ['--role', 'reader', '--name', 'accountant'], { CREDITS_NOW: '2027-01-02T08:00:00Z' })).token;
    server = await startServer(ledger, [], { CREDITS_NOW: '2027-01-02T08:00:00Z' });
  });
  afterAll(async () => {
    await server?.stop();
    await ledger?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('report: for every --by and month of the demo, the values add up to the total rounded once and the shares to 100.0%', async () => {
    for (const month of DEMO_MONTHS) {
      for (const by of GROUPS) {
        const { body } = await get<ReportJson>(`/v1/report?by=${by}&month=${month}`);
        const what = `report --by ${by} --month ${month}`;
        expect(body.rows.length, what).toBeGreaterThan(1);
        expect(sum(body.rows.map((row) => row.valueCents)), what).toBe(body.totals.valueCents);
        expect(body.totals.valueCents, what).toBe(roundedOnce(body.totals.millicredits));
        expect(sum(body.rows.map((row) => Math.round(row.sharePercent * 10))), what).toBe(1000);
        for (const row of body.rows) expect(Math.abs(row.valueCents * 1000 - row.millicredits), `${what} ${row.key}`).toBeLessThan(1000);
      }
    }
    // The same from the command: the CSV a spreadsheet reads and the table a person reads.
    const csv = csvRecords((await ledger.ok(['report', '--by', 'feature', '--month', '2026-10', '--format', 'csv'])).stdout);
    const exact = sum(csv.map((record) => csvMillicredits(record.credits!)));
    expect(sum(csv.map((record) => csvCents(record.euros!)))).toBe(roundedOnce(exact));
    expect(sum(csv.map((record) => Math.round(Number(record.share_percent) * 10)))).toBe(1000);
    const table = (await ledger.ok(['report', '--by', 'feature', '--month', '2026-10'])).stdout.split('\n').filter((line) => line.startsWith('│'));
    const cells = table.map((line) =>
      line
        .split('│')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
    const body = cells.slice(1, -1);
    const total = cells.at(-1)!;
    expect(total[0]).toBe('Total');
    expect(sum(body.map((row) => cents(row[3]!)))).toBe(cents(total[3]!));
    expect(cents(total[3]!)).toBe(roundedOnce(exact));
    expect(sum(body.map((row) => Math.round(Number(row[4]!.replace('%', '')) * 10)))).toBe(1000);
    expect(total[4]).toBe('100.0%');
  });

  it('statement: the organisation and each department, every month: CSV and JSON foot and every breakdown gives one usage total', async () => {
    for (const month of [...DEMO_MONTHS, '2026-12']) {
      for (const dept of [null, ...DEPARTMENTS]) {
        const query = `month=${month}${dept === null ? '' : `&dept=${dept}`}`;
        const what = `statement --month ${month}${dept === null ? '' : ` --dept ${dept}`}`;
        const json = (await get<StatementJson>(`/v1/statement?${query}&format=json`)).body;
        const { usageCents } = expectStatementCsvFoots((await get(`/v1/statement?${query}&format=csv`)).text, what);
        expect(json.usageCents, what).toBe(usageCents);
        expect(usageCents, what).toBe(roundedOnce(json.usageMillicredits));
        for (const rows of [json.usageByDepartment, json.usageByUser, json.usageByModel, json.usageByFeature]) {
          expect(sum(rows.map((row) => row.cents)), what).toBe(rows.length === 0 ? 0 : json.usageCents);
          expect(sum(rows.map((row) => row.millicredits)), what).toBe(rows.length === 0 ? 0 : json.usageMillicredits);
        }
      }
    }
  });

  it('a purchase shows the price paid and the credits credited, with the volume discount on a line of its own', async () => {
    const csv = csvRecords((await get('/v1/statement?month=2026-12&format=csv')).text);
    const purchase = csv.find((record) => record.section === 'purchase')!;
    expect(purchase).toMatchObject({ item: 'Enterprise', credits: '100000.000', euros: '850.00' });
    expect(csv.find((record) => record.section === 'purchase_discount')).toMatchObject({ credits: '0.000', euros: '150.00', detail: purchase.detail });

    const path = join(dir, 'org-2026-12.pdf');
    await ledger.ok(['statement', '--month', '2026-12', '--output', path], at('2027-01-02T08:00:00Z'));
    const lines = (await pdfLines(path)).flat();
    expect(lines).toContain('Purchases (1), price paid +100,000.0 +€850.00');
    expect(lines).toContain('Volume discount (list value above the price) +€150.00');
    expect(lines.some((line) => line.includes('+€1,000.00'))).toBe(false);
    expect(lines.some((line) => /^\d{4}-\d\d-\d\d #\d+ Enterprise Card 100,000\.0 €850\.00$/.test(line))).toBe(true);
    expectPdfReconciles(lines);
  });

  it("a department's statement shows its usage in full and what its overdraft drew from the org pool, and reconciles", async () => {
    // Ops had 1.0 credit and spent 1.86 + 1.98 = 3.84: 2.84 came from the org pool.
    const json = (
      await get<StatementJson & { usageDrawnFromOrgMillicredits: number; closingMillicredits: number }>('/v1/statement?month=2026-12&dept=Ops&format=json')
    ).body;
    expect(json).toMatchObject({ usageMillicredits: 3840, usageDrawnFromOrgMillicredits: 2840, closingMillicredits: 0 });
    const text = (await get('/v1/statement?month=2026-12&dept=Ops&format=csv')).text;
    expectStatementCsvFoots(text, 'Ops');
    const csv = csvRecords(text);
    const line = (section: string) => csv.find((record) => record.section === section);
    expect(line('usage')).toMatchObject({ credits: '-3.840', euros: '-0.04', events: '2' });
    expect(line('usage_drawn_from_org')).toMatchObject({ credits: '2.840', euros: '0.03' });
    expect(line('closing')).toMatchObject({ credits: '0.000', euros: '0.00' });

    const path = join(dir, 'ops-2026-12.pdf');
    await ledger.ok(['statement', '--month', '2026-12', '--dept', 'Ops', '--output', path], at('2027-01-02T08:00:00Z'));
    const lines = (await pdfLines(path)).flat();
    expect(lines).toContain('Usage (2 events) -3.84 -€0.04');
    expect(lines).toContain('Drawn from the org pool (overdraft) +2.84 +€0.03');
    expect(lines).toContain('Ops CC-500 2 3.84 €0.04');
    expect(lines.join(' ')).toContain('- usage 3.84 + drawn from org 2.84 = closing 0.0 credits.');
    expectPdfReconciles(lines);
  });
});

/** The PDF's summary: opening + each line = closing, in credits and in euros. */
function expectPdfReconciles(lines: string[]): void {
  const start = lines.findIndex((line) => line.startsWith('Opening balance'));
  const end = lines.findIndex((line) => line.startsWith('Closing balance'));
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start + 1);
  const summary = lines.slice(start, end);
  expect(sum(summary.map(cents))).toBe(cents(lines[end]!));
  const creditsOf = (line: string): number => {
    const match = /([+-]?[\d,]+\.\d+) [+-]?€[\d,]+\.\d\d$/.exec(line);
    // A line of euros alone (the volume discount) moves no credits; a line of neither is a misread.
    if (!match && /[+-]?€[\d,]+\.\d\d$/.test(line)) return 0;
    if (!match) throw new Error(`no amount in the summary line "${line}"`);
    return Math.round(Number(match[1]!.replaceAll(',', '')) * 1000);
  };
  expect(sum(summary.map(creditsOf))).toBe(creditsOf(lines[end]!));
}
