import { CreditsError } from './errors.js';

/**
 * The VAT identification numbers of the 27 EU member states and of Northern Ireland (XI), by
 * the prefix they start with: the body after the prefix, as VIES documents the formats. Only
 * the shape is checked (no check digits, no VIES call): a typo in the country part or in the
 * length is caught, a wrong but well-formed number is not.
 */
export const EU_VAT_ID_FORMATS: Readonly<Record<string, { country: string; body: RegExp; example: string }>> = {
  AT: { country: 'Austria', body: /^U\d{8}$/, example: 'ATU12345678' },
  BE: { country: 'Belgium', body: /^[01]\d{9}$/, example: 'BE0123456789' },
  BG: { country: 'Bulgaria', body: /^\d{9,10}$/, example: 'BG123456789' },
  CY: { country: 'Cyprus', body: /^\d{8}[A-Z]$/, example: 'CY12345678X' },
  CZ: { country: 'Czechia', body: /^\d{8,10}$/, example: 'CZ12345678' },
  DE: { country: 'Germany', body: /^\d{9}$/, example: 'DE123456789' },
  DK: { country: 'Denmark', body: /^\d{8}$/, example: 'DK12345678' },
  EE: { country: 'Estonia', body: /^\d{9}$/, example: 'EE123456789' },
  EL: { country: 'Greece', body: /^\d{9}$/, example: 'EL123456789' },
  ES: { country: 'Spain', body: /^[A-Z0-9]\d{7}[A-Z0-9]$/, example: 'ESX1234567X' },
  FI: { country: 'Finland', body: /^\d{8}$/, example: 'FI12345678' },
  FR: { country: 'France', body: /^[A-HJ-NP-Z0-9]{2}\d{9}$/, example: 'FR12345678901' },
  HR: { country: 'Croatia', body: /^\d{11}$/, example: 'HR12345678901' },
  HU: { country: 'Hungary', body: /^\d{8}$/, example: 'HU12345678' },
  IE: { country: 'Ireland', body: /^(\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W])$/, example: 'IE1234567WA' },
  IT: { country: 'Italy', body: /^\d{11}$/, example: 'IT12345678901' },
  LT: { country: 'Lithuania', body: /^(\d{9}|\d{12})$/, example: 'LT123456789' },
  LU: { country: 'Luxembourg', body: /^\d{8}$/, example: 'LU12345678' },
  LV: { country: 'Latvia', body: /^\d{11}$/, example: 'LV12345678901' },
  MT: { country: 'Malta', body: /^\d{8}$/, example: 'MT12345678' },
  NL: { country: 'Netherlands', body: /^\d{9}B\d{2}$/, example: 'NL123456789B01' },
  PL: { country: 'Poland', body: /^\d{10}$/, example: 'PL1234567890' },
  PT: { country: 'Portugal', body: /^\d{9}$/, example: 'PT123456789' },
  RO: { country: 'Romania', body: /^[1-9]\d{1,9}$/, example: 'RO1234567890' },
  SE: { country: 'Sweden', body: /^\d{10}01$/, example: 'SE123456789001' },
  SI: { country: 'Slovenia', body: /^\d{8}$/, example: 'SI12345678' },
  SK: { country: 'Slovakia', body: /^\d{10}$/, example: 'SK1234567890' },
  XI: { country: 'Northern Ireland', body: /^(\d{9}|\d{12}|GD\d{3}|HA\d{3})$/, example: 'XI123456789' },
};

/** ISO 3166 codes of the EU member states (Greece is GR here; its VAT ids start with EL). */
export const EU_COUNTRIES: ReadonlySet<string> = new Set(
  Object.keys(EU_VAT_ID_FORMATS)
    .filter((prefix) => prefix !== 'XI')
    .map((prefix) => (prefix === 'EL' ? 'GR' : prefix)),
);

/** `de 123.456 789` -> `DE123456789`: spaces, dots and hyphens dropped, upper case. */
export function normaliseVatId(text: string): string {
  return text.replace(/[\s.-]/g, '').toUpperCase();
}

/** The ISO country of a VAT id's prefix (EL -> GR; XI stays XI), or null when it has no letters first. */
export function vatIdCountry(vatId: string): string | null {
  const prefix = /^[A-Z]{2}/.exec(vatId)?.[0];
  if (prefix === undefined) return null;
  return prefix === 'EL' ? 'GR' : prefix;
}

function invalidVatId(text: string, field: string, detail: string): CreditsError {
  return new CreditsError('INVALID_VAT_ID', `${field} "${text}" is not a VAT id: ${detail}`, {
    hint: `${field} takes an EU VAT id: a country prefix (${Object.keys(EU_VAT_ID_FORMATS).join(', ')}) and its digits, like DE123456789; spaces and dots are dropped`,
  });
}

/**
 * An EU (or XI) VAT id, normalised and checked against its country's format. With `foreign`
 * allowed (a buyer outside the EU), an id whose prefix is no EU one is kept normalised as a
 * foreign tax number of 4-20 letters and digits.
 */
export function parseVatId(text: string, field: string, options: { foreign?: boolean } = {}): string {
  const vatId = normaliseVatId(text);
  const prefix = vatId.slice(0, 2);
  const format = EU_VAT_ID_FORMATS[prefix];
  if (format) {
    if (!format.body.test(vatId.slice(2))) throw invalidVatId(text, field, `not the format of ${format.country} (like ${format.example})`);
    return vatId;
  }
  if (prefix === 'GR') throw invalidVatId(text, field, 'Greek VAT ids start with EL, not GR');
  if (options.foreign && /^[A-Z0-9]{4,20}$/.test(vatId) && /^[A-Z]{2}/.test(vatId)) return vatId;
  throw invalidVatId(text, field, /^[A-Z]{2}/.test(vatId) ? `"${prefix}" is not an EU country prefix` : 'it does not start with a country prefix');
}
