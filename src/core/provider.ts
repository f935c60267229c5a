import { vatIdCountry } from './vatId.js';

/**
 * The provider: who sells the credits to the organisation, and so the seller on every invoice.
 * Stored as settings rows (key -> text) next to the organisation's, so the state log follows it
 * like every other setting. The domestic VAT rate is the one `org.vat_rate_bp` setting (see
 * org.ts), set by `provider set --vat-rate` or the older `org set --vat-rate`.
 */
export type ProviderSettings = {
  name: string;
  address: string;
  /** Normalised, like DE123456789. */
  vatId: string;
  /** Steuernummer, as the tax office wrote it (printed as given). */
  taxNumber: string;
  iban: string;
  bic: string;
  bankName: string;
  email: string;
  /** SEPA creditor identifier (Gläubiger-ID), like DE98ZZZ09999999999, or ''. */
  creditorId?: string;
  /** Days from the invoice date to the due date, as digits; '' = DEFAULT_PAYMENT_TERM_DAYS. */
  paymentTermDays?: string;
};

/** The payment term of an invoice when the provider names none. */
export const DEFAULT_PAYMENT_TERM_DAYS = 14;

export function paymentTermDaysOf(provider: ProviderSettings): number {
  return provider.paymentTermDays ? Number(provider.paymentTermDays) : DEFAULT_PAYMENT_TERM_DAYS;
}

export const PROVIDER_KEYS = {
  name: 'provider.name',
  address: 'provider.address',
  vatId: 'provider.vat_id',
  taxNumber: 'provider.tax_number',
  iban: 'provider.iban',
  bic: 'provider.bic',
  bankName: 'provider.bank_name',
  email: 'provider.email',
  creditorId: 'provider.creditor_id',
  paymentTermDays: 'provider.payment_term_days',
} as const satisfies Record<keyof ProviderSettings, string>;

export function providerFromRows(rows: Map<string, string>): ProviderSettings | null {
  const value = (key: keyof ProviderSettings): string => rows.get(PROVIDER_KEYS[key]) ?? '';
  if (!rows.has(PROVIDER_KEYS.name)) return null;
  return {
    name: value('name'),
    address: value('address'),
    vatId: value('vatId'),
    taxNumber: value('taxNumber'),
    iban: value('iban'),
    bic: value('bic'),
    bankName: value('bankName'),
    email: value('email'),
    creditorId: value('creditorId'),
    paymentTermDays: value('paymentTermDays'),
  };
}

/** The provider's country: its VAT id's (EL -> GR). Germany when it has none (an older ledger's copy). */
export function providerCountry(provider: ProviderSettings): string {
  return vatIdCountry(provider.vatId) ?? 'DE';
}
