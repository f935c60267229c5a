import { INVOICE_MINIMUM_CENTS, PACKAGES, PAYMENT_METHODS, INSTANT_METHODS, type PurchaseQuote } from '../core/packages.js';
import { nameKey } from '../core/names.js';
import type { AccountBalance, BalanceWithPercent, TransferSummaryInput } from '../app/presenter.js';
import { formatCredits, formatEuros, formatPercent } from './format.js';
import { palette, percentColour } from './style.js';
import type { Choice } from '../app/context.js';

/**
 * What the interactive flows show: lists to pick from and summaries to confirm. Loaded with
 * import() only when a question is asked, since it pulls in the colour and table renderers.
 */

function paint(color: boolean) {
  return palette({ color, width: 80, timeZone: 'UTC' });
}

function padRight(texts: string[]): string[] {
  const width = Math.max(0, ...texts.map((text) => text.length));
  return texts.map((text) => text.padEnd(width));
}

function padLeft(texts: string[]): string[] {
  const width = Math.max(0, ...texts.map((text) => text.length));
  return texts.map((text) => text.padStart(width));
}

/** "Engineering   2,500.0 credits  25.0% left": names aligned, numbers right-aligned, low balances coloured. */
export function accountChoices(balances: BalanceWithPercent[], color: boolean): Choice[] {
  const chalk = paint(color);
  const names = padRight(balances.map((row) => (row.kind === 'org' ? 'org (pool)' : row.account)));
  const amounts = padLeft(balances.map((row) => formatCredits(row.balanceMillicredits)));
  return balances.map((row, index) => {
    const percent = row.percentLeft;
    const left = percent === null ? '' : `  ${percentColour(chalk, percent, `${formatPercent(percent)} left`)}`;
    return { name: `${names[index]}  ${amounts[index]} credits${left}`, value: row.account, short: row.account };
  });
}

/** The catalogue with credits, price and discount in columns, then the custom package. */
export function packageChoices(): Choice[] {
  const names = padRight([...PACKAGES.map((entry) => entry.displayName), 'Custom']);
  const credits = padLeft(PACKAGES.map((entry) => formatCredits(entry.credits * 1000, 0)));
  const prices = padLeft(PACKAGES.map((entry) => formatEuros(entry.priceCents)));
  const choices: Choice[] = PACKAGES.map((entry, index) => ({
    name: `${names[index]}  ${credits[index]} credits  ${prices[index]}${entry.discountPercent ? `  (${entry.discountPercent}% off)` : ''}`,
    value: entry.name,
    short: entry.displayName,
    description: entry.note,
  }));
  choices.push({ name: `${names[names.length - 1]}  from 500,000 credits, negotiated discount`, value: 'custom', short: 'Custom' });
  return choices;
}

const METHOD_TEXT: Record<string, string> = {
  card: 'card: credits at once',
  paypal: 'PayPal: credits at once',
  sepa: 'SEPA direct debit: credits when settled',
  invoice: 'invoice: credits when settled, from €1,000',
};

/** Payment methods; invoice is shown but cannot be picked for a purchase under €1,000. */
export function methodChoices(priceCents: number): Choice[] {
  return PAYMENT_METHODS.map((method) => ({
    name: METHOD_TEXT[method] ?? method,
    value: method,
    short: method,
    disabled:
      method === 'invoice' && priceCents < INVOICE_MINIMUM_CENTS ? `(from ${formatEuros(INVOICE_MINIMUM_CENTS)}; this is ${formatEuros(priceCents)})` : false,
  }));
}

type Row = [label: string, value: string];

function rows(entries: Row[]): string[] {
  const labels = padRight(entries.map(([label]) => label));
  return entries.map(([, value], index) => `  ${labels[index]}  ${value}`);
}

/** From, to, amount and both balances before and after, for the question before a transfer. */
export function transferSummary(input: TransferSummaryInput): string[] {
  const find = (name: string) => input.balances.find((row) => nameKey(row.account) === nameKey(name));
  const from = find(input.from);
  const to = find(input.to);
  const change = (row: AccountBalance | undefined, delta: number): string =>
    row === undefined ? '' : `  ${formatCredits(row.balanceMillicredits)} → ${formatCredits(row.balanceMillicredits + delta)} credits`;
  const entries: Row[] = [
    ['Amount', `${formatCredits(input.millicredits)} credits`],
    ['From', `${from?.account ?? input.from}${change(from, -input.millicredits)}`],
    ['To', `${to?.account ?? input.to}${change(to, input.millicredits)}`],
  ];
  if (input.reason !== '') entries.push(['Reason', input.reason]);
  return ['Transfer', ...rows(entries)];
}

/** Package, credits, price with discount, method, where the credits go and when. */
export function purchaseSummary(quote: PurchaseQuote, account: AccountBalance | undefined, accountName: string): string[] {
  const instant = INSTANT_METHODS.includes(quote.method);
  const discount = quote.discountBasisPoints ? ` (${quote.discountBasisPoints / 100}% off)` : '';
  const into = account === undefined ? accountName : account.account;
  const entries: Row[] = [
    ['Package', `${quote.quantity > 1 ? `${quote.quantity} × ` : ''}${quote.packageName}`],
    ['Credits', formatCredits(quote.millicredits)],
    ['Price', `${formatEuros(quote.priceCents)}${discount}`],
    ['Method', quote.method],
    [
      'Into',
      instant && account !== undefined
        ? `${into}  ${formatCredits(account.balanceMillicredits)} → ${formatCredits(account.balanceMillicredits + quote.millicredits)} credits`
        : `${into}${instant ? '' : ', when the payment is settled (`credits purchases settle`)'}`,
    ],
  ];
  return ['Purchase', ...rows(entries)];
}
