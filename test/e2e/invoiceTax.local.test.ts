import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshLedger, ledgerAt, type Ledger } from '../helpers/cli.js';
import { csvRecords, pdfLines } from '../helpers/readBack.js';

/**
 * Issue 20, first slice: the provider is the seller (checked VAT id and IBAN), the organisation
 * the buyer, and the tax case follows the buyer's country: domestic 19%, reverse charge for an
 * EU buyer with its VAT id, not taxable outside the EU. The PDF and the CSV are read back and
 * must show the same net, VAT and gross. An older ledger's organisation becomes the provider.
 */

// test/fixtures/ledger-0010-invoice.db: written by commit f3a45fa (Altbestand GmbH, DE 123 456 789 as typed,
// Marktplatz 3, 80331 München; purchases 1 standard and 2 basic by card; invoice INV-000001 for purchase 1).
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'ledger-0010-invoice.db');

type Written = { invoiceNumber: string; taxCase: string; netCents: number; vatRateBasisPoints: number; vatCents: number; grossCents: number; seller: string };

describe('provider, buyer and tax cases (local)', () => {
  let ledger: Ledger;
  let dir: string;
  const write = async (id: number, file: string): Promise<Written> => (await ledger.ok(['invoice', String(id), '--output', join(dir, file), '--json'])).json();
  /** The totals line of the PDF and the CSV row, as cents. */
  const readBack = async (pdf: string, csv: string) => {
    const text = (await pdfLines(join(dir, pdf)))[0]!.join('\n');
    // German formats (the seller is German): 1.011,50 €.
    const euros = (label: string): number => Number(new RegExp(`${label}.* ([\\d.]+,\\d\\d) €$`, 'm').exec(text)![1]!.replace(/[.,]/g, ''));
    const row = csvRecords(readFileSync(join(dir, csv), 'utf8'))[0]!;
    const cents = (value: string): number => Math.round(Number(value) * 100);
    return {
      text,
      pdf: { net: euros('Nettobetrag'), vat: euros('zzgl\\. USt\\.'), gross: euros('Gesamtbetrag') },
      csv: { net: cents(row.net_eur!), vat: cents(row.vat_eur!), gross: cents(row.gross_eur!) },
      row,
    };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-invoice-tax-'));
    ledger = await freshLedger('local');
    await ledger.ok(['init', '--org', 'Kunde AG']);
    await ledger.ok(['org', 'set', '--address', 'Ring 1\\n1010 Wien']);
    for (const name of ['standard', 'basic', 'professional']) await ledger.ok(['buy', name, '--method', 'card']);
  });
  afterAll(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a bad IBAN or VAT id with exit 2 naming the flag, writing nothing', async () => {
    const base = ['provider', 'set', '--name', 'Credits GmbH', '--address', 'Hauptstr. 1\\n10115 Berlin'];
    const iban = await ledger.run([...base, '--vat-id', 'DE123456789', '--iban', 'DE89 3704 0044 0532 0130 01', '--json']);
    expect(iban.exitCode).toBe(2);
    expect(JSON.parse(iban.stderr).error).toMatchObject({ code: 'INVALID_IBAN', message: expect.stringContaining('--iban') });
    const vat = await ledger.run([...base, '--vat-id', 'DE 1234 5678', '--json']);
    expect(vat.exitCode).toBe(2);
    expect(JSON.parse(vat.stderr).error).toMatchObject({ code: 'INVALID_VAT_ID', message: expect.stringContaining('not the format of Germany') });
    expect(JSON.parse(vat.stderr).error.hint).toContain('DE123456789');
    expect((await ledger.ok(['provider', '--json'])).json()).toEqual({ provider: null });
    await ledger.ok([...base, '--vat-id', 'de 123.456.789', '--iban', 'DE89 3704 0044 0532 0130 00', '--bic', 'COBADEFFXXX', '--bank-name', 'Commerzbank']);
    expect((await ledger.ok(['provider', '--json'])).json().provider).toMatchObject({ vatId: 'DE123456789', iban: 'DE89370400440532013000', country: 'DE' });
  });

  it('reverse charge for an Austrian buyer, not taxable for a Swiss one, 19% at home: the PDF and CSV show the same cents', async () => {
    await ledger.ok(['org', 'set', '--vat-id', 'ATU 1234 5678']);
    expect(await write(1, 'at.pdf')).toMatchObject({ taxCase: 'reverseCharge', netCents: 4_750, vatRateBasisPoints: 0, vatCents: 0, grossCents: 4_750 });
    await ledger.ok(['invoice', '1', '--output', join(dir, 'at.csv')]);
    const at = await readBack('at.pdf', 'at.csv');
    expect(at.pdf).toEqual({ net: 4_750, vat: 0, gross: 4_750 });
    expect(at.csv).toEqual(at.pdf);
    expect(at.text).toContain('Steuerschuldnerschaft des Leistungsempfängers / Reverse charge');
    expect(at.text).toContain('USt-IdNr. / VAT ID: ATU12345678');
    // Paid by card: nothing to transfer, so no account is printed.
    expect(at.text).toContain('Bezahlt am');
    expect(at.text).not.toContain('IBAN DE89');

    await ledger.ok(['org', 'set', '--vat-id', 'CHE-123.456.789', '--country', 'CH', '--address', 'Bahnhofstr. 1\\n8001 Zürich']);
    expect(await write(2, 'ch.pdf')).toMatchObject({ taxCase: 'notTaxable', vatCents: 0, grossCents: 1_000 });
    await ledger.ok(['invoice', '2', '--output', join(dir, 'ch.csv')]);
    const ch = await readBack('ch.pdf', 'ch.csv');
    expect(ch.csv).toEqual(ch.pdf);
    expect(ch.text).toContain('Nicht im Inland steuerbare Leistung');
    expect(ch.row.tax_case).toBe('notTaxable');

    await ledger.ok(['org', 'set', '--vat-id', 'DE111222333', '--country', 'DE', '--address', 'Am Hafen 2\\n20457 Hamburg']);
    await ledger.ok(['provider', 'set', '--vat-rate', '19']);
    expect(await write(3, 'de.pdf')).toMatchObject({ taxCase: 'domestic', netCents: 9_500, vatCents: 1_805, grossCents: 11_305 });
    await ledger.ok(['invoice', '3', '--output', join(dir, 'de.csv')]);
    const de = await readBack('de.pdf', 'de.csv');
    expect(de.pdf).toEqual({ net: 9_500, vat: 1_805, gross: 11_305 });
    expect(de.csv).toEqual(de.pdf);
    expect(de.text).not.toContain('Reverse charge');
  });

  it('reprints an invoice with the seller and buyer it was issued to, whatever the settings say now', async () => {
    await ledger.ok(['provider', 'set', '--name', 'Neuer Anbieter GmbH']);
    expect(await write(1, 'at-copy.pdf')).toMatchObject({ seller: 'Credits GmbH', taxCase: 'reverseCharge', grossCents: 4_750 });
    const text = (await pdfLines(join(dir, 'at-copy.pdf')))[0]!.join('\n');
    expect(text).toContain('Credits GmbH');
    expect(text).not.toContain('Neuer Anbieter');
    expect(text).toContain('Ring 1');
  });

  it("catches a raw edit of the provider's IBAN and of an issued invoice's seller (state log)", async () => {
    const copy = join(dir, 'tampered.db');
    const db = new BetterSqlite3(ledger.location);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    copyFileSync(ledger.location, copy);
    const raw = new BetterSqlite3(copy);
    raw.prepare("UPDATE settings SET value = 'DE02120300000000202051' WHERE key = 'provider.iban'").run();
    raw.prepare("UPDATE invoices SET seller_name = 'Someone Else' WHERE number = 1").run();
    raw.close();
    const verify = await ledgerAt(copy).run(['verify', '--json']);
    expect(verify.exitCode).toBe(7);
    expect(verify.stdout + verify.stderr).toMatch(/settings/);
    expect(verify.stdout + verify.stderr).toMatch(/invoices/);
  });

  it("migrates an older ledger: the organisation's seller details become the provider once, with a note", async () => {
    const old = join(dir, 'old.db');
    copyFileSync(FIXTURE, old);
    const oldLedger = ledgerAt(old);
    const first = await oldLedger.ok(['provider', '--json']);
    expect(first.stderr).toContain('became the provider once');
    expect(first.json().provider).toMatchObject({ name: 'Altbestand GmbH', vatId: 'DE123456789', address: 'Marktplatz 3\n80331 München' });
    const second = await oldLedger.ok(['invoice', '1', '--output', join(dir, 'old-1.pdf'), '--json']);
    expect(second.stderr).toBe('');
    expect(second.json()).toMatchObject({
      invoiceNumber: 'INV-000001',
      reissued: true,
      seller: 'Altbestand GmbH',
      netCents: 4_750,
      vatCents: 903,
      grossCents: 5_653,
    });
    // The reprint shows the VAT id as stored, printed normalised (issue 20: DE123456789, not as typed), and "Kopie / Copy".
    const reprint = (await pdfLines(join(dir, 'old-1.pdf')))[0]!.join('\n');
    expect(reprint).toContain('USt-IdNr. / VAT ID: DE123456789');
    expect(reprint).toContain('Kopie / Copy');
    expect((await oldLedger.run(['verify'])).exitCode).toBe(0);
  });
});
