import { CreditsError } from '../../core/errors.js';
import { groupIban } from '../../core/bankDetails.js';
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
import { paymentMethodLabel } from './labels.js';
import { BOLD, invoiceFormat, LABEL_GAP, labelValue, measure, REGULAR, widest, type InvoiceFormat } from './invoiceLayout.js';
import { TAX_CASE_NOTES } from '../../core/invoiceTax.js';
import type { InvoiceData, InvoiceLine, InvoiceParty } from '../../app/documentTypes.js';

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
function sellerIdLines(data: InvoiceData, format: InvoiceFormat): string[] {
  const lines = [`USt-IdNr. / VAT ID: ${format.vatId(data.seller.vatId)}`];
  if (data.seller.taxNumber) lines.push(`Steuernummer / Tax no.: ${data.seller.taxNumber}`);
  if (data.seller.email) lines.push(data.seller.email);
  return lines;
}

/** The seller's name, address and VAT id, top right. */
function drawSeller(doc: Doc, data: InvoiceData, format: InvoiceFormat, sellerLines: string[], width: number): void {
  let y = FRAME.top;
  textAt(doc, data.seller.name, FRAME.left, y, { font: FONT.bold, size: 15, width, align: 'right', color: COLOR.accent });
  y += 21;
  for (const line of sellerLines) {
    textAt(doc, line, FRAME.left, y, { size: 8.5, color: COLOR.muted, width, align: 'right' });
    y += 11.5;
  }
  for (const line of sellerIdLines(data, format)) {
    textAt(doc, line, FRAME.left, y, { size: 8.5, color: COLOR.muted, width, align: 'right' });
    y += 11.5;
  }
}

/** Return-address line and recipient, where a window envelope shows them; returns the block's bottom. */
function drawRecipient(doc: Doc, data: InvoiceData, format: InvoiceFormat, sellerLines: string[], buyerLines: string[]): number {
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
    textAt(doc, `USt-IdNr. / VAT ID: ${format.vatId(data.buyer.vatId)}`, FRAME.left, y + 3, { size: 8.5, color: COLOR.muted, width: META_X - FRAME.left - 20 });
    y += 16;
  }
  return y;
}

/** Invoice number and dates, right of the recipient; returns the block's bottom. */
function drawInvoiceFacts(doc: Doc, data: InvoiceData, format: InvoiceFormat): number {
  const { cancellation } = data;
  const facts: Array<[string, string]> = cancellation
    ? [
        ['Stornorechnung Nr. / Cancellation no.', data.invoiceNumber],
        ['Datum / Date', format.date(data.invoiceDayKey)],
        ['Storno zu Rechnung / Cancels invoice', cancellation.originalNumber],
        ['vom / dated', format.date(cancellation.originalDayKey)],
      ]
    : [
        ['Rechnungsnummer / Invoice no.', data.invoiceNumber],
        ['Rechnungsdatum / Invoice date', format.date(data.invoiceDayKey)],
      ];
  facts.push(['Leistungsdatum / Date of supply', format.date(data.supplyDayKey)]);
  if (!cancellation && data.dueDayKey) facts.push(['Fällig am / Due date', format.date(data.dueDayKey)]);
  if (data.purchaseReference) facts.push(['Bestellung / Purchase', data.purchaseReference]);
  if (data.buyer.leitwegId) facts.push(['Leitweg-ID / Buyer reference', data.buyer.leitwegId]);
  let y = RECIPIENT_Y;
  for (const [label, value] of facts) {
    labelValue(doc, label, value, META_X, FRAME.right, y, { font: REGULAR, size: 7.5, color: COLOR.muted }, { font: BOLD, size: 8.5 });
    y += 15;
  }
  return y;
}

/** The line's second row, worded from its figures: "5.000 Credits à 0,01 € · 5 % Mengenrabatt / volume discount". */
function lineDetail(line: InvoiceLine, format: InvoiceFormat): string | undefined {
  if (line.discountBasisPoints === undefined) {
    const credits = `${format.count(Math.floor(line.millicredits / 1000))} ${format.german ? 'Credits' : 'credits'}`;
    return line.detail ? `${credits} · ${line.detail}` : credits;
  }
  const creditsPerUnit = format.count(Math.floor(line.millicredits / line.quantity / 1000));
  const parts = [
    format.german
      ? `${line.quantity > 1 ? 'je / each ' : ''}${creditsPerUnit} Credits à ${format.euros(1)}`
      : `${line.quantity > 1 ? 'each ' : ''}${creditsPerUnit} credits at ${format.euros(1)}`,
  ];
  if (line.discountBasisPoints > 0) parts.push(`${format.rate(line.discountBasisPoints)} Mengenrabatt / volume discount`);
  if (line.creditedTo) parts.push(`Konto / account: ${line.creditedTo}`);
  return parts.join(' · ');
}

const CELL_PAD = 5;
const LINE_HEADERS = ['Pos.\nItem', 'Beschreibung\nDescription', 'Menge\nQuantity', 'Einzelpreis netto\nUnit price (net)', 'Betrag netto\nNet amount'];

/**
 * Column widths from measured text: the number columns as wide as their widest header line or
 * amount (never cut), the description the rest. When that leaves the description too narrow
 * (ten-digit amounts), the table's type shrinks until it does not.
 */
function lineColumns(doc: Doc, cells: string[][], size: number, width: number): number[] {
  const columnWidth = (index: number): number => {
    const [head = '', sub = ''] = (LINE_HEADERS[index] ?? '').split('\n');
    const header = Math.max(measure(doc, head, { font: BOLD, size }), measure(doc, sub, { font: REGULAR, size: size - 1 }));
    return (
      Math.max(
        header,
        widest(
          doc,
          cells.map((row) => row[index] ?? ''),
          { font: REGULAR, size },
        ),
      ) +
      CELL_PAD * 2 +
      1
    );
  };
  const fixed = [0, 2, 3, 4].map(columnWidth);
  const [item = 0, quantity = 0, unit = 0, net = 0] = fixed;
  return [item, width - item - quantity - unit - net, quantity, unit, net];
}

function drawInvoiceLines(flow: Flow, data: InvoiceData, format: InvoiceFormat): void {
  const { doc } = flow;
  const cells = data.lines.map((line, index) => [
    String(index + 1),
    `${line.description}\n${lineDetail(line, format) ?? ''}`.trimEnd(),
    format.count(line.quantity),
    format.euros(line.unitPriceNetCents),
    format.euros(line.netCents),
  ]);
  let size = 9;
  let widths = lineColumns(doc, cells, size, flow.width);
  while ((widths[1] ?? 0) < 150 && size > 6) {
    size -= 0.5;
    widths = lineColumns(doc, cells, size, flow.width);
  }
  const align = [undefined, undefined, 'right', 'right', 'right'] as const;
  drawTable(flow, {
    columns: LINE_HEADERS.map((header, index) => ({
      header,
      width: widths[index] ?? 1,
      ...(align[index] ? { align: align[index] } : {}),
      ...(index === 1 ? { wrap: true } : {}),
    })),
    rows: cells.map((row) => ({ cells: row })),
    size,
  });
}

/**
 * Net, VAT and gross, right-aligned under the table and kept together on one page. The block is
 * as wide as its widest label and amount need (at least 58% of the page), and its type shrinks
 * when even the full width is too narrow: a label and its amount never touch.
 */
function drawInvoiceTotals(flow: Flow, data: InvoiceData, format: InvoiceFormat): void {
  const { doc } = flow;
  const vatRate = format.rate(data.vatRateBasisPoints);
  const totals: Array<[string, string, boolean]> = [
    ['Nettobetrag / Net amount', format.euros(data.netCents), false],
    [`zzgl. USt. ${vatRate} / VAT ${vatRate}`, format.euros(data.vatCents), false],
    ['Gesamtbetrag / Total amount (gross)', format.euros(data.grossCents), true],
  ];
  const styleOf = (bold: boolean, scale: number) => ({ font: bold ? BOLD : REGULAR, size: (bold ? 10.5 : 9.5) * scale });
  const needed = (scale: number): number =>
    Math.max(...totals.map(([label, value, bold]) => measure(doc, label, styleOf(bold, scale)) + LABEL_GAP * 2 + measure(doc, value, styleOf(bold, scale))));
  let scale = 1;
  while (needed(scale) > flow.width && scale > 0.6) scale -= 0.05;
  const totalsX = FRAME.right - Math.min(flow.width, Math.max(flow.width * 0.58, needed(scale)));
  flow.ensure(totals.length * 17 + 8);
  for (const [label, value, bold] of totals) {
    if (bold) {
      rule(doc, totalsX, FRAME.right, flow.y - 3, COLOR.text, 0.8);
      flow.gap(2);
    }
    const style = styleOf(bold, scale);
    labelValue(doc, label, value, totalsX, FRAME.right, flow.y, style, style);
    flow.gap(bold ? 18 : 16);
  }
}

/** The provider's account, IBAN in groups of four. */
function bankDetails(data: InvoiceData): string | null {
  const { iban, bic, bankName } = data.seller;
  if (!iban) return null;
  const parts = [`IBAN ${groupIban(iban)}`, bic ? `BIC ${bic}` : null, bankName].filter((part): part is string => Boolean(part));
  return `Bankverbindung / Bank details: ${parts.join(' · ')} (Kontoinhaber / account holder: ${data.seller.name})`;
}

/** What the payer has to do (or has done): paid on; due by, with the account; SEPA: mandate and pre-notification. */
function paymentLines(data: InvoiceData, format: InvoiceFormat): string[] {
  const lines: string[] = [];
  const gross = format.euros(data.grossCents);
  const sepa = data.sepaDebit;
  if (data.paidDayKey) {
    const paid = format.date(data.paidDayKey);
    lines.push(sepa ? `Per SEPA-Lastschrift eingezogen am ${paid} / Debited by SEPA direct debit on ${paid}` : `Bezahlt am ${paid} / Paid on ${paid}`);
  } else if (sepa) {
    const day = format.date(sepa.debitDayKey);
    const account = sepa.debtorIbanLast4 ? ` mit der Endung ${sepa.debtorIbanLast4}` : '';
    const accountEn = sepa.debtorIbanLast4 ? ` ending ${sepa.debtorIbanLast4}` : '';
    lines.push(
      `Vorabankündigung: Den Betrag von ${gross} ziehen wir frühestens am ${day} per SEPA-Lastschrift von Ihrem Konto${account} ein. / ` +
        `Pre-notification: we will debit ${gross} by SEPA direct debit from your account${accountEn} on or after ${day}.`,
    );
  } else if (data.dueDayKey) {
    const due = format.date(data.dueDayKey);
    const days = data.paymentTermDays ?? 14;
    lines.push(`Zahlbar ohne Abzug bis ${due} (${days} Tage) / Payable without deduction by ${due} (${days} days)`);
    lines.push(`Verwendungszweck / Payment reference: ${data.invoiceNumber}`);
  } else if (data.paymentNote) {
    lines.push(data.paymentNote);
  }
  if (sepa) {
    lines.push(
      [`Mandatsreferenz / Mandate reference: ${sepa.mandateReference}`, sepa.creditorId ? `Gläubiger-ID / Creditor ID: ${sepa.creditorId}` : null]
        .filter(Boolean)
        .join(' · '),
    );
  }
  return lines;
}

function drawPaymentAndNotes(flow: Flow, data: InvoiceData, format: InvoiceFormat): void {
  if (data.cancellation) {
    const { originalNumber, originalDayKey, reason } = data.cancellation;
    const dated = format.date(originalDayKey);
    flow.paragraph(
      `Diese Stornorechnung hebt die Rechnung ${originalNumber} vom ${dated} vollständig auf. / This cancellation invoice reverses invoice ${originalNumber} of ${dated} in full.`,
      { size: 9 },
    );
    flow.paragraph(`Grund / Reason: ${reason}`, { size: 9 });
  } else {
    const payment = paymentMethodLabel(data.paymentMethod);
    flow.paragraph(`Zahlungsart / Payment method: ${payment.de === payment.en ? payment.de : `${payment.de} / ${payment.en}`}`, { size: 9 });
    for (const line of paymentLines(data, format)) flow.paragraph(line, { size: 9 });
    // The account is printed where the payer has to transfer: not on a paid invoice, never for a debit.
    const bank = data.sepaDebit || data.paidDayKey ? null : bankDetails(data);
    if (bank) flow.paragraph(bank, { size: 9 });
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

const MARK_COLOR = '#b3261e';

/** The title, "Kopie / Copy" beside it on a reprint, and under it the cancellation it is or that cancelled it. */
function drawTitle(flow: Flow, data: InvoiceData, format: InvoiceFormat): void {
  const { doc } = flow;
  const title = data.cancellation ? 'Stornorechnung / Cancellation invoice' : 'Rechnung / Invoice';
  textAt(doc, title, FRAME.left, flow.y, { font: FONT.bold, size: 18, color: COLOR.accent });
  if (data.copy) {
    const x = FRAME.left + measure(doc, title, { font: BOLD, size: 18 }) + 16;
    textAt(doc, 'Kopie / Copy', x, flow.y + 4, { font: FONT.bold, size: 12, color: MARK_COLOR, width: FRAME.right - x });
  }
  flow.gap(28);
  if (data.cancelledBy) {
    const { number, dayKey } = data.cancelledBy;
    const dated = format.date(dayKey);
    flow.paragraph(`Storniert durch Stornorechnung ${number} vom ${dated} / Cancelled by cancellation invoice ${number} of ${dated}`, {
      size: 10,
      font: FONT.bold,
      color: MARK_COLOR,
    });
    flow.gap(6);
  }
}

/** Writes a German invoice (Rechnung, §14 UStG) or cancellation invoice (Stornorechnung) as an A4 PDF, atomically (temp file, then rename). */
export async function invoicePdfBytes(data: InvoiceData, variant?: DocumentVariant): Promise<Uint8Array> {
  checkInvoice(data);
  const format = invoiceFormat(data);
  const sellerLines = addressLines(data.seller);
  const kind = data.cancellation ? 'Stornorechnung / Cancellation invoice' : 'Rechnung / Invoice';
  const copyMark = data.copy ? ' · Kopie / Copy' : '';
  const buyerLines = addressLines(data.buyer);
  const opened = await openDocument(
    {
      title: `${kind} ${data.invoiceNumber}${copyMark}`,
      author: data.seller.name,
      subject: `Rechnung ${data.invoiceNumber} an ${data.buyer.name}`,
      lang: 'de-DE',
    },
    FRAME,
    variant,
  );
  const { doc } = opened;
  const flow = new Flow(doc, FRAME, (next) => {
    textAt(doc, `${data.seller.name} · ${kind} ${data.invoiceNumber}${copyMark} (Fortsetzung / continued)`, FRAME.left, next.y, {
      size: 7.5,
      color: COLOR.muted,
      width: next.width,
    });
    next.y += 20;
  });

  drawSeller(doc, data, format, sellerLines, flow.width);
  const recipientBottom = drawRecipient(doc, data, format, sellerLines, buyerLines);
  const factsBottom = drawInvoiceFacts(doc, data, format);
  flow.y = Math.max(recipientBottom, factsBottom, 250) + 18;

  drawTitle(flow, data, format);
  flow.paragraph(
    data.cancellation
      ? 'Wir stornieren die folgenden Leistungen / We cancel the following services:'
      : 'Für die folgenden Leistungen berechnen wir Ihnen / We invoice you for the following services:',
    { size: 9 },
  );
  flow.gap(8);
  drawInvoiceLines(flow, data, format);
  flow.gap(10);
  drawInvoiceTotals(flow, data, format);
  flow.gap(16);
  drawPaymentAndNotes(flow, data, format);

  const footer = [data.seller.name, ...sellerLines, `USt-IdNr. ${format.vatId(data.seller.vatId)}`].join(' · ');
  addFooters(doc, FRAME, footer, (page, count) => `Seite ${page} von ${count} / Page ${page} of ${count}`);
  variant?.beforeEnd(doc);
  return finishDocumentBytes(opened);
}

/** Writes the PDF atomically (temp file in the same folder, fsync, rename). */
export async function writeInvoicePdf(data: InvoiceData, outputPath: string): Promise<void> {
  await writeFileAtomically(outputPath, await invoicePdfBytes(data));
}
