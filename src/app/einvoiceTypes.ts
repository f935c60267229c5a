import type { InvoiceData } from './documentTypes.js';

/**
 * What the electronic invoice (EN 16931 in UN/CEFACT CII syntax) needs beyond what the PDF
 * prints: the parties' countries (an e-invoice names them as codes), and when the invoice was
 * or is to be paid. The amounts are the InvoiceData's, stored with the invoice: the XML, the PDF
 * and the CSV show the same cents.
 *
 * `dueDayKey`, `paidDayKey` and `sepaDebit` carry the names and types the PDF's own payment
 * block uses once it prints a due date and a SEPA mandate, so the two data shapes meet.
 */
export type EInvoiceData = InvoiceData & {
  /** ISO 3166 code of the seller (the provider's VAT id's country). */
  sellerCountry: string;
  /** ISO 3166 code of the buyer, as stored with the invoice. */
  buyerCountry: string;
  /** Due date, 'YYYY-MM-DD'; absent on a paid invoice. */
  dueDayKey?: string;
  /** The day it was paid (the purchase settled), 'YYYY-MM-DD'; absent while unpaid. */
  paidDayKey?: string;
  /** A SEPA direct-debit purchase: the mandate the provider debits under. */
  sepaDebit?: { mandateReference: string; creditorId: string | null; debtorIbanLast4: string | null; debitDayKey: string };
  /** A cancellation invoice (Stornorechnung): the invoice it cancels and why; its amounts are the original's negated. */
  cancellation?: { originalNumber: string; originalDayKey: string; reason: string };
};
