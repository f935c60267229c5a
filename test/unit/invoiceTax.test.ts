import { describe, expect, it } from 'vitest';
import { parseBic, parseIban, parseLeitwegId } from '../../src/core/bankDetails.js';
import { invoiceTotals, taxCaseOf } from '../../src/core/invoiceTax.js';
import { orgCountry } from '../../src/core/org.js';
import { EU_COUNTRIES, EU_VAT_ID_FORMATS, parseVatId } from '../../src/core/vatId.js';

const codeOf = (work: () => unknown): string | undefined => {
  try {
    work();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

describe('VAT ids', () => {
  it('normalises spaces, dots, hyphens and case, and knows the 27 member states and XI', () => {
    expect(parseVatId('DE 123 456 789', '--vat-id')).toBe('DE123456789');
    expect(parseVatId('atu-1234.5678', '--vat-id')).toBe('ATU12345678');
    expect(parseVatId('NL123456789B01', '--vat-id')).toBe('NL123456789B01');
    expect(EU_COUNTRIES.size).toBe(27);
    expect(Object.keys(EU_VAT_ID_FORMATS)).toHaveLength(28);
    for (const format of Object.values(EU_VAT_ID_FORMATS)) expect(parseVatId(format.example, '--vat-id')).toBe(format.example);
  });

  it('refuses a wrong length, an unknown prefix and GR (Greece is EL), naming the flag', () => {
    expect(() => parseVatId('DE12345678', '--vat-id')).toThrow(/--vat-id "DE12345678" is not a VAT id: not the format of Germany/);
    expect(codeOf(() => parseVatId('GR123456789', '--vat-id'))).toBe('INVALID_VAT_ID');
    expect(codeOf(() => parseVatId('CHE-123.456.789', '--vat-id'))).toBe('INVALID_VAT_ID');
    // A buyer outside the EU may carry its own country's number.
    expect(parseVatId('CHE-123.456.789 MWST', '--vat-id', { foreign: true })).toBe('CHE123456789MWST');
    expect(codeOf(() => parseVatId('DE1', '--vat-id', { foreign: true }))).toBe('INVALID_VAT_ID');
  });
});

describe('IBAN, BIC and Leitweg-ID', () => {
  it('checks an IBAN by country length and mod 97', () => {
    expect(parseIban('de89 3704 0044 0532 0130 00')).toBe('DE89370400440532013000');
    expect(parseIban('GB82 WEST 1234 5698 7654 32')).toBe('GB82WEST12345698765432');
    expect(() => parseIban('DE89 3704 0044 0532 0130 01')).toThrow(/mod 97/);
    expect(() => parseIban('DE89 3704 0044 0532 0130')).toThrow(/has 20 characters; an IBAN of DE has 22/);
    expect(codeOf(() => parseIban('XX00 1234'))).toBe('INVALID_IBAN');
  });

  it('checks a BIC shape and a Leitweg-ID with its check digits', () => {
    expect(parseBic('cobadeffxxx')).toBe('COBADEFFXXX');
    expect(codeOf(() => parseBic('COBA1'))).toBe('INVALID_VALUE');
    expect(parseLeitwegId('04011000-1234512345-06')).toBe('04011000-1234512345-06');
    expect(() => parseLeitwegId('04011000-1234512345-07')).toThrow(/expected 06/);
    expect(codeOf(() => parseLeitwegId('0401 1000'))).toBe('INVALID_VALUE');
  });
});

describe('tax cases', () => {
  it('is domestic in the same country, reverse charge for an EU buyer with its VAT id, not taxable outside the EU', () => {
    expect(taxCaseOf({ sellerCountry: 'DE', buyerCountry: 'DE', buyerVatId: 'DE123456789' })).toBe('domestic');
    expect(taxCaseOf({ sellerCountry: 'DE', buyerCountry: 'DE', buyerVatId: null })).toBe('domestic');
    expect(taxCaseOf({ sellerCountry: 'DE', buyerCountry: 'AT', buyerVatId: 'ATU12345678' })).toBe('reverseCharge');
    expect(taxCaseOf({ sellerCountry: 'DE', buyerCountry: 'GR', buyerVatId: 'EL123456789' })).toBe('reverseCharge');
    expect(taxCaseOf({ sellerCountry: 'DE', buyerCountry: 'CH', buyerVatId: 'CHE123456789MWST' })).toBe('notTaxable');
    expect(taxCaseOf({ sellerCountry: 'DE', buyerCountry: 'US', buyerVatId: null })).toBe('notTaxable');
    // Northern Ireland's XI ids are for goods; a service to it is supplied outside the EU.
    expect(taxCaseOf({ sellerCountry: 'DE', buyerCountry: 'XI', buyerVatId: 'XI123456789' })).toBe('notTaxable');
    expect(codeOf(() => taxCaseOf({ sellerCountry: 'DE', buyerCountry: 'FR', buyerVatId: null }))).toBe('INVOICE_DETAILS_MISSING');
  });

  it('takes the buyer country from --country, else the VAT id, else Germany', () => {
    expect(orgCountry({ country: 'US', vatId: '' })).toBe('US');
    expect(orgCountry({ country: '', vatId: 'fr 12 345678901' })).toBe('FR');
    expect(orgCountry({ country: '', vatId: 'EL123456789' })).toBe('GR');
    expect(orgCountry({ country: '', vatId: '' })).toBe('DE');
  });

  it('computes net, VAT (half up) and gross once, in cents; 0% outside the domestic case', () => {
    expect(invoiceTotals(4_750, 'domestic', 1_900)).toEqual({
      taxCase: 'domestic',
      netCents: 4_750,
      vatRateBasisPoints: 1_900,
      vatCents: 903,
      grossCents: 5_653,
    });
    expect(invoiceTotals(8_500_000, 'domestic', 1_900).grossCents).toBe(10_115_000);
    expect(invoiceTotals(4_750, 'reverseCharge', 1_900)).toMatchObject({ vatRateBasisPoints: 0, vatCents: 0, grossCents: 4_750 });
    expect(invoiceTotals(4_750, 'notTaxable', 700)).toMatchObject({ vatRateBasisPoints: 0, vatCents: 0, grossCents: 4_750 });
    expect(codeOf(() => invoiceTotals(1.5, 'domestic', 1_900))).toBe('INTERNAL');
  });
});
