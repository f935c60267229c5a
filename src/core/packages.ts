import { didYouMean } from './suggest.js';
import { MILLICREDITS_PER_CREDIT } from './amounts.js';
import { CreditsError } from './errors.js';

export type PaymentMethod = 'card' | 'paypal' | 'sepa' | 'invoice';
export const PAYMENT_METHODS: readonly PaymentMethod[] = ['card', 'paypal', 'sepa', 'invoice'];
/** Card and PayPal credit at once; SEPA and invoice wait for `purchases settle`. */
export const INSTANT_METHODS: readonly PaymentMethod[] = ['card', 'paypal'];
export const INVOICE_MINIMUM_CENTS = 100_000;
export const CUSTOM_MINIMUM_CREDITS = 500_000;
export const CUSTOM_MAX_DISCOUNT_PERCENT = 50;

export type CreditPackage = { name: string; displayName: string; credits: number; discountPercent: number; priceCents: number; note: string };

/** The seed's volume rule: 5% from 5,000 credits, 10% from 50,000, 15% from 100,000. */
export function volumeDiscountBasisPoints(credits: number): number {
  if (credits >= 100_000) return 1500;
  if (credits >= 50_000) return 1000;
  if (credits >= 5_000) return 500;
  return 0;
}

/** credits x €0.01 x (1 - discount), in whole cents rounded half up; integer arithmetic only. */
export function priceCents(credits: number, discountBasisPoints: number): number {
  return Math.floor((credits * (10_000 - discountBasisPoints) + 5_000) / 10_000);
}

function catalogueEntry(name: string, displayName: string, credits: number, note: string): CreditPackage {
  const discountBasisPoints = volumeDiscountBasisPoints(credits);
  return { name, displayName, credits, discountPercent: discountBasisPoints / 100, priceCents: priceCents(credits, discountBasisPoints), note };
}

export const PACKAGES: readonly CreditPackage[] = [
  catalogueEntry('basic', 'Basic', 1_000, 'Ideal for testing'),
  catalogueEntry('standard', 'Standard', 5_000, 'Popular with small teams'),
  catalogueEntry('professional', 'Professional', 10_000, 'For regular use'),
  catalogueEntry('team', 'Team', 50_000, 'Cross-department usage'),
  catalogueEntry('enterprise', 'Enterprise', 100_000, 'Priority support'),
];

export type PurchaseQuote = {
  packageName: string;
  quantity: number;
  millicredits: number;
  discountBasisPoints: number;
  priceCents: number;
  method: PaymentMethod;
  instant: boolean;
};

export function findPackage(name: string): CreditPackage {
  const found = PACKAGES.find((entry) => entry.name === name.trim().toLowerCase());
  if (!found) {
    const guess = didYouMean(name, [...PACKAGES.map((entry) => entry.name), 'custom']);
    throw new CreditsError('PACKAGE_NOT_FOUND', `no package "${name}"${guess.suffix}`, {
      hint: `${guess.hint}choose one of ${[...PACKAGES.map((entry) => entry.name), 'custom'].join(', ')} (see \`credits packages\`)`,
    });
  }
  return found;
}

export function parsePaymentMethod(text: string, field = '--method'): PaymentMethod {
  const method = text.trim().toLowerCase() as PaymentMethod;
  if (!PAYMENT_METHODS.includes(method)) {
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not a payment method`, { hint: `${field} takes one of ${PAYMENT_METHODS.join(', ')}` });
  }
  return method;
}

/** Parses a negotiated discount like 17.5 into basis points (0.01%). */
export function parseDiscountPercent(text: string, field = '--discount'): number {
  const trimmed = text.trim();
  const match = /^(\d{1,2})(?:\.(\d{1,2}))?$/.exec(trimmed);
  const basisPoints = match ? Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0')) : NaN;
  if (!match || basisPoints > CUSTOM_MAX_DISCOUNT_PERCENT * 100) {
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not a discount`, {
      hint: `${field} takes a percentage from 0 to ${CUSTOM_MAX_DISCOUNT_PERCENT} with up to 2 decimals, like 17.5`,
    });
  }
  return basisPoints;
}

export const MAX_QUANTITY = 100;

export function parseQuantity(text: string, field = '--quantity'): number {
  const trimmed = text.trim();
  if (!/^\d{1,3}$/.test(trimmed) || Number(trimmed) < 1 || Number(trimmed) > MAX_QUANTITY) {
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not a quantity`, { hint: `${field} takes a whole number from 1 to ${MAX_QUANTITY}` });
  }
  return Number(trimmed);
}

/** A catalogue package, `quantity` times: each package keeps its own volume discount. */
export function quotePackage(packageName: string, method: PaymentMethod, quantity = 1): PurchaseQuote {
  const entry = findPackage(packageName);
  return checkMethod({
    packageName: entry.name,
    quantity,
    millicredits: entry.credits * MILLICREDITS_PER_CREDIT * quantity,
    discountBasisPoints: volumeDiscountBasisPoints(entry.credits),
    priceCents: entry.priceCents * quantity,
    method,
    instant: INSTANT_METHODS.includes(method),
  });
}

export function quoteCustom(credits: number, discountBasisPoints: number, method: PaymentMethod): PurchaseQuote {
  if (!Number.isSafeInteger(credits) || credits < CUSTOM_MINIMUM_CREDITS) {
    throw new CreditsError(
      'CUSTOM_MINIMUM',
      `a custom package starts at ${CUSTOM_MINIMUM_CREDITS.toLocaleString('en-US')} credits, --credits was ${credits.toLocaleString('en-US')}`,
      {
        hint: 'buy a catalogue package below that (see `credits packages`)',
      },
    );
  }
  return checkMethod({
    packageName: 'custom',
    quantity: 1,
    millicredits: credits * MILLICREDITS_PER_CREDIT,
    discountBasisPoints,
    priceCents: priceCents(credits, discountBasisPoints),
    method,
    instant: INSTANT_METHODS.includes(method),
  });
}

function checkMethod(quote: PurchaseQuote): PurchaseQuote {
  if (quote.method === 'invoice' && quote.priceCents < INVOICE_MINIMUM_CENTS) {
    throw new CreditsError('INVOICE_MINIMUM', `payment by invoice starts at €1,000.00; this purchase costs €${(quote.priceCents / 100).toFixed(2)}`, {
      hint: '--method invoice needs a purchase of €1,000 or more (for example enterprise --quantity 2, or custom); or pay by card, paypal or sepa',
    });
  }
  return quote;
}
