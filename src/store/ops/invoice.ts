import { CreditsError } from '../../core/errors.js';
import type { Database } from '../driver.js';
import { runMutation, type MutationRequest } from '../mutation.js';
import { requirePurchase, type PurchaseRow } from '../purchaseRepo.js';

export type InvoiceRecord = {
  number: number;
  purchaseId: number;
  issuedAtMs: number;
  buyerName: string;
  buyerAddress: string;
  buyerVatId: string | null;
  vatRateBasisPoints: number;
};
export type Buyer = { name: string; address: string; vatId: string | null };

/**
 * Takes the next invoice number for a purchase, once: invoicing the same purchase again gives
 * the same number and buyer, so a re-printed invoice is the same document and numbers never skip.
 */
export async function issueInvoice(
  db: Database,
  request: MutationRequest,
  input: { purchaseId: number; buyer: (purchase: PurchaseRow) => Buyer; vatRateBasisPoints: number },
) {
  return runMutation(db, request, async ({ tx }) => {
    const purchase = await requirePurchase(tx, input.purchaseId);
    const existing = await tx.get<InvoiceRecord>(
      'SELECT number, purchase_id AS purchaseId, issued_at_ms AS issuedAtMs, buyer_name AS buyerName, buyer_address AS buyerAddress, buyer_vat_id AS buyerVatId, vat_rate_basis_points AS vatRateBasisPoints FROM invoices WHERE purchase_id = ?',
      [purchase.id],
    );
    if (existing) return { invoice: existing, purchase, reissued: true };
    if (purchase.status === 'cancelled') {
      throw new CreditsError('NOT_PENDING', `purchase ${purchase.id} was cancelled: there is nothing to invoice`, {
        hint: 'invoice a pending or settled purchase',
      });
    }
    const buyer = input.buyer(purchase);
    const last = await tx.get<{ number: number | null }>('SELECT max(number) AS number FROM invoices');
    const invoice: InvoiceRecord = {
      number: (last?.number ?? 0) + 1,
      purchaseId: purchase.id,
      issuedAtMs: request.nowMs,
      buyerName: buyer.name,
      buyerAddress: buyer.address,
      buyerVatId: buyer.vatId,
      vatRateBasisPoints: input.vatRateBasisPoints,
    };
    tx.run(
      'INSERT INTO invoices (number, purchase_id, issued_at_ms, buyer_name, buyer_address, buyer_vat_id, vat_rate_basis_points) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [invoice.number, invoice.purchaseId, invoice.issuedAtMs, invoice.buyerName, invoice.buyerAddress, invoice.buyerVatId, invoice.vatRateBasisPoints],
    );
    return { invoice, purchase, reissued: false };
  });
}
