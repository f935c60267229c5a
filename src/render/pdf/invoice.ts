import { CreditsError } from '../../core/errors.js';
import { formatBasisPoints, formatCount, formatCredits, formatEuros } from '../format.js';
import {
  addFooters,
  COLOR,
  drawTable,
  finishDocumentBytes,
  Flow,
  FONT,
  openDocument,
  rule,
  textAt,
  writeFileAtomically,
  type Doc,
  type DocumentVariant,
  type PageFrame,
} from './document.js';
import { germanDate, paymentMethodLabel } from './labels.js';
import { TAX_CASE_NOTES } from '../../core/invoiceTax.js';
import type { InvoiceData, InvoiceParty } from '../../app/documentTypes.js';

export type { InvoiceData } from '../../app/documentTypes.js';

/** 20 mm left margin; the recipient block sits where a DIN 5008 window envelope shows it. */
const FRAME: PageFrame = { left: 57, right: 545.28, top: 45, bottom: 772, footerY: 792 };
const RECIPIENT_Y = 136;
const META_X = 325;

function addressLines(party: InvoiceParty): string[] {
  return party.address
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** §14 (4) UStG needs these; the command should have checked, this keeps a broken invoice from being written. */
function checkInvoice(data: InvoiceData): void {
  const missing: string[] = [];
  if (data.seller.name.trim() === '') missing.push('seller name (credits provider set --name)');
  if (addressLines(data.seller).length === 0) missing.push('seller address (credits provider set --address)');
  if (data.seller.vatId.trim() === '') missing.push('seller VAT id (credits provider set --vat-id)');
  if (data.buyer.name.trim() === '') missing.push('buyer name');
  if (data.invoiceNumber.trim() === '') missing.push('invoice number');
  if (data.lines.length === 0) missing.push('invoice lines');
  if (missing.length > 0) {
    throw new CreditsError('INVALID_VALUE', `cannot write invoice ${data.invoiceNumber || '(no number)'}: missing ${missing.join(', ')}`, {
      hint: 'a German invoice (§14 UStG) names the seller with address and VAT id, and the buyer',
    });
  }
  const linesNet = data.lines.reduce((sum, line) => sum + line.netCents, 0);
  const integers = [
    data.netCents,
    data.vatCents,
    data.grossCents,
    data.vatRateBasisPoints,
    ...data.lines.flatMap((line) => [line.netCents, line.unitPriceNetCents, line.quantity, line.millicredits]),
  ];
  const untaxed = data.taxCase !== 'domestic' && (data.vatCents !== 0 || data.vatRateBasisPoints !== 0);
  if (!integers.every((value) => Number.isSafeInteger(value)) || linesNet !== data.netCents || data.netCents + data.vatCents !== data.grossCents || untaxed) {
    throw new CreditsError(
      'INTERNAL',
      `invoice ${data.invoiceNumber} does not add up: lines ${linesNet}, net ${data.netCents} + VAT ${data.vatCents} vs gross ${data.grossCents} (cents)`,
    );
  }
}

/** The seller's tax ids and contact under its address: VAT id always, tax number and email when set. */
function sellerIdLines(data: InvoiceData): string[] {
  const lines = [`USt-IdNr. / VAT ID: ${data.seller.vatId}`];
  if (data.seller.taxNumber) lines.push(`Steuernummer / Tax no.: ${data.seller.taxNumber}`);
  if (data.seller.email) lines.push(data.seller.email);
  return lines;
}

/** The seller's name, address and VAT id, top right. */
function drawSeller(doc: Doc, data: InvoiceData, sellerLines: string[], width: number): void {
  let y = FRAME.top;
  textAt(doc, data.seller.name, FRAME.left, y, { font: FONT.bold, size: 15, width, align: 'right', color: COLOR.accent });
  y += 21;
  for (const line of sellerLines) {
    textAt(doc, line, FRAME.left, y, { size: 8.5, color: COLOR.muted, width, align: 'right' });
    y += 11.5;
  }
  for (const line of sellerIdLines(data)) {
    textAt(doc, line, FRAME.left, y, { size: 8.5, color: COLOR.muted, width, align: 'right' });
    y += 11.5;
  }
}

/** Return-address line and recipient, where a window envelope shows them; returns the block's bottom. */
function drawRecipient(doc: Doc, data: InvoiceData, sellerLines: string[], buyerLines: string[]): number {
  const senderLine = [data.seller.name, ...sellerLines].join(' · ');
  textAt(doc, senderLine, FRAME.left, RECIPIENT_Y - 14, { size: 6.5, color: COLOR.muted, width: META_X - FRAME.left - 20 });
  rule(doc, FRAME.left, META_X - 20, RECIPIENT_Y - 5, COLOR.rule, 0.4);
  let y = RECIPIENT_Y;
  textAt(doc, data.buyer.name, FRAME.left, y, { font: FONT.bold, size: 10, width: META_X - FRAME.left - 20 });
  y += 14;
  for (const line of buyerLines) {
    textAt(doc, line, FRAME.left, y, { size: 10, width: META_X - FRAME.left - 20 });
    y += 13.5;
  }
  if (data.buyer.vatId) {
    textAt(doc, `USt-IdNr. / VAT ID: ${data.buyer.vatId}`, FRAME.left, y + 3, { size: 8.5, color: COLOR.muted, width: META_X - FRAME.left - 20 });
    y += 16;
  }
  return y;
}

/** Invoice number and dates, right of the recipient; returns the block's bottom. */
function drawInvoiceFacts(doc: Doc, data: InvoiceData): number {
  const facts: Array<[string, string]> = [
    ['Rechnungsnummer / Invoice no.', data.invoiceNumber],
    ['Rechnungsdatum / Invoice date', germanDate(data.invoiceDayKey)],
    ['Leistungsdatum / Date of supply', germanDate(data.supplyDayKey)],
  ];
  if (data.purchaseReference) facts.push(['Bestellung / Purchase', data.purchaseReference]);
  if (data.buyer.leitwegId) facts.push(['Leitweg-ID / Buyer reference', data.buyer.leitwegId]);
  let y = RECIPIENT_Y;
  for (const [label, value] of facts) {
    textAt(doc, label, META_X, y + 0.5, { size: 7.5, color: COLOR.muted });
    textAt(doc, value, META_X, y, { font: FONT.bold, size: 8.5, width: FRAME.right - META_X, align: 'right' });
    y += 15;
  }
  return y;
}

function drawInvoiceLines(flow: Flow, data: InvoiceData): void {
  drawTable(flow, {
    columns: [
      { header: 'Pos.\nItem', width: 32 },
      { header: 'Beschreibung\nDescription', width: 196, wrap: true },
      { header: 'Menge\nQuantity', width: 54, align: 'right' },
      { header: 'Einzelpreis netto\nUnit price (net)', width: 104, align: 'right' },
      { header: 'Betrag netto\nNet amount', width: 90, align: 'right' },
    ],
    rows: data.lines.map((line, index) => ({
      cells: [
        String(index + 1),
        `${line.description}\n${formatCredits(line.millicredits, 0)} credits${line.detail ? ` · ${line.detail}` : ''}`,
        formatCount(line.quantity),
        formatEuros(line.unitPriceNetCents),
        formatEuros(line.netCents),
      ],
    })),
    size: 9,
  });
}

/** Net, VAT and gross, right-aligned under the table and kept together on one page. */
function drawInvoiceTotals(flow: Flow, data: InvoiceData): void {
  const { doc } = flow;
  const vatRate = formatBasisPoints(data.vatRateBasisPoints);
  const totals: Array<[string, string, boolean]> = [
    ['Nettobetrag / Net amount', formatEuros(data.netCents), false],
    [`zzgl. USt. ${vatRate} / VAT ${vatRate}`, formatEuros(data.vatCents), false],
    ['Gesamtbetrag / Total amount (gross)', formatEuros(data.grossCents), true],
  ];
  const totalsX = FRAME.left + flow.width * 0.42;
  flow.ensure(totals.length * 17 + 8);
  for (const [label, value, bold] of totals) {
    if (bold) {
      rule(doc, totalsX, FRAME.right, flow.y - 3, COLOR.text, 0.8);
      flow.gap(2);
    }
    const style = { font: bold ? FONT.bold : FONT.regular, size: bold ? 10.5 : 9.5 } as const;
    textAt(doc, label, totalsX, flow.y, style);
    textAt(doc, value, totalsX, flow.y, { ...style, width: FRAME.right - totalsX, align: 'right' });
    flow.gap(bold ? 18 : 16);
  }
}

function drawPaymentAndNotes(flow: Flow, data: InvoiceData): void {
  const payment = paymentMethodLabel(data.paymentMethod);
  flow.paragraph(`Zahlungsart / Payment method: ${payment.de === payment.en ? payment.de : `${payment.de} / ${payment.en}`}`, { size: 9 });
  if (data.paymentNote) flow.paragraph(data.paymentNote, { size: 9 });
  const { iban, bic, bankName } = data.seller;
  if (iban) {
    const bank = [`IBAN ${iban.replace(/(.{4})(?=.)/g, '$1 ')}`, bic ? `BIC ${bic}` : null, bankName].filter((part): part is string => Boolean(part));
    flow.paragraph(`Bankverbindung / Bank details: ${bank.join(' · ')}`, { size: 9 });
  }
  const taxNote = TAX_CASE_NOTES[data.taxCase];
  if (taxNote) {
    flow.gap(4);
    flow.paragraph(taxNote, { size: 9, font: FONT.bold });
  }
  for (const note of data.notes ?? []) {
    flow.gap(3);
    flow.paragraph(note, { size: 8.5, color: COLOR.muted });
  }
}

/** Writes a German invoice (Rechnung, §14 UStG) as an A4 PDF, atomically (temp file, then rename). */
export async function invoicePdfBytes(data: InvoiceData, variant?: DocumentVariant): Promise<Uint8Array> {
  checkInvoice(data);
  const sellerLines = addressLines(data.seller);
  const buyerLines = addressLines(data.buyer);
  const opened = await openDocument(
    {
      title: `Rechnung / Invoice ${data.invoiceNumber}`,
      author: data.seller.name,
      subject: `Rechnung ${data.invoiceNumber} an ${data.buyer.name}`,
      lang: 'de-DE',
    },
    FRAME,
    variant,
  );
  const { doc } = opened;
  const flow = new Flow(doc, FRAME, (next) => {
    textAt(doc, `${data.seller.name} · Rechnung / Invoice ${data.invoiceNumber} (Fortsetzung / continued)`, FRAME.left, next.y, {
      size: 7.5,
      color: COLOR.muted,
      width: next.width,
    });
    next.y += 20;
  });

  drawSeller(doc, data, sellerLines, flow.width);
  const recipientBottom = drawRecipient(doc, data, sellerLines, buyerLines);
  const factsBottom = drawInvoiceFacts(doc, data);
  flow.y = Math.max(recipientBottom, factsBottom, 250) + 18;

  textAt(doc, 'Rechnung / Invoice', FRAME.left, flow.y, { font: FONT.bold, size: 18, color: COLOR.accent });
  flow.gap(28);
  flow.paragraph('Für die folgenden Leistungen berechnen wir Ihnen / We invoice you for the following services:', { size: 9 });
  flow.gap(8);
  drawInvoiceLines(flow, data);
  flow.gap(10);
  drawInvoiceTotals(flow, data);
  flow.gap(16);
  drawPaymentAndNotes(flow, data);

  const footer = [data.seller.name, ...sellerLines, `USt-IdNr. ${data.seller.vatId}`].join(' · ');
  addFooters(doc, FRAME, footer, (page, count) => `Seite ${page} von ${count} / Page ${page} of ${count}`);
  variant?.beforeEnd(doc);
  return finishDocumentBytes(opened);
}

/** Writes the PDF atomically (temp file in the same folder, fsync, rename). */
export async function writeInvoicePdf(data: InvoiceData, outputPath: string): Promise<void> {
  await writeFileAtomically(outputPath, await invoicePdfBytes(data));
}
