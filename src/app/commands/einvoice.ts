import { vatIdCountry } from '../../core/vatId.js';
import { addLocalDays, localDateKey } from '../../core/time.js';
import type { InvoiceRecord } from '../../store/ops/invoice.js';
import type { PurchaseRow } from '../../store/purchaseRepo.js';
import type { InvoiceData } from '../documentTypes.js';
import type { EInvoiceData } from '../einvoiceTypes.js';
import type { Presenter } from '../presenter.js';

/** The file formats of `invoice`: the PDF and CSV, and the two electronic invoices. */
export const INVOICE_FORMATS = ['pdf', 'csv', 'xrechnung', 'zugferd'] as const;
export type InvoiceFormat = (typeof INVOICE_FORMATS)[number];

/** The payment term of an unpaid invoice, as the PDF words it ("Payable within 14 days"). */
const PAYMENT_TERM_DAYS = 14;

/**
 * The electronic invoice's data: the PDF's, plus the countries and the payment dates. Fields the
 * PDF data already carries (a due date, a SEPA mandate) win over the ones derived here.
 */
export function einvoiceData(data: InvoiceData, invoice: InvoiceRecord, purchase: PurchaseRow, timeZone: string): EInvoiceData {
  const paid = purchase.status === 'settled' && purchase.settledAtMs !== null;
  const derived = paid ? { paidDayKey: localDateKey(purchase.settledAtMs!, timeZone) } : { dueDayKey: addLocalDays(data.invoiceDayKey, PAYMENT_TERM_DAYS) };
  return {
    ...derived,
    ...data,
    sellerCountry: vatIdCountry(invoice.seller.vatId) ?? 'DE',
    buyerCountry: invoice.buyer.country ?? 'DE',
  };
}

/** The bytes of the invoice file in the chosen format; the e-invoices are drawn from the same data as the PDF. */
export async function invoiceFileBytes(
  format: InvoiceFormat,
  data: InvoiceData,
  stored: { invoice: InvoiceRecord; purchase: PurchaseRow; timeZone: string },
  presenter: Presenter,
): Promise<Uint8Array> {
  if (format === 'pdf') return presenter.invoicePdf(data);
  if (format === 'csv') return Buffer.from(await presenter.invoiceCsv(data), 'utf8');
  const electronic = einvoiceData(data, stored.invoice, stored.purchase, stored.timeZone);
  return format === 'xrechnung' ? Buffer.from(await presenter.invoiceCiiXml(electronic), 'utf8') : presenter.invoiceFacturXPdf(electronic);
}
