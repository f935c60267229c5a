import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvoiceData } from '../../src/app/documentTypes.js';
import { invoicePdfBytes } from '../../src/render/pdf/invoice.js';
import { freshLedger, type Ledger } from '../helpers/cli.js';
import { pdfLines } from '../helpers/readBack.js';

/**
 * Issue 20, layout and cancellation: a German seller's invoice reads `1.011,50 €` and
 * `07.12.2026` everywhere; a label and its amount never share space, even at ten digits of euros
 * (every text box of the page is read back from the PDF and no two may intersect); payment by
 * invoice shows the due date and the provider's account, SEPA the mandate and the
 * pre-notification; a reprint says "Kopie / Copy"; `invoice cancel` issues the next number with
 * the amounts negated, once.
 */

type Box = { text: string; left: number; bottom: number; right: number; top: number };

/** Every text item of every page as its box in PDF points (pdfjs: transform = position, width/height). */
async function textBoxes(bytes: Uint8Array): Promise<Box[][]> {
  const pdf = await getDocument({ data: Uint8Array.from(bytes), verbosity: 0, isEvalSupported: false }).promise;
  try {
    const pages: Box[][] = [];
    for (let number = 1; number <= pdf.numPages; number += 1) {
      const content = await (await pdf.getPage(number)).getTextContent();
      const boxes: Box[] = [];
      for (const item of content.items) {
        if (!('str' in item) || item.str.trim() === '') continue;
        const [left, bottom] = [item.transform[4] as number, item.transform[5] as number];
        boxes.push({ text: item.str, left, bottom, right: left + item.width, top: bottom + item.height });
      }
      pages.push(boxes);
    }
    return pages;
  } finally {
    await pdf.destroy();
  }
}

/** Pairs of boxes that share area (touching edges allowed). */
function overlaps(boxes: Box[]): string[] {
  const found: string[] = [];
  boxes.forEach((a, index) => {
    for (const b of boxes.slice(index + 1)) {
      if (a.left < b.right - 0.01 && b.left < a.right - 0.01 && a.bottom < b.top - 0.01 && b.bottom < a.top - 0.01) found.push(`"${a.text}" × "${b.text}"`);
    }
  });
  return found;
}

const EXTREME: InvoiceData = {
  invoiceNumber: 'RECHNUNG-2026/0000999999',
  invoiceDayKey: '2026-12-07',
  supplyDayKey: '2026-12-07',
  seller: {
    name: 'Kreditvermittlungs- und Abrechnungsgesellschaft für KI-Nutzung mbH & Co. KG',
    address: 'Hauptstraße 123\n10115 Berlin',
    vatId: 'DE123456789',
    iban: 'DE89370400440532013000',
    bic: 'COBADEFFXXX',
    bankName: 'Commerzbank',
  },
  buyer: { name: 'Kunde AG', address: 'Am Hafen 2\n20457 Hamburg', vatId: 'DE 111 222 333', leitwegId: '04011000-1234512345-06' },
  lines: [
    {
      description: 'AI usage credits – Custom package',
      quantity: 999_999,
      millicredits: 840_336_134_452_000,
      unitPriceNetCents: 840_336_134_452,
      netCents: 840_336_134_452,
      discountBasisPoints: 1_250,
      creditedTo: 'Forschung und Entwicklung',
    },
  ],
  taxCase: 'domestic',
  netCents: 840_336_134_452,
  vatRateBasisPoints: 1_900,
  vatCents: 159_663_865_547,
  grossCents: 999_999_999_999,
  paymentMethod: 'invoice',
  paymentTermDays: 14,
  dueDayKey: '2026-12-21',
  purchaseReference: '#999999',
  copy: true,
};

describe('invoice layout and cancellation (local)', () => {
  let ledger: Ledger;
  let dir: string;
  const at = (now: string) => ({ env: { CREDITS_NOW: now } });
  const text = async (file: string): Promise<string> => (await pdfLines(join(dir, file))).map((page) => page.join('\n')).join('\n');
  const invoice = async (purchase: number, file: string) =>
    (await ledger.ok(['invoice', String(purchase), '--output', join(dir, file), '--json'], at('2026-12-07T10:00:00Z'))).json();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-invoice-layout-'));
    ledger = await freshLedger('local');
    await ledger.ok(['init', '--org', 'Kunde AG'], at('2026-12-01T08:00:00Z'));
    await ledger.ok(['org', 'set', '--address', 'Am Hafen 2\\n20457 Hamburg', '--vat-id', 'DE 111 222 333', '--sepa-iban', 'DE02 1203 0000 0000 2020 51']);
    await ledger.ok([
      ...['provider', 'set', '--name', 'Credits GmbH', '--address', 'Hauptstr. 1\\n10115 Berlin', '--vat-id', 'de 123.456.789'],
      ...['--iban', 'DE89 3704 0044 0532 0130 00', '--bic', 'COBADEFFXXX', '--bank-name', 'Commerzbank', '--creditor-id', 'DE98ZZZ09999999999'],
    ]);
    await ledger.ok(['buy', 'custom', '--credits', '10000000000', '--discount', '0', '--method', 'invoice', '--yes'], at('2026-12-07T09:00:00Z'));
    await ledger.ok(['buy', 'standard', '--method', 'sepa'], at('2026-12-07T09:10:00Z'));
    await ledger.ok(['buy', 'basic', '--method', 'card'], at('2026-09-09T09:00:00Z'));
  });
  afterAll(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('German formats, due date and bank details on an invoice payable by transfer, its boxes apart; a reprint is a copy', async () => {
    expect(await invoice(1, 'big.pdf')).toMatchObject({ invoiceNumber: 'INV-000001', reissued: false, grossCents: 11_900_000_000 });
    expect(await invoice(2, 'sepa.pdf')).toMatchObject({ invoiceNumber: 'INV-000002' });
    // A reprint reads its number and dates as issued, whatever the settings say now.
    await ledger.ok(['org', 'set', '--timezone', 'Pacific/Kiritimati', '--invoice-prefix', 'NEU-']);
    expect(await invoice(1, 'big-copy.pdf')).toMatchObject({ invoiceNumber: 'INV-000001', reissued: true });
    const first = await text('big.pdf');
    expect(first).toContain('1 AI usage credits – Custom package 1 100.000.000,00 € 100.000.000,00 €');
    expect(first).toContain('10.000.000.000 Credits à 0,01 € · Konto / account:');
    expect(first).toContain('Gesamtbetrag / Total amount (gross) 119.000.000,00 €');
    expect(first).toContain('zzgl. USt. 19 % / VAT 19 % 19.000.000,00 €');
    expect(first).toMatch(/Rechnungsdatum \/ Invoice date 07\.12\.2026/);
    expect(first).toMatch(/Fällig am \/ Due date 21\.12\.2026/);
    expect(first).toContain('Zahlbar ohne Abzug bis 21.12.2026 (14 Tage)');
    expect(first).toContain('IBAN DE89 3704 0044 0532 0130 00 · BIC COBADEFFXXX · Commerzbank');
    expect(first).toContain('USt-IdNr. / VAT ID: DE111222333');
    expect(first).not.toMatch(/€\d|\d{4}-\d\d-\d\d|Kopie/);
    const copy = await text('big-copy.pdf');
    expect(copy).toContain('Rechnung / Invoice Kopie / Copy');
    expect(copy).toMatch(/Rechnungsdatum \/ Invoice date 07\.12\.2026/);
    for (const file of ['big.pdf', 'big-copy.pdf']) {
      for (const page of await textBoxes(new Uint8Array(readFileSync(join(dir, file))))) expect(overlaps(page)).toEqual([]);
    }
  });

  it('no two text boxes intersect at ten digits of euros, long names and a wide quantity', async () => {
    const pages = await textBoxes(await invoicePdfBytes(EXTREME));
    const all = pages.flat().map((box) => box.text);
    expect(all).toContain('9.999.999.999,99 €');
    expect(all).toContain('8.403.361.344,52 €');
    for (const page of pages) expect(overlaps(page)).toEqual([]);
  });

  it('SEPA: mandate reference, creditor id and the pre-notification with the debit day and account ending; card: paid on', async () => {
    const sepa = await text('sepa.pdf');
    expect(sepa).toContain('Mandatsreferenz / Mandate reference: INV-M000002 · Gläubiger-ID / Creditor ID: DE98ZZZ09999999999');
    expect(sepa.replace(/\n/g, ' ')).toContain(
      'Den Betrag von 56,53 € ziehen wir frühestens am 21.12.2026 per SEPA-Lastschrift von Ihrem Konto mit der Endung 2051 ein.',
    );
    expect(sepa).not.toContain('IBAN DE89');
    await invoice(3, 'card.pdf');
    const card = await text('card.pdf');
    expect(card).toContain('Bezahlt am 09.09.2026 / Paid on 09.09.2026');
    expect(card).toContain('NEU-000003');
  });

  it('cancel: the next number, referring to the original, amounts negated; the original shows cancelled; twice or a cancellation refused', async () => {
    const cancelled = await ledger.ok(
      ['invoice', 'cancel', 'INV-000002', '--reason', 'falscher Empfänger', '--output', join(dir, 'storno.pdf'), '--json'],
      at('2026-12-08T05:00:00Z'),
    );
    expect(cancelled.json()).toMatchObject({ invoiceNumber: 'NEU-000004', cancels: 'INV-000002', netCents: -4_750, vatCents: -903, grossCents: -5_653 });
    const storno = await text('storno.pdf');
    expect(storno).toContain('Stornorechnung / Cancellation invoice');
    expect(storno).toMatch(/Storno zu Rechnung \/ Cancels invoice INV-000002/);
    expect(storno).toContain('Gesamtbetrag / Total amount (gross) -56,53 €');
    expect(storno).toContain('Grund / Reason: falscher Empfänger');

    const twice = await ledger.run(['invoice', 'cancel', '2', '--reason', 'again', '--json']);
    expect(twice.exitCode).toBe(5);
    expect(JSON.parse(twice.stderr).error).toMatchObject({ code: 'ALREADY_CANCELLED', message: expect.stringContaining('NEU-000004') });
    const ofCancellation = await ledger.run(['invoice', 'cancel', 'NEU-000004', '--reason', 'undo', '--json']);
    expect(ofCancellation.exitCode).toBe(3);
    expect(JSON.parse(ofCancellation.stderr).error.code).toBe('NOT_CANCELLABLE');
    expect((await ledger.run(['invoice', 'cancel', 'INV-000009', '--reason', 'x'])).exitCode).toBe(4);

    const list = (await ledger.ok(['invoice', 'list', '--json'])).json().invoices;
    expect(
      list.map((row: { numberText: string; cancelledBy: string | null; cancels: string | null }) => [row.numberText, row.cancelledBy, row.cancels]),
    ).toEqual([
      ['INV-000001', null, null],
      ['INV-000002', 'NEU-000004', null],
      ['NEU-000003', null, null],
      ['NEU-000004', null, 'INV-000002'],
    ]);
    await ledger.ok(['invoice', 'show', 'INV-000002', '--output', join(dir, 'sepa-again.pdf')]);
    expect(await text('sepa-again.pdf')).toContain('Storniert durch Stornorechnung NEU-000004 vom 08.12.2026');
    // The purchase of a cancelled invoice is invoiced anew: a corrected invoice, the next number, no copy mark.
    await ledger.ok(['org', 'set', '--address', 'Neuer Wall 9\\n20354 Hamburg']);
    expect(await invoice(2, 'corrected.pdf')).toMatchObject({ invoiceNumber: 'NEU-000005', reissued: false, grossCents: 5_653 });
    const corrected = await text('corrected.pdf');
    expect(corrected).toContain('Neuer Wall 9');
    expect(corrected).not.toContain('Kopie');
    expect(await invoice(2, 'corrected-copy.pdf')).toMatchObject({ invoiceNumber: 'NEU-000005', reissued: true });
    expect((await ledger.ok(['invoice', 'list', '--json'])).json().invoices.map((row: { numberText: string }) => row.numberText)).toEqual([
      'INV-000001',
      'INV-000002',
      'NEU-000003',
      'NEU-000004',
      'NEU-000005',
    ]);
    await ledger.ok(['invoice', 'show', 'NEU-000004', '--output', join(dir, 'storno-copy.pdf')]);
    const stornoCopy = await text('storno-copy.pdf');
    expect(stornoCopy).toContain('Stornorechnung / Cancellation invoice Kopie / Copy');
    expect(stornoCopy).toContain('Gesamtbetrag / Total amount (gross) -56,53 €');
  });
});
