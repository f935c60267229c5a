import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshLedger, type Ledger } from '../helpers/cli.js';
import { RATES, importUsage, priceOf, seeded, type UsageEvent } from '../helpers/readBack.js';

/**
 * `statement --format datev`: the DATEV Buchungsstapel read back as DATEV reads it (Windows-1252,
 * CRLF, semicolons, quoted text): the header record, the 125 columns, one booking per cost centre
 * and model tier adding up to the statement's usage to the cent, and the month's purchase with
 * its input VAT key. Without the DATEV settings the export is refused, naming the flags.
 */

const FE = 'Forschung & Entwicklung';
const SUED = 'Vertrieb Süd';
const USERS = [
  { email: 'jürgen@example.com', dept: FE },
  { email: 'ana@example.com', dept: SUED },
];
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-3-haiku', 'claude-3.5-sonnet'];

const next = seeded(7);
const MARCH: UsageEvent[] = Array.from({ length: 40 }, (_, index) => ({
  eventId: `mar-${index}`,
  user: USERS[index % USERS.length]!.email,
  model: MODELS[Math.floor(next() * MODELS.length)]!,
  inputTokens: Math.floor(next() * 5000),
  outputTokens: Math.floor(next() * 2500),
  toolCalls: Math.floor(next() * 2),
  at: `2026-03-${String(1 + Math.floor(next() * 18)).padStart(2, '0')}T10:00:00Z`,
}));

/** DATEV's CSV: `;` between fields, `"` around text (doubled inside), CR LF after each line. */
function parseDatev(text: string): string[][] {
  expect(text.endsWith('\r\n')).toBe(true);
  expect(text.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
  return text
    .slice(0, -2)
    .split('\r\n')
    .map((line) => {
      const fields: string[] = [];
      let field = '';
      let quoted = false;
      for (let index = 0; index < line.length; index += 1) {
        const char = line[index]!;
        if (quoted && char === '"' && line[index + 1] === '"') {
          field += '"';
          index += 1;
        } else if (char === '"') quoted = !quoted;
        else if (char === ';' && !quoted) {
          fields.push(field);
          field = '';
        } else field += char;
      }
      fields.push(field);
      return fields;
    });
}

/** 1234,56 -> 123456 cents. */
function cents(amount: string): number {
  expect(amount).toMatch(/^\d{1,10},\d{2}$/);
  const [whole, fraction] = amount.split(',') as [string, string];
  return Number(whole) * 100 + Number(fraction);
}

describe('statement --format datev on a local ledger', () => {
  let ledger: Ledger;
  let dir: string;
  const at = (now: string) => ({ env: { CREDITS_NOW: now } });
  const LATER = at('2026-04-01T05:00:00Z');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-datev-'));
    ledger = await freshLedger('local');
    const start = at('2026-02-01T09:00:00Z');
    await ledger.ok(['init', '--org', 'Müller Straße GmbH'], start);
    await ledger.ok(['dept', 'add', FE, '--cost-center', 'CC-5200'], start);
    await ledger.ok(['dept', 'add', SUED, '--cost-center', '4711'], start);
    for (const user of USERS) await ledger.ok(['user', 'add', user.email, '--dept', user.dept], start);
    await ledger.ok(['buy', 'professional', '--method', 'card'], at('2026-03-02T09:00:00Z'));
    await ledger.ok(['transfer', '4000', '--from', 'org', '--to', FE], at('2026-03-02T09:10:00Z'));
    await ledger.ok(['transfer', '4000', '--from', 'org', '--to', SUED], at('2026-03-02T09:20:00Z'));
    await importUsage(ledger, MARCH, { CREDITS_NOW: '2026-03-20T09:00:00Z' });
  });
  afterAll(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is refused without the DATEV settings, and bad account numbers are refused naming their flag', async () => {
    const refused = await ledger.run(['statement', '--month', '2026-03', '--format', 'datev', '--output', join(dir, 'none.csv')], LATER);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('MISSING_FLAG');
    for (const flag of [
      '--datev-consultant-number',
      '--datev-client-number',
      '--datev-expense-account',
      '--datev-clearing-account',
      '--datev-creditor-account',
    ]) {
      expect(refused.stderr).toContain(flag);
    }
    for (const [flag, value] of [
      ['--datev-expense-account', '49640'],
      ['--datev-clearing-account', '15x0'],
      ['--datev-consultant-number', '99'],
    ] as const) {
      const bad = await ledger.run(['org', 'set', flag, value], LATER);
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toContain(flag);
      // Refused as a bad value, not as some other usage error that echoes the flag.
      expect(bad.stderr).toContain('INVALID_VALUE');
    }
  });

  it('writes the month as an EXTF Buchungsstapel whose bookings add up per cost centre to the statement', async () => {
    await ledger.ok(
      [
        'org',
        'set',
        '--datev-consultant-number',
        '29098',
        '--datev-client-number',
        '55003',
        '--datev-expense-account',
        '4964',
        '--datev-clearing-account',
        '1590',
        '--datev-creditor-account',
        '70001',
      ],
      LATER,
    );
    const path = join(dir, 'EXTF_Buchungsstapel.csv');
    await ledger.ok(['statement', '--month', '2026-03', '--format', 'datev', '--output', path], LATER);
    const bytes = readFileSync(path);
    expect(bytes.includes(Buffer.from('Süd', 'latin1'))).toBe(true); // Windows-1252: ü is one byte, 0xFC
    expect(bytes.includes(Buffer.from('Süd', 'utf8'))).toBe(false);
    const [header, columns, ...records] = parseDatev(new TextDecoder('windows-1252').decode(bytes));

    expect(header!.slice(0, 5)).toEqual(['EXTF', '700', '21', 'Buchungsstapel', '13']);
    expect(header!.slice(10, 16)).toEqual(['29098', '55003', '20260101', '4', '20260301', '20260331']);
    expect(header![21]).toBe('EUR');
    expect(columns).toHaveLength(125);
    expect(columns!.slice(0, 3)).toEqual(['Umsatz (ohne Soll/Haben-Kz)', 'Soll/Haben-Kennzeichen', 'WKZ Umsatz']);
    const column = (name: string): number => columns!.indexOf(name);
    for (const record of records) expect(record).toHaveLength(125);

    const statement = (await ledger.ok(['statement', '--month', '2026-03', '--json'], LATER)).json<{
      usageCents: number;
      usageByDepartment: { label: string; costCenter: string; cents: number }[];
    }>();
    const usage = records.filter((record) => record[column('Konto')] === '4964');
    const pairs = new Set(MARCH.map((event) => `${USERS.find((user) => user.email === event.user)!.dept}|${RATES[event.model]!.tier}`));
    expect(usage).toHaveLength(pairs.size);
    for (const record of usage) {
      expect(record[column('Soll/Haben-Kennzeichen')]).toBe('S');
      expect(record[column('WKZ Umsatz')]).toBe('EUR');
      expect(record[column('Gegenkonto (ohne BU-Schlüssel)')]).toBe('1590');
      expect(record[column('Belegdatum')]).toBe('3103');
    }
    const byCostCentre = new Map<string, number>();
    for (const record of usage) {
      const costCentre = record[column('KOST1 - Kostenstelle')]!;
      byCostCentre.set(costCentre, (byCostCentre.get(costCentre) ?? 0) + cents(record[column('Umsatz (ohne Soll/Haben-Kz)')]!));
    }
    expect(new Set(byCostCentre.keys())).toEqual(new Set(['CC-5200', '4711']));
    for (const row of statement.usageByDepartment) expect(byCostCentre.get(row.costCenter)).toBe(row.cents);
    expect([...byCostCentre.values()].reduce((sum, value) => sum + value, 0)).toBe(statement.usageCents);
    const total = MARCH.reduce((sum, event) => sum + priceOf(event), 0);
    expect(statement.usageCents).toBe(Math.floor((total + 500) / 1000));
    expect(usage.some((record) => record[column('Buchungstext')]!.includes(SUED))).toBe(true);

    const purchases = records.filter((record) => record[column('Konto')] === '1590');
    const field = (record: string[] | undefined, name: string): string => record![column(name)]!;
    // Professional: €95.00 net, 19% VAT, booked gross with BU-Schlüssel 9 (Vorsteuer 19%) ...
    const paid = purchases.filter((record) => field(record, 'Gegenkonto (ohne BU-Schlüssel)') === '70001');
    expect(paid.map((record) => [field(record, 'Umsatz (ohne Soll/Haben-Kz)'), field(record, 'BU-Schlüssel'), field(record, 'Belegdatum')])).toEqual([
      ['113,05', '9', '0203'],
    ]);
    // ... and its volume discount (€100.00 list value above €95.00) from the clearing account back to the expense.
    const discount = purchases.filter((record) => field(record, 'Gegenkonto (ohne BU-Schlüssel)') === '4964');
    expect(discount.map((record) => [field(record, 'Umsatz (ohne Soll/Haben-Kz)'), field(record, 'BU-Schlüssel')])).toEqual([['5,00', '']]);
    expect(purchases).toHaveLength(2);
    expect(records).toHaveLength(usage.length + purchases.length);
  });
});
