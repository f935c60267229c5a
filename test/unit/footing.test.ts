import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { footCents, footShareTenths, footSteps, footTable } from '../../src/core/footing.js';
import { renderOutput } from '../../src/render/index.js';
import { writeStatementPdf } from '../../src/render/pdf/statement.js';
import type { StatementData } from '../../src/app/documentTypes.js';
import { reportCsv } from '../../src/render/views/reports.js';
import { statementCsv } from '../../src/render/views/statements.js';
import { footedStatement } from '../helpers/pdfData.js';
import { csvRecords, largestRemainder, pdfLines } from '../helpers/readBack.js';

/**
 * Every table with rounded lines foots: random data through the real footing and the real
 * renderers (terminal table, CSV, JSON, PDF), read back as a person or a spreadsheet would.
 */

const OPTIONS = { color: false, width: 400, timeZone: 'UTC' };
const dir = mkdtempSync(join(tmpdir(), 'credits-footing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** "€1,234.56" or "-€0.07" or "+€3.00" -> cents. */
function cents(text: string): number {
  const match = /^([+-]?)€([\d,]+)\.(\d\d)$/.exec(text.trim());
  if (!match) throw new Error(`not a euro amount: "${text}"`);
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]!.replaceAll(',', '')) * 100 + Number(match[3]));
}
/** "12.34" or "-0.07" (CSV) -> cents. */
const csvCents = (text: string): number => Math.round(Number(text) * 100) + 0;
/** "37.5%" -> tenths of a percent. */
const tenths = (text: string): number => Math.round(Number(text.replace('%', '')) * 10);
const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

/** The cells of each body row of a cli-table3 table. */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('│'))
    .map((line) =>
      line
        .split('│')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}

const millicredits = fc.integer({ min: 0, max: 5_000_000_000 });
const smallAmount = fc.oneof(fc.integer({ min: 0, max: 20_000 }), millicredits);

describe('largest remainder (core/footing.ts)', () => {
  it('adds up to the total rounded once, keeps every line within a step, leaves exact lines alone, and agrees with an independent implementation', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }), { maxLength: 40 }), (values) => {
        const { linesCents, totalCents } = footCents(values);
        const exact = sum(values);
        expect(totalCents).toBe(Math.floor((exact + 500) / 1000));
        expect(sum(linesCents)).toBe(totalCents);
        linesCents.forEach((line, index) => {
          expect(Math.abs(line * 1000 - values[index]!)).toBeLessThan(1000);
          if (values[index]! % 1000 === 0) expect(line * 1000).toBe(values[index]);
        });
        expect(linesCents).toEqual(largestRemainder(values, 1000));
      }),
      { numRuns: 300 },
    );
  });

  it('shares add up to exactly 100.0%, each within 0.1% of its exact share', () => {
    fc.assert(
      fc.property(fc.array(smallAmount, { minLength: 1, maxLength: 40 }), (values) => {
        const shares = footShareTenths(values);
        const whole = sum(values);
        if (whole === 0) {
          expect(shares.every((share) => share === 0)).toBe(true);
          return;
        }
        expect(sum(shares)).toBe(1000);
        shares.forEach((share, index) => {
          expect(Math.abs(share - (values[index]! * 1000) / whole)).toBeLessThan(1);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('ties go to the line listed first, and a pinned total one step above an all-exact sum goes there too', () => {
    expect(footCents([1500, 1500]).linesCents).toEqual([2, 1]);
    expect(footShareTenths([1, 1, 1])).toEqual([334, 333, 333]);
    expect(footSteps([10n, 0n], 1n, 11n)).toEqual([11n, 0n]);
    expect(() => footSteps([10n], 1n, 12n)).toThrow(/not a rounding/);
  });
});

const reportRows = fc.array(
  fc.record({ key: fc.string({ minLength: 1, maxLength: 8 }).map((key) => key.replace(/[│\n\r,"]/g, 'x')), events: fc.nat(5000), millicredits: smallAmount }),
  { minLength: 1, maxLength: 25 },
);

describe('report tables foot in the terminal, CSV and JSON', () => {
  it('values add up to the total value, shares to 100.0%', async () => {
    await fc.assert(
      fc.asyncProperty(reportRows, fc.constantFrom('user', 'dept', 'model', 'feature', 'day'), async (raw, by) => {
        const data = {
          by,
          period: { firstDay: '2026-10-01', lastDay: '2026-10-31', label: '2026-10' },
          department: null,
          ...footTable(raw.map((row) => ({ ...row, detail: null }))),
        };
        const spent = data.totals.millicredits > 0;
        // JSON: the document the command prints.
        const json = JSON.parse(JSON.stringify(data)) as typeof data;
        expect(sum(json.rows.map((row) => row.valueCents))).toBe(json.totals.valueCents);
        expect(json.totals.valueCents).toBe(Math.floor((json.totals.millicredits + 500) / 1000));
        expect(sum(json.rows.map((row) => Math.round(row.sharePercent * 10)))).toBe(spent ? 1000 : 0);
        // CSV: every line's euros add up to the exact credits rounded once, the shares to 100.0.
        const records = csvRecords(await reportCsv(data));
        expect(sum(records.map((record) => csvCents(record.euros!)))).toBe(data.totals.valueCents);
        expect(sum(records.map((record) => tenths(record.share_percent!)))).toBe(spent ? 1000 : 0);
        // The terminal table: the lines' values and shares add up to its Total row.
        const rows = tableRows(await renderOutput('report', data, OPTIONS));
        const total = rows.at(-1)!;
        const body = rows.slice(1, -1);
        expect(total[0]).toBe('Total');
        expect(sum(body.map((row) => cents(row.at(-2)!)))).toBe(cents(total.at(-2)!));
        expect(cents(total.at(-2)!)).toBe(data.totals.valueCents);
        expect(sum(body.map((row) => tenths(row.at(-1)!)))).toBe(tenths(total.at(-1)!));
        expect(tenths(total.at(-1)!)).toBe(spent ? 1000 : 0);
      }),
      { numRuns: 150 },
    );
  });

  it('the balance table: account values add up to the total value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(millicredits, { minLength: 1, maxLength: 12 }), async (amounts) => {
        const accounts = amounts.map((amount, index) => ({
          account: index === 0 ? 'org' : `Dept ${index}`,
          kind: index === 0 ? 'org' : 'department',
          costCenter: null,
          millicredits: amount,
          percentLeft: null,
        }));
        const rows = tableRows(await renderOutput('balances', { asOfMs: null, accounts, totalMillicredits: sum(amounts) }, OPTIONS));
        const values = rows.slice(1).map((row) => cents(row[3]!));
        expect(sum(values.slice(0, -1))).toBe(values.at(-1));
        expect(values.at(-1)).toBe(Math.floor((sum(amounts) + 500) / 1000));
      }),
      { numRuns: 150 },
    );
  });
});

const LABELS = {
  dept: ['Engineering', 'Sales', 'Ops'],
  user: ['a@x.example', 'b@x.example', 'c@x.example', 'd@x.example'],
  model: ['gpt-4o', 'claude-3-haiku'],
  feature: ['chat', 'analyze', 'workflow'],
};

/** A random month of one scope: events, purchases, transfers, an overdraft draw and adjustments that reconcile. */
const statementArbitrary = fc
  .record({
    events: fc.array(
      fc.record({ dept: fc.nat(2), user: fc.nat(3), model: fc.nat(1), feature: fc.nat(2), millicredits: fc.integer({ min: 1, max: 3_000_000 }) }),
      { maxLength: 30 },
    ),
    purchases: fc.array(fc.record({ credits: fc.integer({ min: 1, max: 200_000 }), extra: fc.nat(999), discount: fc.constantFrom(0, 5, 10, 15) }), {
      maxLength: 3,
    }),
    transfers: fc.array(fc.record({ in: fc.boolean(), millicredits: fc.integer({ min: 1, max: 90_000_000 }) }), { maxLength: 4 }),
    drawnPermille: fc.nat(1000),
    adjustments: fc.integer({ min: -2_000_000, max: 2_000_000 }),
    opening: millicredits,
  })
  .map((random): StatementData => {
    const group = (keyOf: (event: (typeof random.events)[number]) => string) => {
      const groups = new Map<string, { events: number; millicredits: number }>();
      for (const event of random.events) {
        const key = keyOf(event);
        const total = groups.get(key) ?? { events: 0, millicredits: 0 };
        total.events += 1;
        total.millicredits += event.millicredits;
        groups.set(key, total);
      }
      return [...groups].map(([label, total]) => ({ label, ...total })).sort((a, b) => b.millicredits - a.millicredits);
    };
    const usage = sum(random.events.map((event) => event.millicredits));
    const drawn = Math.floor((usage * random.drawnPermille) / 1000);
    const purchases = random.purchases.map((purchase, index) => {
      const amount = purchase.credits * 1000 + purchase.extra;
      return {
        dayKey: '2026-10-02',
        reference: `#${index + 1}`,
        description: 'Custom',
        method: 'card' as const,
        millicredits: amount,
        priceCents: Math.round((amount / 1000) * (1 - purchase.discount / 100)),
      };
    });
    const transfers = random.transfers.map((transfer) => ({
      dayKey: '2026-10-03',
      direction: transfer.in ? ('in' as const) : ('out' as const),
      counterparty: 'org',
      memo: '',
      millicredits: transfer.millicredits,
    }));
    const moved =
      sum(purchases.map((row) => row.millicredits)) +
      sum(transfers.map((row) => (row.direction === 'in' ? row.millicredits : -row.millicredits))) -
      usage +
      drawn +
      random.adjustments;
    // An opening high enough that the month never closes below zero.
    const opening = random.opening + Math.max(0, -moved);
    return footedStatement({
      organisation: 'Footing GmbH',
      monthKey: '2026-10',
      timeZone: 'Europe/Berlin',
      department: drawn > 0 ? { name: 'Ops', costCenter: 'CC-9' } : null,
      openingMillicredits: opening,
      purchases,
      transfers,
      usageMillicredits: usage,
      usageEvents: random.events.length,
      usageDrawnFromOrgMillicredits: drawn,
      adjustmentsMillicredits: random.adjustments,
      closingMillicredits: opening + moved,
      usageByDepartment: group((event) => LABELS.dept[event.dept]!).map((row) => ({ ...row, costCenter: null })),
      usageByUser: group((event) => LABELS.user[event.user]!).map((row) => ({ ...row, department: 'Engineering' })),
      usageByModel: group((event) => LABELS.model[event.model]!),
      usageByFeature: group((event) => LABELS.feature[event.feature]!),
    });
  });

/** The statement renderers take the facts with `organisation` and the other fields the store adds. */
const facts = (data: StatementData) => ({
  ...data,
  usageDrawnFromOrgMillicredits: data.usageDrawnFromOrgMillicredits ?? 0,
  adjustmentsMillicredits: data.adjustmentsMillicredits ?? 0,
  usageDrawnFromOrgCents: data.usageDrawnFromOrgCents ?? 0,
  adjustmentsCents: data.adjustmentsCents ?? 0,
  usageByUser: data.usageByUser.map((row) => ({ ...row, department: row.department ?? '' })),
});

describe('statements foot in CSV, JSON, the terminal and the PDF', () => {
  it('CSV and JSON: opening + lines = closing in credits and euros; every usage breakdown adds up to the one usage total', async () => {
    await fc.assert(
      fc.asyncProperty(statementArbitrary, async (data) => {
        const records = csvRecords(await statementCsv(facts(data)));
        const summary = records.filter((record) => !record.section!.startsWith('usage_by') && record.section !== 'closing');
        const closing = records.find((record) => record.section === 'closing')!;
        const usage = records.find((record) => record.section === 'usage')!;
        expect(sum(summary.map((record) => csvCents(record.euros!)))).toBe(csvCents(closing.euros!));
        expect(sum(summary.map((record) => Math.round(Number(record.credits) * 1000)))).toBe(Math.round(Number(closing.credits) * 1000));
        expect(csvCents(closing.euros!)).toBe(Math.floor((data.closingMillicredits + 500) / 1000));
        expect(-csvCents(usage.euros!) + 0).toBe(Math.floor((data.usageMillicredits + 500) / 1000));
        for (const section of ['usage_by_cost_centre', 'usage_by_user', 'usage_by_model', 'usage_by_feature']) {
          const rows = records.filter((record) => record.section === section);
          if (rows.length > 0) expect(sum(rows.map((record) => csvCents(record.euros!)))).toBe(-csvCents(usage.euros!) + 0);
        }
        // A purchase in euros is the price paid; its volume discount is a line of its own.
        for (const purchase of data.purchases)
          expect(records.find((record) => record.section === 'purchase' && record.detail === `${purchase.reference} card`)!.euros).toBe(
            (purchase.priceCents / 100).toFixed(2),
          );
        const json = JSON.parse(JSON.stringify(facts(data))) as ReturnType<typeof facts>;
        for (const rows of [json.usageByDepartment, json.usageByUser, json.usageByModel, json.usageByFeature])
          if (rows.length > 0) expect(sum(rows.map((row) => row.cents))).toBe(json.usageCents);
      }),
      { numRuns: 200 },
    );
  });

  it('the terminal statement: its summary reconciles in euros and its cost-centre table foots', async () => {
    await fc.assert(
      fc.asyncProperty(statementArbitrary, async (data) => {
        const text = await renderOutput('statement', { ...facts(data), organisation: 'Footing GmbH' }, OPTIONS);
        const euro = (label: string): number => {
          const line = text.split('\n').find((candidate) => candidate.includes(label));
          return line === undefined ? 0 : cents(/\((-?€[\d,.]+)\)/.exec(line)?.[1] ?? /paid (€[\d,.]+)/.exec(line)![1]!);
        };
        const discount = /\(volume discount ([+-]€[\d,.]+)\)/.exec(text)?.[1];
        const lines =
          euro('Opening balance') +
          euro('+ Purchases') +
          (discount ? cents(discount) : 0) +
          euro('+ Transfers in') -
          euro('− Transfers out') -
          euro('− Usage') +
          euro('+ Drawn from org') +
          euro('± Adjustments');
        expect(lines).toBe(euro('= Closing balance'));
        const rows = tableRows(text).slice(1);
        if (rows.length > 0) expect(sum(rows.slice(0, -1).map((row) => cents(row.at(-1)!)))).toBe(cents(rows.at(-1)!.at(-1)!));
      }),
      { numRuns: 150 },
    );
  });

  it('the PDF: summary euros reconcile to the closing balance, and every usage table totals the usage line', async () => {
    await fc.assert(
      fc.asyncProperty(statementArbitrary, async (data) => {
        const path = join(dir, 'statement.pdf');
        await writeStatementPdf(data, path);
        const lines = (await pdfLines(path)).flat();
        const amount = (line: string): number => cents(line.split(' ').at(-1)!);
        const start = lines.findIndex((line) => line.startsWith('Opening balance'));
        const end = lines.findIndex((line) => line.startsWith('Closing balance'));
        expect(sum(lines.slice(start, end).map(amount)) + 0).toBe(amount(lines[end]!) + 0);
        const usageLine = lines.find((line) => line.startsWith('Usage ('))!;
        for (const title of ['Usage by department', 'Usage by user', 'Usage by model', 'Usage by feature']) {
          const from = lines.findIndex((line) => line.startsWith(title));
          const to = lines.findIndex((line, index) => index > from && line.startsWith('Total'));
          if (to === -1 || lines.slice(from, to).some((line) => line.startsWith('No usage'))) continue;
          const rows = lines.slice(from + 1, to).filter((line) => /€[\d,]+\.\d\d$/.test(line));
          expect(sum(rows.map(amount))).toBe(amount(lines[to]!));
          // + 0: a usage line of "-€0.00" reads as -0, the table's total as 0; the same cents.
          expect(amount(lines[to]!) + 0).toBe(-amount(usageLine) + 0);
        }
      }),
      { numRuns: 8 },
    );
  });
});
