import { MILLICREDITS_PER_CREDIT, parseCreditsInput } from '../../core/amounts.js';
import { CreditsError } from '../../core/errors.js';
import {
  PACKAGES,
  PAYMENT_METHODS,
  parseQuantity,
  parseDiscountPercent,
  parsePaymentMethod,
  quoteCustom,
  quotePackage,
  findPackage,
  type PaymentMethod,
  type PurchaseQuote,
} from '../../core/packages.js';
import { nameKey, parseFreeText } from '../../core/names.js';
import { formatMillicreditsPlain } from '../../core/amountText.js';
import { buyCredits, cancelPurchase, settlePurchase, transferCredits } from '../../store/ops/money.js';
import { currentBalances, withPercentLeft, type BalanceWithPercent } from '../../store/ledgerQueries.js';
import { listPurchases } from '../../store/purchaseRepo.js';
import { parseId, stringOption } from '../parse.js';
import { defineCommand, mutatingRequest, type CommandSpec, type MutatingRequest } from '../spec.js';
import { departmentOrScope, withinScope } from '../scopeDefaults.js';

/** Account names are unique by nameKey (see addDepartment). */
function sameAccount(a: string, b: string): boolean {
  return nameKey(a) === nameKey(b);
}

const PACKAGE_NAMES = [...PACKAGES.map((entry) => entry.name), 'custom'];

/** A custom package's size: whole credits, parsed like every other amount. */
function wholeCredits(text: string, field = '--credits'): number {
  const millicredits = parseCreditsInput(text, field);
  if (millicredits % MILLICREDITS_PER_CREDIT !== 0) throw new CreditsError('INVALID_AMOUNT', `${field || 'a package'} takes whole credits`);
  return millicredits / MILLICREDITS_PER_CREDIT;
}

function euros(cents: number): string {
  return `€${(cents / 100).toFixed(2)}`;
}

/** What `buy` was given; missing values are asked for on a terminal. */
export type BuyRequest = MutatingRequest & {
  packageName: string | undefined;
  method: string | undefined;
  account: string | undefined;
  quantity: string | undefined;
  credits: string | undefined;
  discount: string | undefined;
};

export type PurchasesRequest = { status: 'pending' | 'settled' | 'cancelled' | undefined };

export type PurchaseIdRequest = MutatingRequest & { purchaseId: number };

/** What `transfer` was given; missing values are asked for on a terminal. */
export type TransferRequest = MutatingRequest & { from: string | undefined; to: string | undefined; amount: string | undefined; reason: string };

function purchaseStatus(text: string | undefined): PurchasesRequest['status'] {
  if (text !== undefined && !['pending', 'settled', 'cancelled'].includes(text)) {
    throw new CreditsError('INVALID_VALUE', `--status "${text}" is not allowed`, { hint: '--status takes pending, settled or cancelled' });
  }
  return text as PurchasesRequest['status'];
}

export const moneyCommands: CommandSpec[] = [
  defineCommand({
    name: 'packages',
    summary: 'the credit package catalogue with prices and volume discounts',
    ledger: 'none',
    examples: ['credits packages', 'credits packages --json'],
    request: () => ({}),
    async run() {
      return {
        view: 'packages',
        data: {
          packages: PACKAGES.map((entry) => ({
            name: entry.name,
            displayName: entry.displayName,
            credits: entry.credits,
            priceCents: entry.priceCents,
            discountPercent: entry.discountPercent,
            note: entry.note,
          })),
          custom: { minimumCredits: 500_000, discount: 'negotiated' },
          paymentMethods: [
            { method: 'card', instant: true },
            { method: 'paypal', instant: true },
            { method: 'sepa', instant: false },
            { method: 'invoice', instant: false, minimumCents: 100_000 },
          ],
        },
      };
    },
  }),
  defineCommand({
    name: 'buy',
    summary: 'buy a credit package; card and PayPal credit at once, SEPA and invoice when settled',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'package', description: 'basic, standard, professional, team, enterprise or custom', required: false, choices: PACKAGE_NAMES }],
    options: [
      { flags: '--method <method>', description: 'how it is paid', choices: PAYMENT_METHODS },
      { flags: '--for <account>', description: 'credit a department instead of the org pool', defaultValue: 'org', dynamic: 'accounts' },
      { flags: '--quantity <n>', description: 'how many of the package', defaultValue: '1' },
      { flags: '--credits <n>', description: 'custom package: whole credits, from 500,000' },
      { flags: '--discount <percent>', description: 'custom package: the negotiated discount', defaultValue: '15' },
    ],
    examples: [
      'credits buy standard --method card',
      'credits buy enterprise --quantity 2 --method invoice --for Engineering',
      'credits buy custom --credits 750000 --discount 18 --method sepa',
    ],
    request: (input): BuyRequest => ({
      ...mutatingRequest(input),
      packageName: input.args[0],
      method: stringOption(input, 'method'),
      account: stringOption(input, 'for'),
      quantity: stringOption(input, 'quantity'),
      credits: stringOption(input, 'credits'),
      discount: stringOption(input, 'discount'),
    }),
    async run(input, context) {
      await context.settings();
      context.demand({ PACKAGE: input.packageName, '--method': input.method });
      const packageName = (
        await context.need(input.packageName, {
          flag: 'PACKAGE',
          message: 'Package',
          choices: () => context.presenter.packageChoices(),
        })
      ).toLowerCase();
      if (packageName !== 'custom') findPackage(packageName);
      const accountName = departmentOrScope(context, input.account) ?? 'org';
      // The price does not depend on the method; quoting first lets the method list say why invoice is unavailable.
      let quoteFor: (method: PaymentMethod) => PurchaseQuote;
      if (packageName === 'custom') {
        if (input.quantity !== undefined)
          throw new CreditsError('INVALID_VALUE', '--quantity is not for `buy custom`', { hint: 'give the whole amount with --credits' });
        const creditsText = await context.need(input.credits, {
          flag: '--credits',
          message: 'Credits (whole credits, from 500000)',
          validate: (text) => quoteCustom(wholeCredits(text, ''), 0, 'card'),
        });
        const credits = wholeCredits(creditsText);
        const discountText =
          input.discount ?? (await context.text('Negotiated discount in percent', { defaultValue: '15', validate: (text) => parseDiscountPercent(text) }));
        const discount = parseDiscountPercent(discountText);
        quoteFor = (method) => quoteCustom(credits, discount, method);
      } else {
        if (input.credits !== undefined)
          throw new CreditsError('INVALID_VALUE', '--credits is only for `buy custom`', { hint: 'catalogue packages have fixed sizes' });
        const quantity = parseQuantity(input.quantity ?? '1');
        quoteFor = (method) => quotePackage(packageName, method, quantity);
      }
      const method = parsePaymentMethod(
        await context.need(input.method, {
          flag: '--method',
          message: 'Payment method',
          choices: () => context.presenter.methodChoices(quoteFor('card').priceCents),
        }),
      );
      const quote = quoteFor(method);
      const db = await context.db();
      const request = context.mutation(input, {
        package: quote.packageName,
        quantity: quote.quantity,
        method,
        for: accountName,
        millicredits: quote.millicredits,
        discountBasisPoints: quote.discountBasisPoints,
      });
      if (context.canAsk && !input.dryRun) {
        // The account and the purchase are checked before anyone is asked to agree.
        await buyCredits(db, { ...request, dryRun: true }, { quote, accountName });
        const account = (await currentBalances(db)).find((row) => sameAccount(row.account, accountName));
        await context.confirm(await context.presenter.purchaseSummary(quote, account, accountName), `Buy for ${euros(quote.priceCents)}?`);
      }
      const result = await buyCredits(db, request, { quote, accountName });
      return { view: 'purchase', data: { ...result, credits: result.millicredits / 1000 } };
    },
  }),
  defineCommand({
    name: 'purchases',
    summary: 'list purchases; pending SEPA and invoice purchases wait for settle or cancel',
    ledger: 'existing',
    options: [{ flags: '--status <status>', description: 'only pending, settled or cancelled', choices: ['pending', 'settled', 'cancelled'] }],
    examples: ['credits purchases', 'credits purchases --status pending --json'],
    request: (input): PurchasesRequest => ({ status: purchaseStatus(stringOption(input, 'status')) }),
    async run(input, context) {
      await context.settings();
      const all = await listPurchases(await context.db(), input.status);
      const rows = withinScope(context, all, (row) => row.accountId);
      return { view: 'purchases', data: { purchases: rows.map((row) => ({ ...row, credits: row.millicredits / 1000 })) } };
    },
  }),
  defineCommand({
    name: 'purchases settle',
    summary: 'mark a pending SEPA or invoice purchase as paid: its credits arrive now',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'id', description: 'purchase id (see `credits purchases`)', required: true, dynamic: 'purchases' }],
    examples: ['credits purchases settle 3', 'credits purchases settle 3 --idempotency-key bank-import-2026-11-25-3'],
    request: (input): PurchaseIdRequest => ({ ...mutatingRequest(input), purchaseId: parseId(input.args[0] ?? '', 'ID') }),
    async run(input, context) {
      await context.settings();
      const id = input.purchaseId;
      const result = await settlePurchase(await context.db(), context.mutation(input, { id }), id);
      return { view: 'settled', data: result };
    },
  }),
  defineCommand({
    name: 'purchases cancel',
    summary: 'cancel a pending purchase (settled purchases are never refunded)',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'id', description: 'purchase id', required: true, dynamic: 'purchases' }],
    examples: ['credits purchases cancel 3', 'credits purchases cancel 3 --json'],
    request: (input): PurchaseIdRequest => ({ ...mutatingRequest(input), purchaseId: parseId(input.args[0] ?? '', 'ID') }),
    async run(input, context) {
      await context.settings();
      const id = input.purchaseId;
      const result = await cancelPurchase(await context.db(), context.mutation(input, { id }), id);
      return { view: 'message', data: { ...result, message: `purchase ${result.purchaseId} cancelled` } };
    },
  }),
  defineCommand({
    name: 'transfer',
    summary: 'move credits between the org pool and departments',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'amount', description: 'credits, up to 3 decimals, a dot as the decimal point (2.125)', required: false }],
    options: [
      { flags: '--from <account>', description: 'org or a department', dynamic: 'accounts' },
      { flags: '--to <account>', description: 'org or a department', dynamic: 'accounts' },
      { flags: '--reason <text>', description: 'why, kept in the ledger' },
    ],
    examples: ['credits transfer 2500 --from org --to Engineering --reason "Q4 budget"', 'credits transfer 120.5 --from Marketing --to Sales --yes --json'],
    request: (input): TransferRequest => ({
      ...mutatingRequest(input),
      from: stringOption(input, 'from'),
      to: stringOption(input, 'to'),
      amount: input.args[0],
      reason: stringOption(input, 'reason') ?? '',
    }),
    async run(input, context) {
      await context.settings();
      const db = await context.db();
      const fromFlag = departmentOrScope(context, input.from);
      const toFlag = input.to;
      const amountArgument = input.amount;
      context.demand({ '--from': fromFlag, '--to': toFlag, AMOUNT: amountArgument });
      const dryRun = input.dryRun;
      // Read once, and only when a list or a summary is shown; the write re-checks inside its transaction.
      let balancesRead: Promise<BalanceWithPercent[]> | undefined;
      const balances = async (): Promise<BalanceWithPercent[]> =>
        (balancesRead ??= currentBalances(db).then(
          async (rows) => (await withPercentLeft(db, rows, context.nowMs, (await context.settings()).timeZone)).accounts,
        ));
      const from = await context.need(fromFlag, {
        flag: '--from',
        message: 'Transfer from',
        defaultValue: 'org',
        choices: async () => context.presenter.accountChoices(await balances(), context.config.color),
      });
      const to = await context.need(toFlag, {
        flag: '--to',
        message: 'Transfer to',
        choices: async () => {
          const others = (await balances()).filter((row) => !sameAccount(row.account, from));
          if (others.length === 0)
            throw new CreditsError('DEPARTMENT_NOT_FOUND', `there is no account to move credits to from ${from}`, {
              hint: 'add a department first: `credits dept add NAME`',
            });
          return context.presenter.accountChoices(others, context.config.color);
        },
      });
      const source = amountArgument === undefined && context.canAsk ? (await balances()).find((row) => sameAccount(row.account, from)) : undefined;
      const amountText = await context.need(amountArgument, {
        flag: 'AMOUNT',
        message: source ? `Credits to move (${source.account} holds ${formatMillicreditsPlain(source.balanceMillicredits)})` : 'Credits to move',
        validate: (text) => {
          const wanted = parseCreditsInput(text, '');
          if (source && wanted > source.balanceMillicredits)
            throw new CreditsError('INSUFFICIENT_CREDITS', `${source.account} holds only ${formatMillicreditsPlain(source.balanceMillicredits)} credits`);
        },
      });
      const millicredits = parseCreditsInput(amountText, 'AMOUNT');
      const reason = parseFreeText(input.reason, '--reason');
      if (context.canAsk && !dryRun && !sameAccount(from, to)) {
        // Everything given is checked (names, balance, limits) before anyone is asked to agree.
        await transferCredits(db, { ...context.mutation(input, { from, to, millicredits, reason }), dryRun: true }, { from, to, millicredits, reason });
        const summary = await context.presenter.transferSummary({ from, to, millicredits, reason, balances: await balances() });
        await context.confirm(summary, 'Move the credits?');
      }
      const result = await transferCredits(db, context.mutation(input, { from, to, millicredits, reason }), { from, to, millicredits, reason });
      // A department-bound caller may give credits back to the pool, but not read the pool's balance.
      const shown = context.scope === null || result.to !== 'org' ? result : { ...result, toBalanceMillicredits: null };
      return { view: 'transfer', data: { ...shown, credits: result.millicredits / 1000 } };
    },
  }),
];
