import { refuseControlCharacters } from './names.js';
import { CreditsError } from './errors.js';
import { DEFAULT_TIME_ZONE } from './time.js';
import { EU_COUNTRIES, normaliseVatId, vatIdCountry } from './vatId.js';

/** Organisation settings as stored (text key -> text value) and as the program uses them. */
export type OrgSettings = {
  name: string;
  address: string;
  vatId: string;
  vatRateBasisPoints: number;
  timeZone: string;
  invoicePrefix: string;
  smtpUrl: string;
  /** ISO 3166 code of the organisation's country ('' = from its VAT id, else DE): decides the invoices' tax case. */
  country: string;
  /** Leitweg-ID of a public-sector buyer (XRechnung BT-10), or ''. */
  leitwegId: string;
  /** The DATEV export's settings as text, '' when unset (checked in core/datev.ts). */
  datevConsultantNumber: string;
  datevClientNumber: string;
  datevAccountLength: string;
  datevExpenseAccount: string;
  datevClearingAccount: string;
  datevCreditorAccount: string;
  datevFiscalYearStartMonth: string;
  /** The SEPA mandate the organisation gave the provider, or '' (then each SEPA purchase is its own one-off mandate). */
  sepaMandate: string;
  /** The organisation's account that SEPA purchases are debited from, or ''. */
  sepaIban: string;
};

export const SETTING_KEYS = {
  name: 'org.name',
  address: 'org.address',
  vatId: 'org.vat_id',
  vatRateBasisPoints: 'org.vat_rate_bp',
  timeZone: 'org.time_zone',
  invoicePrefix: 'org.invoice_prefix',
  smtpUrl: 'org.smtp_url',
  country: 'org.country',
  leitwegId: 'org.leitweg_id',
  datevConsultantNumber: 'datev.consultant_number',
  datevClientNumber: 'datev.client_number',
  datevAccountLength: 'datev.account_length',
  datevExpenseAccount: 'datev.expense_account',
  datevClearingAccount: 'datev.clearing_account',
  datevCreditorAccount: 'datev.creditor_account',
  datevFiscalYearStartMonth: 'datev.fiscal_year_start_month',
  sepaMandate: 'org.sepa_mandate',
  sepaIban: 'org.sepa_iban',
} as const satisfies Record<keyof OrgSettings, string>;

export const DEFAULT_VAT_RATE_BASIS_POINTS = 1900;

export function settingsFromRows(rows: Map<string, string>): OrgSettings {
  // Every setting is text, '' when unset, but for the three with a default.
  const text = Object.fromEntries(Object.entries(SETTING_KEYS).map(([field, key]) => [field, rows.get(key) ?? ''])) as Record<keyof OrgSettings, string>;
  return {
    ...text,
    vatRateBasisPoints: Number(rows.get(SETTING_KEYS.vatRateBasisPoints) ?? DEFAULT_VAT_RATE_BASIS_POINTS),
    timeZone: rows.get(SETTING_KEYS.timeZone) ?? DEFAULT_TIME_ZONE,
    invoicePrefix: rows.get(SETTING_KEYS.invoicePrefix) ?? 'INV-',
  };
}

export function parseVatRate(text: string, field = '--vat-rate'): number {
  const match = /^(\d{1,2})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!match) {
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not a VAT rate`, {
      hint: `${field} takes a percentage from 0 to 99 with up to 2 decimals, like 19 or 7`,
    });
  }
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

export function parseInvoicePrefix(text: string, field = '--invoice-prefix'): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_/-]{0,15}$/.test(text.trim())) {
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not an invoice number prefix`, {
      hint: 'use 1-16 letters, digits or _ / -, like INV-2026-',
    });
  }
  return text.trim();
}

export function parseOrgName(text: string, field = '--org'): string {
  const name = text.trim().normalize('NFC');
  refuseControlCharacters(name, field, { code: 'INVALID_NAME' });
  if (name.length === 0 || name.length > 120) {
    throw new CreditsError('INVALID_NAME', `${field} must be 1-120 characters of plain text`);
  }
  return name;
}

/**
 * The organisation's country, which decides an invoice's tax case: as set with `org set
 * --country`, else its VAT id's prefix, else Germany (the product's home).
 */
export function orgCountry(settings: Pick<OrgSettings, 'country' | 'vatId'>): string {
  return settings.country || vatIdCountry(normaliseVatId(settings.vatId)) || 'DE';
}

/** An ISO 3166 alpha-2 country code (XI for Northern Ireland); EL is taken as GR. */
export function parseCountry(text: string, field = '--country'): string {
  const code = text.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code)) {
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not a country code`, {
      hint: `${field} takes a two-letter ISO 3166 code, like DE, AT, FR, CH, US (EU members: ${[...EU_COUNTRIES].sort().join(', ')})`,
    });
  }
  return code === 'EL' ? 'GR' : code;
}

/** A SEPA mandate reference: 1-35 of the characters the SEPA rulebook allows (letters, digits, + ? / - : ( ) . , ' and space). */
export function parseMandateReference(text: string, field = '--sepa-mandate'): string {
  const reference = text.trim();
  if (!/^[A-Za-z0-9+?/\-:().,' ]{1,35}$/.test(reference)) {
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not a SEPA mandate reference`, {
      hint: `${field} takes 1-35 letters, digits or + ? / - : ( ) . , ' as the mandate names it, like MANDATE-2026-001`,
    });
  }
  return reference;
}
