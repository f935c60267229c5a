import { CreditsError } from './errors.js';
import { footCents } from './footing.js';
import type { TaxCase } from './invoiceTax.js';

/**
 * The DATEV export (`statement --format datev`): the month's usage as bookings of a DATEV
 * "Buchungsstapel" (EXTF format 700, category 21, format version 13), for an accountant to import
 * instead of typing the cost-centre allocation. Pure: the settings are checked and the bookings
 * computed here, in cents; src/render/datev.ts writes the file.
 *
 * The bookings, from the organisation's books (it buys credits and uses them up):
 * - usage, one booking per department (its cost centre as KOST1) and model tier: Soll the expense
 *   account, Haben the clearing account (the credits bought and not yet used), net: VAT was
 *   charged on the purchase, not on the use;
 * - each purchase credited in the month: Soll the clearing account, Haben the creditor account
 *   (the provider), at the gross price with the BU-Schlüssel of the input VAT (9 = 19%, 8 = 7%
 *   Vorsteuer, the same in SKR03 and SKR04), so that DATEV splits off the Vorsteuer; and its
 *   volume discount, Soll clearing, Haben expense (see purchaseBookings).
 */
export type DatevSettings = {
  /** Beraternummer, 1001-9999999. */
  consultantNumber: number;
  /** Mandantennummer, 1-99999. */
  clientNumber: number;
  /** Sachkontennummernlänge, 4-8. */
  accountLength: number;
  expenseAccount: string;
  clearingAccount: string;
  /** The provider's creditor account (or the bank): a personal account may be one digit longer. */
  creditorAccount: string;
  /** The month (1-12) the fiscal year begins in. */
  fiscalYearStartMonth: number;
};

/** The settings as stored (text, '' when unset), under these flags of `org set`. */
export type DatevSettingsText = Record<keyof DatevSettings, string>;

export const DATEV_FLAGS = {
  consultantNumber: '--datev-consultant-number',
  clientNumber: '--datev-client-number',
  accountLength: '--datev-account-length',
  expenseAccount: '--datev-expense-account',
  clearingAccount: '--datev-clearing-account',
  creditorAccount: '--datev-creditor-account',
  fiscalYearStartMonth: '--datev-fiscal-year-start',
} as const satisfies Record<keyof DatevSettings, string>;

export const DATEV_DEFAULT_ACCOUNT_LENGTH = 4;

function wholeNumber(text: string, flag: string, min: number, max: number, what: string): number {
  const trimmed = text.trim();
  if (!/^\d{1,9}$/.test(trimmed) || Number(trimmed) < min || Number(trimmed) > max) {
    throw new CreditsError('INVALID_VALUE', `${flag} "${text}" is not ${what}`, { hint: `${flag} takes a whole number from ${min} to ${max}` });
  }
  return Number(trimmed);
}

export function parseConsultantNumber(text: string, flag: string = DATEV_FLAGS.consultantNumber): number {
  return wholeNumber(text, flag, 1001, 9_999_999, 'a DATEV consultant number (Beraternummer)');
}

export function parseClientNumber(text: string, flag: string = DATEV_FLAGS.clientNumber): number {
  return wholeNumber(text, flag, 1, 99_999, 'a DATEV client number (Mandantennummer)');
}

export function parseAccountLength(text: string, flag: string = DATEV_FLAGS.accountLength): number {
  return wholeNumber(text, flag, 4, 8, 'a DATEV account length (Sachkontennummernlänge)');
}

export function parseFiscalYearStartMonth(text: string, flag: string = DATEV_FLAGS.fiscalYearStartMonth): number {
  return wholeNumber(text, flag, 1, 12, 'the month a fiscal year starts in');
}

/**
 * An account number of `accountLength` digits (a G/L account, Sachkonto); with `personal`, one
 * more digit is allowed too (a creditor, Kreditor, is a personal account one digit longer).
 */
export function parseAccountNumber(text: string, flag: string, accountLength: number, personal = false): string {
  const digits = text.trim();
  const lengths = personal ? [accountLength, accountLength + 1] : [accountLength];
  if (!/^\d+$/.test(digits) || !lengths.includes(digits.length) || /^0+$/.test(digits)) {
    throw new CreditsError('INVALID_VALUE', `${flag} "${text}" is not a DATEV account number of ${lengths.join(' or ')} digits`, {
      hint: `the account length is ${accountLength} (${DATEV_FLAGS.accountLength}); for example ${flag} ${personal ? '70001' : '4964'.padEnd(accountLength, '0')}`,
    });
  }
  return digits;
}

/**
 * The stored settings, checked for an export: every missing one is named in one refusal, and an
 * account that no longer fits the account length is refused naming its flag.
 */
export function datevSettingsFrom(stored: DatevSettingsText): DatevSettings {
  const required: (keyof DatevSettings)[] = ['consultantNumber', 'clientNumber', 'expenseAccount', 'clearingAccount', 'creditorAccount'];
  const missing = required.filter((key) => stored[key].trim() === '').map((key) => DATEV_FLAGS[key]);
  if (missing.length > 0) {
    throw new CreditsError('MISSING_FLAG', `a DATEV export needs ${missing.join(', ')} (not set yet)`, {
      hint: `set ${missing.length === 1 ? 'it' : 'them'} once with \`credits org set ${missing.map((flag) => `${flag} N`).join(' ')}\` (ask the accountant)`,
    });
  }
  const accountLength = stored.accountLength === '' ? DATEV_DEFAULT_ACCOUNT_LENGTH : parseAccountLength(stored.accountLength);
  return {
    consultantNumber: parseConsultantNumber(stored.consultantNumber),
    clientNumber: parseClientNumber(stored.clientNumber),
    accountLength,
    expenseAccount: parseAccountNumber(stored.expenseAccount, DATEV_FLAGS.expenseAccount, accountLength),
    clearingAccount: parseAccountNumber(stored.clearingAccount, DATEV_FLAGS.clearingAccount, accountLength),
    creditorAccount: parseAccountNumber(stored.creditorAccount, DATEV_FLAGS.creditorAccount, accountLength, true),
    fiscalYearStartMonth: stored.fiscalYearStartMonth === '' ? 1 : parseFiscalYearStartMonth(stored.fiscalYearStartMonth),
  };
}

/** One booking line (Buchungssatz); the amount is positive and the S/H mark refers to `account`. */
export type DatevBooking = {
  amountCents: number;
  debitCredit: 'S' | 'H';
  account: string;
  contraAccount: string;
  /** BU-Schlüssel, or '' for none. */
  taxKey: string;
  /** Belegdatum as YYYY-MM-DD (the file writes DDMM: the year is in the header). */
  dayKey: string;
  /** Belegfeld 1: letters, digits and $ & % * + - /, at most 36. */
  voucher: string;
  /** Buchungstext, at most 60 characters. */
  text: string;
  /** KOST1, or '' for none. */
  costCentre: string;
};

/** A department's usage as the statement shows it (cents footed to the usage), and the same usage by model tier. */
export type DatevUsage = { department: string; costCenter: string | null; cents: number; tiers: { tier: string; millicredits: number }[] };

const TIER_ORDER = ['premium', 'standard', 'economy'];

const TEXT_MAX = 60;

function bookingText(text: string): string {
  return text.length <= TEXT_MAX ? text : `${text.slice(0, TEXT_MAX - 1)}…`;
}

/**
 * One booking per department and model tier. Each department's tiers are footed (largest
 * remainder) to the department's cents in the statement, so the bookings of a cost centre add up
 * to its line of the statement, and all of them to the statement's usage, to the cent. A tier
 * whose share rounds to 0,00 is left out: DATEV takes no zero amounts.
 */
export function usageBookings(usage: readonly DatevUsage[], settings: DatevSettings, monthKey: string, dayKey: string): DatevBooking[] {
  const bookings: DatevBooking[] = [];
  for (const line of usage) {
    const tiers = [...line.tiers].sort((a, b) => rank(a.tier) - rank(b.tier) || a.tier.localeCompare(b.tier));
    const { linesCents } = footCents(
      tiers.map((tier) => tier.millicredits),
      line.cents,
    );
    tiers.forEach((tier, index) => {
      const amountCents = linesCents[index] ?? 0;
      if (amountCents <= 0) return;
      bookings.push({
        amountCents,
        debitCredit: 'S',
        account: settings.expenseAccount,
        contraAccount: settings.clearingAccount,
        taxKey: '',
        dayKey,
        voucher: `CREDITS-${monthKey}`,
        text: bookingText(`AI usage ${monthKey} ${tier.tier} ${line.department}`),
        costCentre: line.costCenter ?? '',
      });
    });
  }
  return bookings;
}

function rank(tier: string): number {
  const index = TIER_ORDER.indexOf(tier);
  return index === -1 ? TIER_ORDER.length : index;
}

/** A purchase credited in the month, with the VAT of its invoice (or of the invoice it would get). */
export type DatevPurchase = {
  dayKey: string;
  /** The invoice number, else the purchase's reference. */
  voucher: string;
  description: string;
  taxCase: TaxCase;
  vatRateBasisPoints: number;
  grossCents: number;
  /** The credits' list value above the net price (the volume discount), as the statement shows it. */
  discountCents: number;
};

/**
 * The BU-Schlüssel of a purchase's input VAT: 9 (19%) and 8 (7%) Vorsteuer, the same in SKR03
 * and SKR04. Reverse charge and a supply not taxable in Germany get none (the buyer's own tax
 * treatment, which the accountant keys): the booking text says which case it is.
 */
export function datevTaxKey(taxCase: TaxCase, vatRateBasisPoints: number): string {
  if (taxCase !== 'domestic') return '';
  if (vatRateBasisPoints === 1900) return '9';
  if (vatRateBasisPoints === 700) return '8';
  return '';
}

const TAX_CASE_TEXT: Record<TaxCase, string> = { domestic: '', reverseCharge: ' reverse charge §13b', notTaxable: ' not taxable in DE' };

/**
 * Per purchase, the gross price (Soll clearing, Haben creditor, with the input VAT's key) and,
 * with a volume discount, the credits' list value above the net price (Soll clearing, Haben
 * expense): the clearing account then holds the credits at list value, which is what the usage
 * bookings take out of it, and the expense account ends at the price paid.
 */
export function purchaseBookings(purchases: readonly DatevPurchase[], settings: DatevSettings): DatevBooking[] {
  const bookings: DatevBooking[] = [];
  for (const purchase of purchases) {
    const voucher = purchase.voucher.replace(/[^A-Za-z0-9$&%*+\-/]/g, '').slice(0, 36);
    const common = { debitCredit: 'S' as const, account: settings.clearingAccount, dayKey: purchase.dayKey, voucher, costCentre: '' };
    if (purchase.grossCents > 0) {
      bookings.push({
        ...common,
        amountCents: purchase.grossCents,
        contraAccount: settings.creditorAccount,
        taxKey: datevTaxKey(purchase.taxCase, purchase.vatRateBasisPoints),
        text: bookingText(`AI credits ${purchase.description}${TAX_CASE_TEXT[purchase.taxCase]}`),
      });
    }
    if (purchase.discountCents > 0) {
      bookings.push({
        ...common,
        amountCents: purchase.discountCents,
        contraAccount: settings.expenseAccount,
        taxKey: '',
        text: bookingText(`AI credits ${purchase.description} volume discount`),
      });
    }
  }
  return bookings;
}

/** WJ-Beginn of the fiscal year the month falls in, as YYYYMMDD. */
export function fiscalYearStart(monthKey: string, startMonth: number): string {
  const [year, month] = monthKey.split('-').map(Number) as [number, number];
  const startYear = month >= startMonth ? year : year - 1;
  return `${startYear}${String(startMonth).padStart(2, '0')}01`;
}
