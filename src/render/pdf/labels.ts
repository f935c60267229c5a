import type { PaymentMethod } from '../../core/packages.js';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function parts(key: string): { year: string; month: number; day: number | null } {
  const match = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(key);
  if (!match) throw new Error(`not a date key: ${key}`);
  return { year: match[1] ?? '', month: Number(match[2]), day: match[3] === undefined ? null : Number(match[3]) };
}

/** '2026-03' -> 'March 2026'. */
export function monthLabel(monthKey: string): string {
  const { year, month } = parts(monthKey);
  return `${MONTHS[month - 1] ?? '?'} ${year}`;
}

/** '2026-03-31' -> '31 March 2026'. */
export function longDate(dayKey: string): string {
  const { year, month, day } = parts(dayKey);
  return `${day ?? 1} ${MONTHS[month - 1] ?? '?'} ${year}`;
}

/** '2026-03-31' -> '31.03.2026' (the German form, read everywhere in Europe). */
export function germanDate(dayKey: string): string {
  const { year, month, day } = parts(dayKey);
  return `${String(day ?? 1).padStart(2, '0')}.${String(month).padStart(2, '0')}.${year}`;
}

const PAYMENT_METHOD_LABELS: Record<PaymentMethod, { de: string; en: string }> = {
  card: { de: 'Kreditkarte', en: 'Card' },
  paypal: { de: 'PayPal', en: 'PayPal' },
  sepa: { de: 'SEPA-Lastschrift', en: 'SEPA direct debit' },
  invoice: { de: 'Überweisung auf Rechnung', en: 'Bank transfer on invoice' },
};

export function paymentMethodLabel(method: PaymentMethod): { de: string; en: string } {
  return PAYMENT_METHOD_LABELS[method] ?? { de: String(method), en: String(method) };
}
