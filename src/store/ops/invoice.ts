import { CreditsError } from '../../core/errors.js';
import type { TaxCase } from '../../core/invoiceTax.js';
import type { Database } from '../driver.js';
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
};

/** What a new invoice says, composed by the caller from the purchase once it is known to be invoiceable. */
export type NewInvoice = Omit<InvoiceRecord, 'number' | 'purchaseId' | 'issuedAtMs'>;

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
};

const INVOICE_COLUMNS = `number, purchase_id AS purchaseId, issued_at_ms AS issuedAtMs, seller_name AS sellerName, seller_address AS sellerAddress,
  seller_vat_id AS sellerVatId, seller_tax_number AS sellerTaxNumber, seller_iban AS sellerIban, seller_bic AS sellerBic,
  seller_bank_name AS sellerBankName, seller_email AS sellerEmail, buyer_name AS buyerName, buyer_address AS buyerAddress,
  buyer_vat_id AS buyerVatId, buyer_country AS buyerCountry, buyer_leitweg_id AS buyerLeitwegId, tax_case AS taxCase,
  vat_rate_basis_points AS vatRateBasisPoints, net_cents AS netCents, vat_cents AS vatCents, gross_cents AS grossCents`;

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
    },
    buyer: { name: row.buyerName, address: row.buyerAddress, vatId: row.buyerVatId, country: row.buyerCountry, leitwegId: row.buyerLeitwegId },
    taxCase: row.taxCase,
    vatRateBasisPoints: row.vatRateBasisPoints,
    netCents: row.netCents,
    vatCents: row.vatCents,
    grossCents: row.grossCents,
  };
}

/**
 * Takes the next invoice number for a purchase, once: invoicing the same purchase again gives
 * the same number, seller, buyer and totals, so a re-printed invoice is the same document and
 * numbers never skip. `compose` is asked only for a new invoice (and may refuse it).
 */
export async function issueInvoice(db: Database, request: MutationRequest, input: { purchaseId: number; compose: (purchase: PurchaseRow) => NewInvoice }) {
  return runMutation(db, request, async ({ tx }) => {
    const purchase = await requirePurchase(tx, input.purchaseId);
    const existing = await tx.get<InvoiceRow>(`SELECT ${INVOICE_COLUMNS} FROM invoices WHERE purchase_id = ?`, [purchase.id]);
    if (existing) return { invoice: recordOf(existing), purchase, reissued: true };
    if (purchase.status === 'cancelled') {
      throw new CreditsError('NOT_PENDING', `purchase ${purchase.id} was cancelled: there is nothing to invoice`, {
        hint: 'invoice a pending or settled purchase',
      });
    }
    const composed = input.compose(purchase);
    const last = await tx.get<{ number: number | null }>('SELECT max(number) AS number FROM invoices');
    const invoice: InvoiceRecord = { number: (last?.number ?? 0) + 1, purchaseId: purchase.id, issuedAtMs: request.nowMs, ...composed };
    const { seller, buyer } = invoice;
    tx.run(
      `INSERT INTO invoices (number, purchase_id, issued_at_ms, seller_name, seller_address, seller_vat_id, seller_tax_number, seller_iban,
         seller_bic, seller_bank_name, seller_email, buyer_name, buyer_address, buyer_vat_id, buyer_country, buyer_leitweg_id, tax_case,
         vat_rate_basis_points, net_cents, vat_cents, gross_cents)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      ],
    );
    return { invoice, purchase, reissued: false };
  });
}
