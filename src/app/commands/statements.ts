import { formatCreditsText } from '../../core/amountText.js';
import { CreditsError } from '../../core/errors.js';
import { parseFreeText } from '../../core/names.js';
import { localDateKey, localMonthKey, parseMonthInput, previousMonthKey, toIsoUtc } from '../../core/time.js';
import { requireDepartment, findAccount } from '../../store/orgRepo.js';
import { statementFacts } from '../../store/statementQueries.js';
import { issueInvoice, type Buyer, type InvoiceRecord } from '../../store/ops/invoice.js';
import type { PurchaseRow } from '../../store/purchaseRepo.js';
import type { OrgSettings } from '../../core/org.js';
import type { InvoiceData } from '../documentTypes.js';
import { chooseFormat, parseId, stringOption } from '../parse.js';
import { MEDIA_TYPES, defineCommand, mutatingRequest, type CommandSpec, type MutatingRequest } from '../spec.js';
import { departmentOrScope } from '../scopeDefaults.js';

/** The flags of `statement` as given: each is checked after the ledger is read, in the order the command always had. */
export type StatementRequest = { month: string | undefined; dept: string | undefined; format: string | undefined; output: string | undefined };

/** The purchase id and the flags of `invoice` as given: checked after the ledger is read. */
export type InvoiceRequest = MutatingRequest & {
  purchase: string;
  output: string | undefined;
  buyer: string | undefined;
  buyerAddress: string | undefined;
  buyerVatId: string | undefined;
};

/** A department-bound caller sees a transfer's other side as "other department", never its name. */
function scopedFacts<T extends { transfers: { counterparty: string }[] }>(context: { scope: unknown }, facts: T): T {
  if (context.scope === null) return facts;
  return {
    ...facts,
    transfers: facts.transfers.map((transfer) => (transfer.counterparty === 'org' ? transfer : { ...transfer, counterparty: 'other department' })),
  };
}

/** The seller's details §14 UStG requires: refused before an invoice number is taken. */
function requireSellerDetails(settings: OrgSettings): void {
  const missing = [settings.name ? null : '--name', settings.address ? null : '--address', settings.vatId ? null : '--vat-id'].filter(
    (flag): flag is string => flag !== null,
  );
  if (missing.length > 0) {
    throw new CreditsError('MISSING_FLAG', `an invoice needs the seller's ${missing.join(', ')}`, {
      hint: `set them once with \`credits org set ${missing.map((flag) => `${flag} ...`).join(' ')}\``,
    });
  }
}

/** The buyer as given by --buyer, --buyer-address and --buyer-vat-id (a typed \n breaks a line). */
type BuyerFlags = { name: string | undefined; address: string | undefined; vatId: string | null };

function readBuyerFlags(request: InvoiceRequest): BuyerFlags {
  const buyerText = (flag: string, value: string | undefined): string | undefined =>
    value === undefined ? undefined : parseFreeText(value.replace(/\\n/g, '\n'), flag, 300);
  const name = buyerText('--buyer', request.buyer);
  const address = buyerText('--buyer-address', request.buyerAddress);
  const vatId = buyerText('--buyer-vat-id', request.buyerVatId) ?? null;
  return { name, address, vatId };
}

/**
 * Whom a new invoice names: the buyer given, or else the organisation (c/o the credited
 * department). The organisation's VAT id is printed only for its own pool's purchases.
 */
function invoiceBuyer(purchase: PurchaseRow, given: BuyerFlags, settings: OrgSettings, orgAccountVisible: boolean): Buyer {
  if (given.name !== undefined && given.address === undefined) {
    throw new CreditsError('MISSING_FLAG', "--buyer-address is required with --buyer: an invoice names the buyer's address", {
      hint: 'for example --buyer-address "Hauptstraße 1\\n10115 Berlin"',
    });
  }
  return {
    name: given.name ?? (purchase.account === 'org' ? settings.name : `${settings.name}, ${purchase.account}`),
    address: given.address ?? settings.address,
    vatId: given.name === undefined ? (given.vatId ?? (purchase.account === 'org' && orgAccountVisible ? settings.vatId : null)) : given.vatId,
  };
}

/** What the invoice PDF prints: one line for the purchased package, totals and payment. */
function invoicePdfData(
  invoice: InvoiceRecord,
  purchase: PurchaseRow,
  settings: OrgSettings,
  totals: { invoiceNumber: string; netCents: number; vatCents: number },
): InvoiceData {
  const { invoiceNumber, netCents, vatCents } = totals;
  const unitPriceNetCents = Math.floor(netCents / purchase.quantity);
  const packageTitle = purchase.packageName.charAt(0).toUpperCase() + purchase.packageName.slice(1);
  const supplyMs = purchase.settledAtMs ?? purchase.createdAtMs;
  return {
    invoiceNumber,
    invoiceDayKey: localDateKey(invoice.issuedAtMs, settings.timeZone),
    supplyDayKey: localDateKey(supplyMs, settings.timeZone),
    seller: { name: settings.name, address: settings.address, vatId: settings.vatId },
    buyer: { name: invoice.buyerName, address: invoice.buyerAddress, vatId: invoice.buyerVatId },
    lines: [
      {
        description: `AI usage credits – ${packageTitle} package`,
        detail: `${formatCreditsText(purchase.millicredits / purchase.quantity)} credits each${purchase.discountBasisPoints > 0 ? `, ${purchase.discountBasisPoints / 100}% volume discount` : ''}; credited to ${purchase.account}`,
        quantity: purchase.quantity,
        millicredits: purchase.millicredits,
        unitPriceNetCents,
        netCents,
      },
    ],
    netCents,
    vatRateBasisPoints: invoice.vatRateBasisPoints,
    vatCents,
    grossCents: netCents + vatCents,
    paymentMethod: purchase.method,
    paymentNote:
      purchase.status === 'settled' ? `Paid / Bezahlt ${localDateKey(supplyMs, settings.timeZone)}` : 'Payable within 14 days / Zahlbar innerhalb von 14 Tagen',
    purchaseReference: `#${purchase.id}`,
  };
}

export const statementCommands: CommandSpec[] = [
  defineCommand({
    name: 'statement',
    summary: 'the monthly statement: opening balance, purchases, transfers, usage by cost centre, user, model and feature, closing balance',
    ledger: 'existing',
    options: [
      { flags: '--month <YYYY-MM>', description: 'the month (default: last month, the one a cron job on the 1st wants)' },
      { flags: '--dept <name>', description: 'one department instead of the whole organisation', dynamic: 'departments' },
      { flags: '--format <format>', description: 'pdf, csv or json (default: from --output)', choices: ['pdf', 'csv', 'json'] },
      { flags: '--output <file>', description: 'the file to write (atomically)' },
    ],
    examples: [
      'credits statement --month 2026-10 --format pdf --output statement-2026-10.pdf',
      'credits statement --month 2026-10 --dept Engineering --output engineering.csv',
      'credits statement --format json --output last-month.json',
    ],
    request: (input): StatementRequest => ({
      month: stringOption(input, 'month'),
      dept: stringOption(input, 'dept'),
      format: stringOption(input, 'format'),
      output: stringOption(input, 'output'),
    }),
    async run(input, context) {
      const settings = await context.settings();
      const db = await context.db();
      const output = input.output;
      const format = chooseFormat(input.format, output, ['pdf', 'csv', 'json'], output === undefined ? 'json' : 'pdf');
      if (format === 'pdf' && output === undefined)
        throw new CreditsError('MISSING_FLAG', '--output is required for a PDF statement', { hint: 'for example --output statement.pdf' });
      const monthText = input.month;
      const monthKey = monthText === undefined ? previousMonthKey(localMonthKey(context.nowMs, settings.timeZone)) : parseMonthInput(monthText, '--month');
      const deptName = departmentOrScope(context, input.dept);
      const department = deptName === undefined ? null : await requireDepartment(db, deptName, '--dept');
      const facts = await statementFacts(db, { monthKey, timeZone: settings.timeZone, departmentId: department?.id ?? null });
      const data = { organisation: settings.name, timeZone: settings.timeZone, generatedAt: toIsoUtc(context.nowMs), ...scopedFacts(context, facts) };
      if (output === undefined) return { view: 'statement', data };
      let bytes: Uint8Array;
      if (format === 'pdf') {
        bytes = await context.presenter.statementPdf({
          ...data,
          generatedAt: `${localDateKey(context.nowMs, settings.timeZone)}`,
          adjustmentsMillicredits: facts.adjustmentsMillicredits,
        });
      } else {
        bytes = Buffer.from(format === 'csv' ? await context.presenter.statementCsv(data) : `${JSON.stringify(data, null, 2)}\n`, 'utf8');
      }
      return {
        file: { name: output, mediaType: MEDIA_TYPES[format as 'pdf' | 'csv' | 'json'], bytes },
        view: 'statementWritten',
        data: {
          path: output,
          format,
          monthKey,
          department: department?.name ?? null,
          openingMillicredits: facts.openingMillicredits,
          closingMillicredits: facts.closingMillicredits,
          usageMillicredits: facts.usageMillicredits,
        },
      };
    },
  }),
  defineCommand({
    name: 'invoice',
    summary: 'a German tax-compliant invoice (§14 UStG) for a purchase, as PDF; numbers run without gaps',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'purchase', description: 'purchase id (see `credits purchases`)', required: true, dynamic: 'purchases' }],
    options: [
      { flags: '--output <file>', description: 'the PDF file to write' },
      { flags: '--buyer <name>', description: 'who is invoiced (default: the credited department, c/o the organisation)' },
      { flags: '--buyer-address <text>', description: "the buyer's postal address (\\n between lines; default: the organisation's)" },
      { flags: '--buyer-vat-id <id>', description: "the buyer's VAT id, when it has one" },
    ],
    examples: [
      'credits invoice 12 --output invoice-12.pdf',
      'credits invoice 7 --output inv.pdf --buyer "Müller Straße GmbH" --buyer-address "Hauptstraße 1\\n10115 Berlin" --buyer-vat-id DE123456789',
    ],
    request: (input): InvoiceRequest => ({
      ...mutatingRequest(input),
      purchase: input.args[0] ?? '',
      output: stringOption(input, 'output'),
      buyer: stringOption(input, 'buyer'),
      buyerAddress: stringOption(input, 'buyerAddress'),
      buyerVatId: stringOption(input, 'buyerVatId'),
    }),
    async run(input, context) {
      const settings = await context.settings();
      const db = await context.db();
      const purchaseId = parseId(input.purchase, 'PURCHASE');
      const output = input.output;
      if (output === undefined)
        throw new CreditsError('MISSING_FLAG', '--output is required: the PDF file to write', { hint: `for example --output invoice-${purchaseId}.pdf` });
      requireSellerDetails(settings);
      const given = readBuyerFlags(input);
      // A department-bound caller's purchases are its department's: never the org pool's.
      const account = context.scope === null ? await findAccount(db, 'org') : undefined;
      const result = await issueInvoice(
        db,
        context.mutation(input, { purchaseId, buyerName: given.name, buyerAddress: given.address, buyerVatId: given.vatId }),
        {
          purchaseId,
          vatRateBasisPoints: settings.vatRateBasisPoints,
          // Only a new invoice asks for its buyer: a re-print keeps the buyer it was issued to.
          buyer: (purchase) => invoiceBuyer(purchase, given, settings, Boolean(account)),
        },
      );
      const { invoice, purchase } = result;
      const netCents = purchase.priceCents;
      const vatCents = Math.floor((netCents * invoice.vatRateBasisPoints + 5000) / 10000);
      const invoiceNumber = `${settings.invoicePrefix}${String(invoice.number).padStart(6, '0')}`;
      let bytes: Uint8Array | undefined;
      if (!result.dryRun) {
        bytes = await context.presenter.invoicePdf(invoicePdfData(invoice, purchase, settings, { invoiceNumber, netCents, vatCents }));
      }
      return {
        ...(bytes ? { file: { name: output, mediaType: MEDIA_TYPES.pdf, bytes } } : {}),
        view: 'invoiceWritten',
        data: {
          path: output,
          invoiceNumber,
          purchaseId: purchase.id,
          reissued: result.reissued,
          netCents,
          vatRateBasisPoints: invoice.vatRateBasisPoints,
          vatCents,
          grossCents: netCents + vatCents,
          dryRun: result.dryRun,
        },
      };
    },
  }),
];
