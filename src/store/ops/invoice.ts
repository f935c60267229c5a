import { CreditsError } from '../../core/errors.js';
import type { TaxCase } from '../../core/invoiceTax.js';
import { DEFAULT_PAYMENT_TERM_DAYS } from '../../core/provider.js';
import { DEFAULT_TIME_ZONE } from '../../core/time.js';
import type { Database, WriteTx } from '../driver.js';
import { runMutation, type MutationRequest } from '../mutation.js';
import { requirePurchase, type PurchaseRow } from '../purchaseRepo.js';

/** The seller as an invoice was issued with (the provider; the organisation on older invoices). */
export type Seller = {
  name: string;
  address: string;
  vatId: string;
  taxNumber: string | null;
  iban: string | null;
  bic: string | null;
  bankName: string | null;
  email: string | null;
  /** SEPA creditor identifier (Gläubiger-ID); null when the provider has none. */
  creditorId: string | null;
};
export type Buyer = { name: string; address: string; vatId: string | null; country: string | null; leitwegId: string | null };

/** An issued invoice as stored: everything a reprint prints is read from here, never from today's settings. */
export type InvoiceRecord = {
  number: number;
  purchaseId: number;
  issuedAtMs: number;
  seller: Seller;
  buyer: Buyer;
  taxCase: TaxCase;
  vatRateBasisPoints: number;
  netCents: number;
  vatCents: number;
  grossCents: number;
  /** The number as printed, prefix included (like INV-000007). */
  numberText: string;
  /** The IANA zone its dates are read in. */
  timeZone: string;
  /** Days from the invoice date to the due date. */
  paymentTermDays: number;
  /** SEPA direct debit: the mandate's reference, and the debtor's IBAN when known; null otherwise. */
  mandateReference: string | null;
  debtorIban: string | null;
  /** The cancellation invoice that cancelled it, or null. */
  cancelledBy: CancellationRecord | null;
};

/** A cancellation invoice (Stornorechnung) as stored: it prints the cancelled invoice negated. */
export type CancellationRecord = {
  number: number;
  numberText: string;
  originalNumber: number;
  issuedAtMs: number;
  timeZone: string;
  reason: string;
  actor: string;
};

/** An invoice number as the user types it: 7, or INV-000007 (checked against the printed number). */
export type InvoiceNumberInput = { number: number; text: string | null };

/** What a new invoice says, composed by the caller from the purchase once it is known to be invoiceable. */
export type NewInvoice = Omit<InvoiceRecord, 'number' | 'purchaseId' | 'issuedAtMs' | 'numberText' | 'cancelledBy'> & { numberPrefix: string };

/** The printed number: the prefix and six digits (INV-000007). */
export function invoiceNumberText(prefix: string, number: number): string {
  return `${prefix}${String(number).padStart(6, '0')}`;
}

type InvoiceRow = {
  number: number;
  purchaseId: number;
  issuedAtMs: number;
  sellerName: string | null;
  sellerAddress: string | null;
  sellerVatId: string | null;
  sellerTaxNumber: string | null;
  sellerIban: string | null;
  sellerBic: string | null;
  sellerBankName: string | null;
  sellerEmail: string | null;
  buyerName: string;
  buyerAddress: string;
  buyerVatId: string | null;
  buyerCountry: string | null;
  buyerLeitwegId: string | null;
  taxCase: TaxCase;
  vatRateBasisPoints: number;
  netCents: number | null;
  vatCents: number | null;
  grossCents: number | null;
  numberText: string | null;
  timeZone: string | null;
  paymentTermDays: number | null;
  mandateReference: string | null;
  sellerCreditorId: string | null;
  debtorIban: string | null;
  cancelNumber: number | null;
  cancelNumberText: string | null;
  cancelIssuedAtMs: number | null;
  cancelTimeZone: string | null;
  cancelReason: string | null;
  cancelActor: string | null;
};

const INVOICE_COLUMNS = [
  'i.number',
  'i.purchase_id AS purchaseId',
  'i.issued_at_ms AS issuedAtMs',
  'i.seller_name AS sellerName',
  'i.seller_address AS sellerAddress',
  'i.seller_vat_id AS sellerVatId',
  'i.seller_tax_number AS sellerTaxNumber',
  'i.seller_iban AS sellerIban',
  'i.seller_bic AS sellerBic',
  'i.seller_bank_name AS sellerBankName',
  'i.seller_email AS sellerEmail',
  'i.buyer_name AS buyerName',
  'i.buyer_address AS buyerAddress',
  'i.buyer_vat_id AS buyerVatId',
  'i.buyer_country AS buyerCountry',
  'i.buyer_leitweg_id AS buyerLeitwegId',
  'i.tax_case AS taxCase',
  'i.vat_rate_basis_points AS vatRateBasisPoints',
  'i.net_cents AS netCents',
  'i.vat_cents AS vatCents',
  'i.gross_cents AS grossCents',
  'i.number_text AS numberText',
  'i.time_zone AS timeZone',
  'i.payment_term_days AS paymentTermDays',
  'i.mandate_reference AS mandateReference',
  'i.seller_creditor_id AS sellerCreditorId',
  'i.debtor_iban AS debtorIban',
  'c.number AS cancelNumber',
  'c.number_text AS cancelNumberText',
  'c.issued_at_ms AS cancelIssuedAtMs',
  'c.time_zone AS cancelTimeZone',
  'c.reason AS cancelReason',
  'c.actor AS cancelActor',
].join(', ');

const INVOICE_FROM = 'invoices i LEFT JOIN invoice_cancellations c ON c.original_number = i.number';

function cancellationOf(row: InvoiceRow): CancellationRecord | null {
  if (row.cancelNumber === null) return null;
  return {
    number: row.cancelNumber,
    numberText: row.cancelNumberText ?? String(row.cancelNumber),
    originalNumber: row.number,
    issuedAtMs: row.cancelIssuedAtMs ?? 0,
    timeZone: row.cancelTimeZone ?? DEFAULT_TIME_ZONE,
    reason: row.cancelReason ?? '',
    actor: row.cancelActor ?? '',
  };
}

/**
 * Every invoice has its seller and totals since the migration that introduced the provider
 * (providerMigration.ts fills those of older invoices); a row without them was written around
 * credits, and is refused rather than printed with today's settings.
 */
function recordOf(row: InvoiceRow): InvoiceRecord {
  if (row.sellerName === null || row.sellerAddress === null || row.netCents === null || row.vatCents === null || row.grossCents === null) {
    throw new CreditsError('INTEGRITY_FAILED', `invoice ${row.number} has no seller or totals stored`, { hint: 'run `credits verify`' });
  }
  return {
    number: row.number,
    purchaseId: row.purchaseId,
    issuedAtMs: row.issuedAtMs,
    seller: {
      name: row.sellerName,
      address: row.sellerAddress,
      vatId: row.sellerVatId ?? '',
      taxNumber: row.sellerTaxNumber,
      iban: row.sellerIban,
      bic: row.sellerBic,
      bankName: row.sellerBankName,
      email: row.sellerEmail,
      creditorId: row.sellerCreditorId,
    },
    buyer: { name: row.buyerName, address: row.buyerAddress, vatId: row.buyerVatId, country: row.buyerCountry, leitwegId: row.buyerLeitwegId },
    taxCase: row.taxCase,
    vatRateBasisPoints: row.vatRateBasisPoints,
    netCents: row.netCents,
    vatCents: row.vatCents,
    grossCents: row.grossCents,
    // Filled for every invoice by migration 0015; the fallbacks only keep a hand-made row printable.
    numberText: row.numberText ?? invoiceNumberText('INV-', row.number),
    timeZone: row.timeZone ?? DEFAULT_TIME_ZONE,
    paymentTermDays: row.paymentTermDays ?? DEFAULT_PAYMENT_TERM_DAYS,
    mandateReference: row.mandateReference,
    debtorIban: row.debtorIban,
    cancelledBy: cancellationOf(row),
  };
}

/** The next number of the one gapless sequence that invoices and cancellation invoices share. */
async function nextInvoiceNumber(tx: WriteTx): Promise<number> {
  const last = await tx.get<{ number: number | null }>(
    'SELECT max(number) AS number FROM (SELECT max(number) AS number FROM invoices UNION ALL SELECT max(number) FROM invoice_cancellations)',
  );
  return (last?.number ?? 0) + 1;
}

/**
 * Takes the next invoice number for a purchase, once: invoicing the same purchase again gives
 * the same number, seller, buyer and totals, so a re-printed invoice is the same document and
 * numbers never skip. After `invoice cancel`, the next `invoice` of the purchase is a new,
 * corrected invoice with the next number (and today's seller and buyer). `compose` is asked
 * only for a new invoice (and may refuse it).
 */
export async function issueInvoice(db: Database, request: MutationRequest, input: { purchaseId: number; compose: (purchase: PurchaseRow) => NewInvoice }) {
  return runMutation(db, request, async ({ tx }) => {
    const purchase = await requirePurchase(tx, input.purchaseId);
    // The live invoice (not cancelled): a cancelled one leaves the purchase to be invoiced anew.
    const existing = await tx.get<InvoiceRow>(`SELECT ${INVOICE_COLUMNS} FROM ${INVOICE_FROM} WHERE i.purchase_id = ? AND i.cancelled = 0`, [purchase.id]);
    if (existing) return { invoice: recordOf(existing), purchase, reissued: true };
    if (purchase.status === 'cancelled') {
      throw new CreditsError('NOT_PENDING', `purchase ${purchase.id} was cancelled: there is nothing to invoice`, {
        hint: 'invoice a pending or settled purchase',
      });
    }
    const { numberPrefix, ...composed } = input.compose(purchase);
    const number = await nextInvoiceNumber(tx);
    const numberText = invoiceNumberText(numberPrefix, number);
    const invoice: InvoiceRecord = { number, purchaseId: purchase.id, issuedAtMs: request.nowMs, numberText, cancelledBy: null, ...composed };
    const { seller, buyer } = invoice;
    tx.run(
      `INSERT INTO invoices (number, purchase_id, issued_at_ms, seller_name, seller_address, seller_vat_id, seller_tax_number, seller_iban,
         seller_bic, seller_bank_name, seller_email, buyer_name, buyer_address, buyer_vat_id, buyer_country, buyer_leitweg_id, tax_case,
         vat_rate_basis_points, net_cents, vat_cents, gross_cents, number_text, time_zone, payment_term_days, mandate_reference, seller_creditor_id, debtor_iban)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        invoice.number,
        invoice.purchaseId,
        invoice.issuedAtMs,
        seller.name,
        seller.address,
        seller.vatId,
        seller.taxNumber,
        seller.iban,
        seller.bic,
        seller.bankName,
        seller.email,
        buyer.name,
        buyer.address,
        buyer.vatId,
        buyer.country,
        buyer.leitwegId,
        invoice.taxCase,
        invoice.vatRateBasisPoints,
        invoice.netCents,
        invoice.vatCents,
        invoice.grossCents,
        invoice.numberText,
        invoice.timeZone,
        invoice.paymentTermDays,
        invoice.mandateReference,
        seller.creditorId,
        invoice.debtorIban,
      ],
    );
    return { invoice, purchase, reissued: false };
  });
}

async function findInvoice(db: Pick<WriteTx, 'get'>, given: InvoiceNumberInput): Promise<InvoiceRecord | null> {
  const row = await db.get<InvoiceRow>(`SELECT ${INVOICE_COLUMNS} FROM ${INVOICE_FROM} WHERE i.number = ?`, [given.number]);
  if (!row) return null;
  const record = recordOf(row);
  return given.text === null || given.text.toUpperCase() === record.numberText.toUpperCase() ? record : null;
}

/**
 * Issues the cancellation invoice of one invoice: the next number of the shared sequence,
 * referring to the original, which stays as it was (its reprint shows it cancelled). An invoice
 * is cancelled at most once, and a cancellation is never itself cancelled.
 */
export async function cancelInvoice(
  db: Database,
  request: MutationRequest,
  input: { invoice: InvoiceNumberInput; reason: string; numberPrefix: string; timeZone: string },
) {
  return runMutation(db, request, async ({ tx }) => {
    const shown = input.invoice.text ?? String(input.invoice.number);
    const cancellation = await tx.get<{ originalNumber: number; numberText: string }>(
      'SELECT original_number AS originalNumber, number_text AS numberText FROM invoice_cancellations WHERE number = ?',
      [input.invoice.number],
    );
    if (cancellation && (input.invoice.text === null || input.invoice.text.toUpperCase() === cancellation.numberText.toUpperCase())) {
      throw new CreditsError('NOT_CANCELLABLE', `${cancellation.numberText} is a cancellation invoice: it cannot be cancelled`, {
        hint: 'a cancellation is final; its original stays cancelled',
      });
    }
    const original = await findInvoice(tx, input.invoice);
    if (!original) throw new CreditsError('INVOICE_NOT_FOUND', `no invoice ${shown}`, { hint: 'see `credits invoice list` for the numbers' });
    const purchase = await requirePurchase(tx, original.purchaseId);
    if (original.cancelledBy) {
      throw new CreditsError('ALREADY_CANCELLED', `invoice ${original.numberText} was already cancelled by ${original.cancelledBy.numberText}`, {
        hint: 'an invoice is cancelled once; nothing was written',
      });
    }
    const number = await nextInvoiceNumber(tx);
    const record: CancellationRecord = {
      number,
      numberText: invoiceNumberText(input.numberPrefix, number),
      originalNumber: original.number,
      issuedAtMs: request.nowMs,
      timeZone: input.timeZone,
      reason: input.reason,
      actor: request.actor,
    };
    tx.run('INSERT INTO invoice_cancellations (number, original_number, issued_at_ms, number_text, time_zone, reason, actor) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      record.number,
      record.originalNumber,
      record.issuedAtMs,
      record.numberText,
      record.timeZone,
      record.reason,
      record.actor,
    ]);
    // The purchase may now be invoiced anew (a corrected invoice): its live invoice is gone.
    tx.run('UPDATE invoices SET cancelled = 1 WHERE number = ?', [original.number]);
    return { cancellation: record, original: { ...original, cancelledBy: record }, purchase };
  });
}

/** One row of `invoice list`: an invoice or a cancellation invoice, in number order. */
export type InvoiceListItem = {
  number: number;
  numberText: string;
  kind: 'invoice' | 'cancellation';
  issuedAtMs: number;
  timeZone: string;
  purchaseId: number;
  buyer: string;
  grossCents: number;
  /** On an invoice: the cancellation's number, or null. On a cancellation: the invoice it cancels. */
  cancelledBy: string | null;
  cancels: string | null;
};

export async function listInvoices(db: Database): Promise<InvoiceListItem[]> {
  const rows = await db.all<InvoiceRow>(`SELECT ${INVOICE_COLUMNS} FROM ${INVOICE_FROM} ORDER BY i.number`);
  const items: InvoiceListItem[] = [];
  for (const record of rows.map(recordOf)) {
    const base = { purchaseId: record.purchaseId, buyer: record.buyer.name };
    items.push({
      ...base,
      number: record.number,
      numberText: record.numberText,
      kind: 'invoice',
      issuedAtMs: record.issuedAtMs,
      timeZone: record.timeZone,
      grossCents: record.grossCents,
      cancelledBy: record.cancelledBy?.numberText ?? null,
      cancels: null,
    });
    const c = record.cancelledBy;
    if (c)
      items.push({
        ...base,
        number: c.number,
        numberText: c.numberText,
        kind: 'cancellation',
        issuedAtMs: c.issuedAtMs,
        timeZone: c.timeZone,
        grossCents: -record.grossCents,
        cancelledBy: null,
        cancels: record.numberText,
      });
  }
  return items.sort((a, b) => a.number - b.number);
}

/**
 * An invoice or cancellation invoice by its number, for a reprint: the invoice as stored (with
 * the cancellation that cancelled it), and for a cancellation also which one it is.
 */
export async function readInvoiceByNumber(db: Database, given: InvoiceNumberInput): Promise<InvoiceReprint> {
  const cancelled = await db.get<{ originalNumber: number; numberText: string }>(
    'SELECT original_number AS originalNumber, number_text AS numberText FROM invoice_cancellations WHERE number = ?',
    [given.number],
  );
  const isCancellation = cancelled !== undefined && (given.text === null || given.text.toUpperCase() === cancelled.numberText.toUpperCase());
  const invoice = await findInvoice(db, isCancellation ? { number: cancelled.originalNumber, text: null } : given);
  if (!invoice) throw new CreditsError('INVOICE_NOT_FOUND', `no invoice ${given.text ?? given.number}`, { hint: 'see `credits invoice list` for the numbers' });
  const purchase = await requirePurchase(db, invoice.purchaseId);
  return { invoice, cancellation: isCancellation ? invoice.cancelledBy : null, purchase };
}

/** An invoice or cancellation invoice to reprint: as `readInvoiceByNumber` gives it. */
export type InvoiceReprint = { invoice: InvoiceRecord; cancellation: CancellationRecord | null; purchase: PurchaseRow };

/**
 * Every invoice and cancellation invoice issued in [startMs, endMs), in number order: what the
 * monthly report attaches. A cancellation counts in the month it was issued, whenever its
 * original was.
 */
export async function invoicesIssuedBetween(db: Database, startMs: number, endMs: number): Promise<InvoiceReprint[]> {
  const rows = await db.all<InvoiceRow>(
    `SELECT ${INVOICE_COLUMNS} FROM ${INVOICE_FROM}
     WHERE (i.issued_at_ms >= ? AND i.issued_at_ms < ?) OR (c.issued_at_ms >= ? AND c.issued_at_ms < ?) ORDER BY i.number`,
    [startMs, endMs, startMs, endMs],
  );
  const reprints: (InvoiceReprint & { number: number })[] = [];
  for (const invoice of rows.map(recordOf)) {
    const purchase = await requirePurchase(db, invoice.purchaseId);
    if (invoice.issuedAtMs >= startMs && invoice.issuedAtMs < endMs) reprints.push({ number: invoice.number, invoice, cancellation: null, purchase });
    const cancellation = invoice.cancelledBy;
    if (cancellation && cancellation.issuedAtMs >= startMs && cancellation.issuedAtMs < endMs)
      reprints.push({ number: cancellation.number, invoice, cancellation, purchase });
  }
  return reprints.sort((a, b) => a.number - b.number).map(({ number: _number, ...reprint }) => reprint);
}
