import { CreditsError } from './errors.js';
import { EU_COUNTRIES, vatIdCountry } from './vatId.js';

/**
 * How VAT applies to an invoice for credits (an electronically supplied service, business to
 * business), from the provider's country and the buyer's:
 * - domestic: the same country; the provider's rate (19% in Germany) is charged.
 * - reverseCharge: a buyer in another EU member state with a VAT id of that state; 0%, the buyer
 *   owes the VAT (§13b UStG, Art. 196 VAT Directive), and the invoice says so.
 * - notTaxable: a buyer outside the EU (Northern Ireland, XI, counts as outside for services):
 *   the place of supply is the buyer's country (§3a Abs. 2 UStG), so no German VAT.
 */
export type TaxCase = 'domestic' | 'reverseCharge' | 'notTaxable';

export const TAX_CASES: readonly TaxCase[] = ['domestic', 'reverseCharge', 'notTaxable'];

/** The legal notes an invoice of each case carries (German first, then English). */
export const TAX_CASE_NOTES: Readonly<Record<TaxCase, string | null>> = {
  domestic: null,
  reverseCharge:
    'Steuerschuldnerschaft des Leistungsempfängers / Reverse charge: the recipient is liable for the VAT (§13b UStG, Art. 196 Directive 2006/112/EC).',
  notTaxable: 'Nicht im Inland steuerbare Leistung (§3a Abs. 2 UStG) / Not taxable in Germany: the place of supply is the recipient’s country.',
};

export type TaxParties = {
  /** ISO 3166 code of the provider (the seller). */
  sellerCountry: string;
  /** ISO 3166 code of the buyer; XI for Northern Ireland. */
  buyerCountry: string;
  /** The buyer's VAT id, normalised, or null. */
  buyerVatId: string | null;
};

/**
 * The tax case of a new invoice. A buyer in another EU state without a VAT id of that state is
 * refused: without one there is no reverse charge, and charging the provider's own VAT would be
 * wrong too (the place of supply of a non-business buyer is its own country).
 */
export function taxCaseOf(parties: TaxParties): TaxCase {
  const { sellerCountry, buyerCountry, buyerVatId } = parties;
  if (buyerCountry === sellerCountry) return 'domestic';
  if (!EU_COUNTRIES.has(buyerCountry)) return 'notTaxable';
  const vatCountry = buyerVatId === null ? null : vatIdCountry(buyerVatId);
  if (vatCountry !== buyerCountry) {
    throw new CreditsError(
      'INVOICE_DETAILS_MISSING',
      `the organisation is in ${buyerCountry} (EU) but has no VAT id of ${buyerCountry}: reverse charge needs one`,
      {
        hint: `set it with \`credits org set --vat-id ${buyerCountry === 'GR' ? 'EL' : buyerCountry}...\``,
      },
    );
  }
  return 'reverseCharge';
}

export type InvoiceTotals = { taxCase: TaxCase; netCents: number; vatRateBasisPoints: number; vatCents: number; grossCents: number };

/**
 * Net, VAT and gross of an invoice, computed once and stored with it: every rendering (PDF,
 * CSV, JSON) prints these numbers. VAT is rounded half up to a whole cent; 0% outside the
 * domestic case.
 */
export function invoiceTotals(netCents: number, taxCase: TaxCase, domesticRateBasisPoints: number): InvoiceTotals {
  if (!Number.isSafeInteger(netCents) || netCents < 0) throw new CreditsError('INTERNAL', `invoice net amount ${netCents} is not a count of cents`);
  if (!Number.isSafeInteger(domesticRateBasisPoints) || domesticRateBasisPoints < 0 || domesticRateBasisPoints >= 10_000) {
    throw new CreditsError('INTERNAL', `VAT rate ${domesticRateBasisPoints} bp is out of range`);
  }
  const vatRateBasisPoints = taxCase === 'domestic' ? domesticRateBasisPoints : 0;
  const vatCents = Math.floor((netCents * vatRateBasisPoints + 5_000) / 10_000);
  return { taxCase, netCents, vatRateBasisPoints, vatCents, grossCents: netCents + vatCents };
}
