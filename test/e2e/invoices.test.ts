import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, freshLedger, type Ledger } from '../helpers/cli.js';
import { pdfLines } from '../helpers/readBack.js';

/**
 * `credits invoice`: the provider (the seller) and the organisation's address (the buyer) must be set first, numbers are taken once per purchase
 * and run without gaps in the order purchases are invoiced, a cancelled purchase is refused, and
 * the PDF carries the §14 UStG fields (read back as text).
 */

type InvoiceJson = {
  path: string;
  invoiceNumber: string;
  purchaseId: number;
  reissued: boolean;
  netCents: number;
  vatRateBasisPoints: number;
  vatCents: number;
  grossCents: number;
  dryRun: boolean;
};

describe(`invoices on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  let dir: string;
  const at = (now: string) => ({ env: { CREDITS_NOW: now } });
  const ids: Record<string, number> = {};
  const invoice = async (id: number, file: string, extra: string[] = [], now = '2026-03-16T10:00:00Z') =>
    ledger.run(['invoice', String(id), '--output', join(dir, file), ...extra, '--json'], at(now));
  const issued = async (id: number, file: string, extra: string[] = [], now?: string): Promise<InvoiceJson> => {
    const result = await invoice(id, file, extra, now);
    if (result.exitCode !== 0) throw new Error(`invoice ${id} exited ${result.exitCode}: ${result.stderr}`);
    return result.json<InvoiceJson>();
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-invoices-'));
    ledger = await freshLedger();
    await ledger.ok(['init', '--org', 'Lindner Logistik GmbH'], at('2026-03-01T08:00:00Z'));
    const buy = async (name: string, args: string[], now: string): Promise<void> => {
      ids[name] = (await ledger.ok(['buy', ...args, '--json'], at(now))).json().purchaseId;
    };
    await buy('standard', ['standard', '--method', 'card'], '2026-03-02T09:00:00Z');
    await buy('sepa', ['basic', '--method', 'sepa'], '2026-03-03T09:00:00Z');
    await buy('double', ['professional', '--quantity', '2', '--method', 'card'], '2026-03-04T09:00:00Z');
    await buy('cancelled', ['basic', '--method', 'sepa'], '2026-03-05T09:00:00Z');
    await ledger.ok(['purchases', 'cancel', String(ids.cancelled)], at('2026-03-05T10:00:00Z'));
  });
  afterAll(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('needs the provider and the organisation address first: exit 2 naming the command that fixes it, no file, no number used', async () => {
    const neither = await invoice(ids.standard!, 'early.pdf');
    expect(neither.exitCode).toBe(2);
    const error = JSON.parse(neither.stderr).error;
    expect(error).toMatchObject({ code: 'INVOICE_DETAILS_MISSING' });
    expect(error.hint).toContain('credits provider set');
    await ledger.ok(
      ['provider', 'set', '--name', 'Grünwald Bürodienste AG', '--address', 'Königstraße 5\\n70173 Stuttgart', '--vat-id', 'DE 123.456.789'],
      at('2026-03-10T08:00:00Z'),
    );
    const noAddress = await invoice(ids.standard!, 'early.pdf');
    expect(noAddress.exitCode).toBe(2);
    expect(JSON.parse(noAddress.stderr).error.hint).toContain('credits org set --address');
    expect(existsSync(join(dir, 'early.pdf'))).toBe(false);
    await ledger.ok(['org', 'set', '--address', 'Am Hafen 2\\n20457 Hamburg', '--vat-id', 'DE111222333'], at('2026-03-10T08:05:00Z'));
    // A dry run says which number would come and takes none.
    const dry = await issued(ids.standard!, 'dry.pdf', ['--dry-run']);
    expect(dry).toMatchObject({ invoiceNumber: 'INV-000001', dryRun: true });
    expect(existsSync(join(dir, 'dry.pdf'))).toBe(false);
  });

  it('numbers invoices INV-000001, INV-000002, ... in the order they are issued; the same purchase keeps its number', async () => {
    const first = await issued(ids.standard!, 'standard.pdf', [
      '--buyer',
      'Müller Straße GmbH',
      '--buyer-address',
      'z. Hd. Frau Jürgens\\nLindenstraße 12\\n10969 Berlin',
      '--buyer-vat-id',
      'DE987654321',
    ]);
    expect(first).toMatchObject({
      invoiceNumber: 'INV-000001',
      purchaseId: ids.standard,
      reissued: false,
      netCents: 4_750,
      vatRateBasisPoints: 1_900,
      vatCents: 903,
      grossCents: 5_653,
      dryRun: false,
    });
    const second = await issued(ids.double!, 'double.pdf');
    expect(second).toMatchObject({ invoiceNumber: 'INV-000002', reissued: false, netCents: 19_000, vatCents: 3_610, grossCents: 22_610 });
    const again = await issued(ids.standard!, 'standard-copy.pdf', ['--buyer', 'Someone Else GmbH'], '2026-04-20T10:00:00Z');
    expect(again).toMatchObject({ invoiceNumber: 'INV-000001', reissued: true, grossCents: 5_653 });
    // A pending SEPA purchase can be invoiced; it gets the next number, not a skipped one.
    const sepa = await issued(ids.sepa!, 'sepa.pdf');
    expect(sepa).toMatchObject({ invoiceNumber: 'INV-000003', netCents: 1_000, vatCents: 190, grossCents: 1_190 });
  });

  it('refuses a cancelled purchase (exit 3) and an unknown one (exit 4) without using a number', async () => {
    const cancelled = await invoice(ids.cancelled!, 'cancelled.pdf');
    expect(cancelled.exitCode).toBe(3);
    expect(JSON.parse(cancelled.stderr).error.code).toBe('NOT_PENDING');
    expect(JSON.parse(cancelled.stderr).error.message).toContain('cancelled');
    const unknown = await invoice(999, 'unknown.pdf');
    expect(unknown.exitCode).toBe(4);
    expect(JSON.parse(unknown.stderr).error.code).toBe('PURCHASE_NOT_FOUND');
    expect(readdirSync(dir).filter((name) => name.startsWith('cancelled') || name.startsWith('unknown'))).toEqual([]);
    ids.later = (await ledger.ok(['buy', 'basic', '--method', 'paypal', '--json'], at('2026-03-20T09:00:00Z'))).json().purchaseId;
    // A new invoice to another buyer needs that buyer's address; the refusal takes no number.
    const noAddress = await invoice(ids.later!, 'no-address.pdf', ['--buyer', 'Schulz KG'], '2026-03-20T09:10:00Z');
    expect(noAddress.exitCode).toBe(2);
    expect(JSON.parse(noAddress.stderr).error).toMatchObject({ code: 'MISSING_FLAG' });
    expect(JSON.parse(noAddress.stderr).error.message).toContain('--buyer-address');
    expect(existsSync(join(dir, 'no-address.pdf'))).toBe(false);
    // A new VAT rate applies to new invoices only.
    await ledger.ok(['org', 'set', '--vat-rate', '7'], at('2026-03-20T09:30:00Z'));
    expect(await issued(ids.later!, 'later.pdf', [], '2026-03-20T10:00:00Z')).toMatchObject({
      invoiceNumber: 'INV-000004',
      vatRateBasisPoints: 700,
      vatCents: 70,
      grossCents: 1_070,
    });
    expect(await issued(ids.double!, 'double-copy.pdf')).toMatchObject({ invoiceNumber: 'INV-000002', vatRateBasisPoints: 1_900, vatCents: 3_610 });
  });

  it('prints seller, buyer with umlauts, number, dates, net, VAT 19% and gross on the PDF', async () => {
    const [lines] = await pdfLines(join(dir, 'standard.pdf'));
    const text = lines!.join('\n');
    expect(text).toContain('Rechnung / Invoice');
    expect(lines).toContain('Grünwald Bürodienste AG');
    expect(lines).toContain('Königstraße 5');
    expect(text).toContain('USt-IdNr. / VAT ID: DE123456789');
    // The buyer block stands left of the invoice facts, so its lines share baselines with them.
    expect(lines!.some((line) => line.startsWith('Müller Straße GmbH'))).toBe(true);
    expect(text).toContain('z. Hd. Frau Jürgens');
    expect(text).toContain('Lindenstraße 12');
    expect(text).toContain('USt-IdNr. / VAT ID: DE987654321');
    expect(lines!.some((line) => line.endsWith('Rechnungsnummer / Invoice no. INV-000001'))).toBe(true);
    expect(lines!.some((line) => line.endsWith('Rechnungsdatum / Invoice date 16.03.2026'))).toBe(true);
    expect(lines!.some((line) => line.endsWith('Leistungsdatum / Date of supply 02.03.2026'))).toBe(true);
    expect(text).toMatch(/^1 AI usage credits – Standard package 1 47,50 € 47,50 €$/m);
    expect(lines).toContain('Nettobetrag / Net amount 47,50 €');
    expect(lines).toContain('zzgl. USt. 19 % / VAT 19 % 9,03 €');
    expect(lines).toContain('Gesamtbetrag / Total amount (gross) 56,53 €');
    expect(text).toContain('Kreditkarte / Card');
  });

  it('prints the same invoice again for the same purchase, and the quantity and 7% on the others', async () => {
    const [copy] = await pdfLines(join(dir, 'standard-copy.pdf'));
    expect(copy!.some((line) => line.endsWith('Rechnungsnummer / Invoice no. INV-000001'))).toBe(true);
    expect(copy!.some((line) => line.endsWith('Rechnungsdatum / Invoice date 16.03.2026'))).toBe(true);
    expect(copy!.some((line) => line.startsWith('Müller Straße GmbH'))).toBe(true);
    expect(copy!.join('\n')).not.toContain('Someone Else');
    const [double] = await pdfLines(join(dir, 'double.pdf'));
    expect(double!.join('\n')).toMatch(/^1 AI usage credits – Professional package 2 95,00 € 190,00 €$/m);
    expect(double).toContain('zzgl. USt. 19 % / VAT 19 % 36,10 €');
    expect(double).toContain('Gesamtbetrag / Total amount (gross) 226,10 €');
    const [later] = await pdfLines(join(dir, 'later.pdf'));
    expect(later).toContain('zzgl. USt. 7 % / VAT 7 % 0,70 €');
    expect(later).toContain('Gesamtbetrag / Total amount (gross) 10,70 €');
    expect(readdirSync(dir).sort()).toEqual(['double-copy.pdf', 'double.pdf', 'later.pdf', 'sepa.pdf', 'standard-copy.pdf', 'standard.pdf']);
  });

  it('gives purchases invoiced at the same time the next numbers, each once', async () => {
    const bought: number[] = [];
    for (const hour of ['11', '12', '13'])
      bought.push((await ledger.ok(['buy', 'basic', '--method', 'card', '--json'], at(`2026-03-21T${hour}:00:00Z`))).json().purchaseId);
    const results = await Promise.all(bought.map((id) => issued(id, `parallel-${id}.pdf`, [], '2026-03-22T10:00:00Z')));
    expect(results.map((result) => result.invoiceNumber).sort()).toEqual(['INV-000005', 'INV-000006', 'INV-000007']);
    const again = await issued(bought[2]!, 'parallel-copy.pdf', [], '2026-03-22T11:00:00Z');
    expect(again).toMatchObject({ invoiceNumber: results[2]!.invoiceNumber, reissued: true });
  });
});
