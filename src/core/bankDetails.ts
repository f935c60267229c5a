import { CreditsError } from './errors.js';

/** IBAN lengths of the SEPA countries (the ISO 13616 registry); an IBAN of another country is refused. */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AT: 20,
  BE: 16,
  BG: 22,
  CH: 21,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  EE: 20,
  ES: 24,
  FI: 18,
  FR: 27,
  GB: 22,
  GI: 23,
  GR: 27,
  HR: 21,
  HU: 28,
  IE: 22,
  IS: 26,
  IT: 27,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  MC: 27,
  MT: 31,
  NL: 18,
  NO: 15,
  PL: 28,
  PT: 25,
  RO: 24,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  VA: 22,
};

/** ISO 7064 mod 97 of a string of digits and letters (A = 10 ... Z = 35), in steps that stay exact. */
export function mod97(text: string): number {
  let remainder = 0;
  for (const char of text) {
    const value = char >= 'A' && char <= 'Z' ? String(char.charCodeAt(0) - 55) : char;
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder;
}

/** `de89 3704 0044 0532 0130 00` -> `DE89370400440532013000`, checked by country length and mod 97. */
/** An IBAN as printed: groups of four (`DE89 3704 0044 0532 0130 00`). */
export function groupIban(iban: string): string {
  return iban.replace(/(.{4})(?=.)/g, '$1 ');
}

export function parseIban(text: string, field = '--iban'): string {
  const iban = text.replace(/[\s-]/g, '').toUpperCase();
  const hint = `${field} takes an IBAN of a SEPA country, like DE89 3704 0044 0532 0130 00 (spaces are dropped)`;
  const country = iban.slice(0, 2);
  const length = IBAN_LENGTHS[country];
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban) || length === undefined) {
    throw new CreditsError('INVALID_IBAN', `${field} "${text}" is not an IBAN: it must start with a SEPA country code and two check digits`, { hint });
  }
  if (iban.length !== length) {
    throw new CreditsError('INVALID_IBAN', `${field} "${text}" has ${iban.length} characters; an IBAN of ${country} has ${length}`, { hint });
  }
  if (mod97(iban.slice(4) + iban.slice(0, 4)) !== 1) {
    throw new CreditsError('INVALID_IBAN', `${field} "${text}" fails the IBAN check digits (mod 97): a character is wrong`, { hint });
  }
  return iban;
}

/** A BIC (SWIFT code): 4 letters bank, 2 letters country, 2 location, optional 3 branch. */
export function parseBic(text: string, field = '--bic'): string {
  const bic = text.replace(/\s/g, '').toUpperCase();
  if (!/^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(bic)) {
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not a BIC`, { hint: `${field} takes 8 or 11 letters and digits, like COBADEFFXXX` });
  }
  return bic;
}

/**
 * A Leitweg-ID (the routing id of a German public-sector buyer, XRechnung BT-10): a coarse
 * address of 2-12 digits, an optional fine address of up to 30 letters and digits, and two
 * check digits (ISO 7064 mod 97-10 over the rest), joined by hyphens: 04011000-1234512345-06.
 */
export function parseLeitwegId(text: string, field = '--leitweg-id'): string {
  const id = text.trim().toUpperCase();
  const hint = `${field} takes a Leitweg-ID: 2-12 digits, optionally "-" and up to 30 letters or digits, then "-" and 2 check digits, like 04011000-1234512345-06`;
  const match = /^(\d{2,12})(?:-([A-Z0-9]{1,30}))?-(\d{2})$/.exec(id);
  if (!match) throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not a Leitweg-ID`, { hint });
  const expected = 98 - mod97(`${match[1]}${match[2] ?? ''}00`);
  if (Number(match[3]) !== expected) {
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" fails its check digits (expected ${String(expected).padStart(2, '0')})`, { hint });
  }
  return id;
}

/**
 * A SEPA creditor identifier (Gläubiger-ID), like DE98ZZZ09999999999: country, two check digits
 * (mod 97 over the national part and the country, the business code ZZZ left out), business code,
 * national identifier.
 */
export function parseCreditorId(text: string, field = '--creditor-id'): string {
  const id = text.replace(/\s/g, '').toUpperCase();
  const match = /^([A-Z]{2})(\d{2})([A-Z0-9]{3})([A-Z0-9]{1,28})$/.exec(id);
  if (!match || mod97(`${match[4]}${match[1]}${match[2]}`) !== 1) {
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not a SEPA creditor identifier`, {
      hint: `${field} takes the Gläubiger-ID the Bundesbank gave, like DE98ZZZ09999999999`,
    });
  }
  return id;
}
