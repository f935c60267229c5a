import { vatIdCountry } from '../../core/vatId.js';
import type { InvoiceRecord } from '../../store/ops/invoice.js';
import type { InvoiceData } from '../documentTypes.js';
import type { EInvoiceData } from '../einvoiceTypes.js';
import type { Presenter } from '../presenter.js';

/** The file formats of `invoice`: the PDF and CSV, and the two electronic invoices. */
export const INVOICE_FORMATS = ['pdf', 'csv', 'xrechnung', 'zugferd'] as const;
export type InvoiceFormat = (typeof INVOICE_FORMATS)[number];

/**
 * The electronic invoice's data: the PDF's (its paid or due date, its SEPA mandate, as
 * invoiceFileData worked them out), plus the two countries.
 */
export function einvoiceData(data: InvoiceData, invoice: InvoiceRecord): EInvoiceData {
  return {
    ...data,
    sellerCountry: vatIdCountry(invoice.seller.vatId) ?? 'DE',
    buyerCountry: invoice.buyer.country ?? 'DE',
  };
}

/** The bytes of the invoice file in the chosen format; the e-invoices are drawn from the same data as the PDF. */
export async function invoiceFileBytes(
  format: InvoiceFormat,
  data: InvoiceData,
  stored: { invoice: InvoiceRecord },
  presenter: Presenter,
): Promise<Uint8Array> {
  if (format === 'pdf') return presenter.invoicePdf(data);
  if (format === 'csv') return Buffer.from(await presenter.invoiceCsv(data), 'utf8');
  const electronic = einvoiceData(data, stored.invoice);
  return format === 'xrechnung' ? Buffer.from(await presenter.invoiceCiiXml(electronic), 'utf8') : presenter.invoiceFacturXPdf(electronic);
}
