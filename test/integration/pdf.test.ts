import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreditsError } from '../../src/core/errors.js';
import { writeInvoicePdf } from '../../src/render/pdf/invoice.js';
import { writeStatementPdf } from '../../src/render/pdf/statement.js';
import { sampleInvoice, sampleStatement } from '../helpers/pdfData.js';
import { pdfLines } from '../helpers/readBack.js';

let directory: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'credits-pdf-'));
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe('statement PDF', () => {
  let pages: string[][];
  let text: string;
  let bytes: Buffer;

  beforeAll(async () => {
    const output = join(directory, 'statement-2026-03.pdf');
    await writeStatementPdf(sampleStatement(120), output);
    bytes = readFileSync(output);
    pages = await pdfLines(output);
    text = pages.map((lines) => lines.join('\n')).join('\n');
  });

  it('is an A4 PDF with the DejaVu font embedded, written without leftovers', () => {
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    const source = bytes.toString('latin1');
    expect(source).toMatch(/\/MediaBox \[0 0 595\.28 841\.89\]/);
    expect(source).toContain('/FontFile2');
    expect(source).toMatch(/\/BaseFont \/[A-Z]{6}\+DejaVuSans\b/);
    expect(source).not.toContain('/Helvetica');
    expect(readdirSync(directory).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('runs over three or more pages, each numbered "Page i of N"', () => {
    expect(pages.length).toBeGreaterThanOrEqual(3);
    pages.forEach((lines, index) => {
      expect(lines.some((line) => line.endsWith(`Page ${index + 1} of ${pages.length}`))).toBe(true);
    });
    expect(text).toContain(`Page 2 of ${pages.length}`);
  });

  it('prints the heading, umlauts and the € sign correctly', () => {
    const first = pages[0]!.join('\n');
    expect(first).toContain('Credits statement');
    expect(first).toContain('March 2026');
    expect(first).toContain('Müller Straße GmbH');
    expect(first).toContain('1 March 2026 – 31 March 2026 (Europe/Berlin)');
    expect(first).toContain('Whole organisation');
    expect(text).toContain('Vertrieb Süd');
    expect(text).toContain('€');
  });

  it('reconciles: opening + movements = closing, in credits and euros', () => {
    const usage = sampleStatement(120).usageMillicredits;
    expect(usage).toBe(7_275_000);
    const lines = pages[0]!;
    expect(lines).toContain('Opening balance, 1 March 2026 10,000.0 €100.00');
    // A purchase in euros is the price paid; the list value above it is the volume discount.
    expect(lines).toContain('Purchases (2), price paid +15,000.0 +€142.50');
    expect(lines).toContain('Volume discount (list value above the price) +€7.50');
    expect(lines).toContain('Transfers in (1) +2,500.0 +€25.00');
    // 7.505 cents rounds to 7.50 here: the lines must add up to the closing balance rounded once (€194.75).
    expect(lines).toContain('Transfers out (1) -750.5 -€7.50');
    expect(lines).toContain('Usage (8,340 events) -7,275.0 -€72.75');
    expect(lines).toContain('Closing balance, 31 March 2026 19,474.5 €194.75');
    expect(pages[0]!.join(' ')).toContain(
      'Reconciliation: opening 10,000.0 + purchases 15,000.0 + transfers in 2,500.0 - transfers out 750.5 - usage 7,275.0 = closing 19,474.5 credits.',
    );
  });

  it('lists purchases, transfers and usage by department with cost centres', () => {
    expect(text).toContain('2026-03-02 P-17 Professional Card 10,000.0 €95.00');
    expect(text).toContain('2026-03-16 P-18 Standard SEPA direct debit 5,000.0 €47.50');
    expect(text).toContain('Total 15,000.0 €142.50');
    expect(text).toContain('2026-03-03 in from org Quartalsbudget Q2 +2,500.0');
    expect(text).toContain('2026-03-20 out to Vertrieb Süd Aushilfe für Kampagne -750.5');
    expect(text).toContain('Marketing CC-4100 2,740 2,385.0 €23.85');
    expect(text).toContain('Forschung & Entwicklung CC-5200 2,780 2,425.0 €24.25');
    expect(text).toContain('Vertrieb Süd – 2,820 2,465.0 €24.65');
    expect(text).toContain('Total 8,340 7,275.0 €72.75');
  });

  it('repeats the user table header on every page the table runs over, and every user appears once', () => {
    const header = 'User Department Events Credits Euros';
    const withHeader = pages.filter((lines) => lines.includes(header)).length;
    expect(withHeader).toBeGreaterThanOrEqual(3);
    expect(pages.filter((lines) => lines.includes('Usage by user (continued)')).length).toBe(withHeader - 1);
    // A continuation page starts with the running header, then the table title and header row.
    const continued = pages.find((lines) => lines.includes('Usage by user (continued)'))!;
    expect(continued.indexOf(header)).toBe(continued.indexOf('Usage by user (continued)') + 1);
    for (const user of ['user001', 'user060', 'user120']) {
      expect(text.split(`${user}@müller-straße.example`).length - 1).toBe(1);
    }
    expect(text).toContain('user120@müller-straße.example Vertrieb Süd 129 120.125 €1.20');
    expect(text).toContain('gpt-4o 4,170 3,637.5 €36.38');
    expect(text).toContain('workflow-db 40 12.345 €0.12');
  });

  it('names the department when the statement is limited to one', async () => {
    const data = sampleStatement(3);
    const output = join(directory, 'statement-dept.pdf');
    await writeStatementPdf({ ...data, department: { name: 'Vertrieb Süd', costCenter: 'CC-7300' } }, output);
    const pages = await pdfLines(output);
    expect(pages[0]).toContain('Department Vertrieb Süd · cost centre CC-7300');
    expect(pages[0]!.some((line) => line.endsWith(`Page 1 of ${pages.length}`))).toBe(true);
  });

  it('refuses a statement that does not reconcile and writes nothing', async () => {
    const output = join(directory, 'broken.pdf');
    const data = sampleStatement(3);
    await expect(writeStatementPdf({ ...data, closingMillicredits: data.closingMillicredits + 1 }, output)).rejects.toThrow(/does not reconcile/);
    expect(readdirSync(directory)).not.toContain('broken.pdf');
  });
});

describe('invoice PDF', () => {
  let lines: string[];
  let text: string;
  const output = (): string => join(directory, 'invoice.pdf');

  beforeAll(async () => {
    writeFileSync(output(), 'an older file that the invoice replaces');
    await writeInvoicePdf(sampleInvoice(), output());
    const pages = await pdfLines(output());
    expect(pages).toHaveLength(1);
    lines = pages[0]!;
    text = lines.join('\n');
  });

  it('replaces the file atomically', () => {
    expect(readFileSync(output()).subarray(0, 5).toString()).toBe('%PDF-');
    expect(readdirSync(directory).filter((name) => name.includes('.tmp'))).toEqual([]);
  });

  it('carries the §14 UStG fields with umlauts intact', () => {
    expect(text).toContain('Rechnung / Invoice');
    // Seller with address and VAT id.
    expect(text).toContain('Grünwald Bürodienste AG');
    expect(text).toContain('Königstraße 5');
    expect(text).toContain('70173 Stuttgart');
    expect(text).toContain('USt-IdNr. / VAT ID: DE123456789');
    // Buyer.
    expect(text).toContain('Müller Straße GmbH');
    expect(text).toContain('z. Hd. Frau Jürgens');
    expect(text).toContain('Lindenstraße 12');
    expect(text).toContain('USt-IdNr. / VAT ID: DE987654321');
    // Number, dates.
    // The facts stand right of the buyer's address, so a line may start with an address line.
    expect(lines.some((line) => line.endsWith('Rechnungsnummer / Invoice no. INV-2026-0007'))).toBe(true);
    expect(lines.some((line) => line.endsWith('Rechnungsdatum / Invoice date 16.03.2026'))).toBe(true);
    expect(lines.some((line) => line.endsWith('Leistungsdatum / Date of supply 16.03.2026'))).toBe(true);
  });

  it('states quantity, unit price, net, VAT rate and amount, gross and payment method', () => {
    expect(text).toMatch(/1 KI-Nutzungsguthaben \/ AI usage credits –.* 2 47,50 € 95,00 €/);
    expect(text).toContain('10.000 Credits · 5% Mengenrabatt / volume');
    expect(lines).toContain('Nettobetrag / Net amount 95,00 €');
    expect(lines).toContain('zzgl. USt. 19 % / VAT 19 % 18,05 €');
    expect(lines).toContain('Gesamtbetrag / Total amount (gross) 113,05 €');
    expect(lines).toContain('Zahlungsart / Payment method: SEPA-Lastschrift / SEPA direct debit');
    expect(lines.some((line) => line.endsWith('Seite 1 von 1 / Page 1 of 1'))).toBe(true);
  });

  it('refuses figures that do not add up, and a seller without VAT id', async () => {
    const data = sampleInvoice();
    const broken = join(directory, 'broken-invoice.pdf');
    await expect(writeInvoicePdf({ ...data, grossCents: data.grossCents + 1 }, broken)).rejects.toThrow(/does not add up/);
    const missing = writeInvoicePdf({ ...data, seller: { ...data.seller, vatId: ' ' } }, broken);
    await expect(missing).rejects.toBeInstanceOf(CreditsError);
    await expect(missing).rejects.toThrow(/seller VAT id/);
    expect(readdirSync(directory)).not.toContain('broken-invoice.pdf');
  });

  it('continues a long invoice on a second page with the table header repeated', async () => {
    const data = sampleInvoice();
    const line = data.lines[0]!;
    const lines = Array.from({ length: 12 }, () => ({ ...line }));
    const netCents = line.netCents * lines.length;
    const vatCents = Math.floor((netCents * data.vatRateBasisPoints + 5_000) / 10_000);
    const long = join(directory, 'invoice-long.pdf');
    await writeInvoicePdf({ ...data, lines, netCents, vatCents, grossCents: netCents + vatCents }, long);
    const pages = await pdfLines(long);
    expect(pages).toHaveLength(2);
    for (const page of pages) expect(page).toContain('Pos. Beschreibung Menge Einzelpreis netto Betrag netto');
    expect(pages[1]!.some((text) => text.endsWith('Seite 2 von 2 / Page 2 of 2'))).toBe(true);
    expect(pages.flat().filter((text) => /^\d+ KI-Nutzungsguthaben/.test(text))).toHaveLength(12);
    expect(pages[1]).toContain('Gesamtbetrag / Total amount (gross) 1.356,60 €');
  });

  it('reports a missing output folder as a usage error', async () => {
    const error = await writeInvoicePdf(sampleInvoice(), join(directory, 'no-such-folder', 'invoice.pdf')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CreditsError);
    expect((error as CreditsError).code).toBe('INVALID_VALUE');
  });
});
