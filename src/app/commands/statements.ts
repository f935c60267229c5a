import { formatCreditsText } from '../../core/amountText.js';
import { CreditsError } from '../../core/errors.js';
import { parseFreeText } from '../../core/names.js';
import { addLocalDays, localDateKey, localMonthKey, parseMonthInput, previousMonthKey, toIsoUtc } from '../../core/time.js';
import { requireDepartment } from '../../store/orgRepo.js';
import { datevFacts, statementFacts } from '../../store/statementQueries.js';
import { datevSettingsFrom } from '../../core/datev.js';
import { datevFileData, datevSettingsText } from '../datevExport.js';
import { issueInvoice, type Buyer, type InvoiceRecord, type NewInvoice, type Seller } from '../../store/ops/invoice.js';
import type { PurchaseRow } from '../../store/purchaseRepo.js';
import { orgCountry, type OrgSettings } from '../../core/org.js';
import { invoiceTotals, taxCaseOf } from '../../core/invoiceTax.js';
import { paymentTermDaysOf, providerCountry, type ProviderSettings } from '../../core/provider.js';
import { normaliseVatId, parseVatId, vatIdCountry } from '../../core/vatId.js';
import type { InvoiceData } from '../documentTypes.js';
import { chooseFormat, parseId, stringOption } from '../parse.js';
import { INVOICE_FORMATS, invoiceFileBytes, type InvoiceFormat } from './einvoice.js';
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
  format: string | undefined;
};

/** A department-bound caller sees a transfer's other side as "other department", never its name. */
function scopedFacts<T extends { transfers: { counterparty: string }[] }>(context: { scope: unknown }, facts: T): T {
  if (context.scope === null) return facts;
  return {
    ...facts,
    transfers: facts.transfers.map((transfer) => (transfer.counterparty === 'org' ? transfer : { ...transfer, counterparty: 'other department' })),
  };
}

/** A refusal of a new invoice that names the command which supplies what is missing. */
function detailsMissing(message: string, command: string): CreditsError {
  return new CreditsError('INVOICE_DETAILS_MISSING', message, { hint: `set it once with \`${command}\`` });
}

/** The seller of a new invoice: the provider, with the details §14 UStG requires. */
function invoiceSeller(provider: ProviderSettings | null): Seller {
  if (provider === null) {
    throw detailsMissing('a new invoice needs the provider (the seller of the credits)', 'credits provider set --name ... --address ... --vat-id ...');
  }
  const missing = [provider.name ? null : '--name', provider.address ? null : '--address', provider.vatId ? null : '--vat-id'].filter(
    (flag): flag is string => flag !== null,
  );
  if (missing.length > 0) {
    throw detailsMissing(`a new invoice needs the provider's ${missing.join(', ')}`, `credits provider set ${missing.map((flag) => `${flag} ...`).join(' ')}`);
  }
  const optional = (value: string): string | null => (value === '' ? null : value);
  return {
    name: provider.name,
    address: provider.address,
    vatId: provider.vatId,
    taxNumber: optional(provider.taxNumber),
    iban: optional(provider.iban),
    bic: optional(provider.bic),
    bankName: optional(provider.bankName),
    email: optional(provider.email),
    creditorId: optional(provider.creditorId ?? ''),
  };
}

/** The buyer as given by --buyer, --buyer-address and --buyer-vat-id (a typed \n breaks a line). */
type BuyerFlags = { name: string | undefined; address: string | undefined; vatId: string | null };

function readBuyerFlags(request: InvoiceRequest): BuyerFlags {
  const buyerText = (flag: string, value: string | undefined): string | undefined =>
    value === undefined ? undefined : parseFreeText(value.replace(/\\n/g, '\n'), flag, 300);
  const name = buyerText('--buyer', request.buyer);
  const address = buyerText('--buyer-address', request.buyerAddress);
  const vatId = request.buyerVatId === undefined ? null : parseVatId(request.buyerVatId, '--buyer-vat-id', { foreign: true });
  return { name, address, vatId };
}

/**
 * Whom a new invoice names: the organisation (c/o the credited department), or the buyer given
 * with --buyer. The organisation's VAT id and country decide the tax case, so it is printed on
 * every invoice to it.
 */
function invoiceBuyer(purchase: PurchaseRow, given: BuyerFlags, settings: OrgSettings): Buyer {
  if (given.name !== undefined) {
    if (given.address === undefined) {
      throw new CreditsError('MISSING_FLAG', "--buyer-address is required with --buyer: an invoice names the buyer's address", {
        hint: 'for example --buyer-address "Hauptstraße 1\\n10115 Berlin"',
      });
    }
    const country = (given.vatId === null ? null : vatIdCountry(given.vatId)) ?? orgCountry(settings);
    return { name: given.name, address: given.address, vatId: given.vatId, country, leitwegId: null };
  }
  if ((given.address ?? settings.address).trim() === '') {
    throw detailsMissing("a new invoice needs the organisation's address (the buyer)", 'credits org set --address "Street 1\\n12345 City"');
  }
  return {
    name: purchase.account === 'org' ? settings.name : `${settings.name}, ${purchase.account}`,
    address: given.address ?? settings.address,
    vatId: given.vatId ?? (settings.vatId === '' ? null : normaliseVatId(settings.vatId)),
    country: (given.vatId === null ? null : vatIdCountry(given.vatId)) ?? orgCountry(settings),
    leitwegId: settings.leitwegId === '' ? null : settings.leitwegId,
  };
}

/**
 * Seller, buyer, tax case and totals of a new invoice, computed once here and stored with it,
 * with what a reprint must not take from today's settings: number prefix, time zone, payment
 * term and, for SEPA, the mandate (the organisation's, else a one-off mandate per purchase).
 */
function composeInvoice(purchase: PurchaseRow, given: BuyerFlags, settings: OrgSettings, provider: ProviderSettings | null): NewInvoice {
  const seller = invoiceSeller(provider);
  const buyer = invoiceBuyer(purchase, given, settings);
  const taxCase = taxCaseOf({ sellerCountry: providerCountry(provider!), buyerCountry: buyer.country ?? 'DE', buyerVatId: buyer.vatId });
  const { netCents, vatRateBasisPoints, vatCents, grossCents } = invoiceTotals(purchase.priceCents, taxCase, settings.vatRateBasisPoints);
  const sepa = purchase.method === 'sepa';
  return {
    seller,
    buyer,
    taxCase,
    netCents,
    vatRateBasisPoints,
    vatCents,
    grossCents,
    numberPrefix: settings.invoicePrefix,
    timeZone: settings.timeZone,
    paymentTermDays: paymentTermDaysOf(provider!),
    mandateReference: sepa ? settings.sepaMandate || `${settings.invoicePrefix}M${String(purchase.id).padStart(6, '0')}` : null,
    debtorIban: sepa && settings.sepaIban ? settings.sepaIban : null,
  };
}

/** When and how the invoice is paid: paid on settling; else due after the term; SEPA debits on the due day. */
function paymentFacts(invoice: InvoiceRecord, purchase: PurchaseRow, invoiceDayKey: string): Partial<InvoiceData> {
  const paid = purchase.status === 'settled' && purchase.settledAtMs !== null ? localDateKey(purchase.settledAtMs, invoice.timeZone) : undefined;
  const dueDayKey = addLocalDays(invoiceDayKey, invoice.paymentTermDays);
  const facts: Partial<InvoiceData> = { paymentTermDays: invoice.paymentTermDays, ...(paid ? { paidDayKey: paid } : { dueDayKey }) };
  if (purchase.method === 'sepa' && invoice.mandateReference !== null) {
    facts.sepaDebit = {
      mandateReference: invoice.mandateReference,
      creditorId: invoice.seller.creditorId,
      debtorIbanLast4: invoice.debtorIban === null ? null : invoice.debtorIban.slice(-4),
      debitDayKey: paid ?? dueDayKey,
    };
  }
  return facts;
}

/**
 * What the invoice PDF and CSV print: one line for the purchased package, the stored totals and
 * payment, all from what was stored with the invoice (number, time zone, parties), never from
 * today's settings. `copy` marks a reprint.
 */
export function invoiceFileData(invoice: InvoiceRecord, purchase: PurchaseRow, copy: boolean): InvoiceData {
  const { netCents, timeZone } = invoice;
  const unitPriceNetCents = Math.floor(netCents / purchase.quantity);
  const packageTitle = purchase.packageName.charAt(0).toUpperCase() + purchase.packageName.slice(1);
  const supplyMs = purchase.settledAtMs ?? purchase.createdAtMs;
  const invoiceDayKey = localDateKey(invoice.issuedAtMs, timeZone);
  const cancelledBy = invoice.cancelledBy;
  return {
    invoiceNumber: invoice.numberText,
    invoiceDayKey,
    supplyDayKey: localDateKey(supplyMs, timeZone),
    seller: invoice.seller,
    buyer: invoice.buyer,
    lines: [
      {
        description: `AI usage credits – ${packageTitle} package`,
        detail: `${formatCreditsText(purchase.millicredits / purchase.quantity)} credits each${purchase.discountBasisPoints > 0 ? `, ${purchase.discountBasisPoints / 100}% volume discount` : ''}; credited to ${purchase.account}`,
        quantity: purchase.quantity,
        millicredits: purchase.millicredits,
        unitPriceNetCents,
        netCents,
        discountBasisPoints: purchase.discountBasisPoints,
        creditedTo: purchase.account,
      },
    ],
    taxCase: invoice.taxCase,
    netCents,
    vatRateBasisPoints: invoice.vatRateBasisPoints,
    vatCents: invoice.vatCents,
    grossCents: invoice.grossCents,
    paymentMethod: purchase.method,
    purchaseReference: `#${purchase.id}`,
    copy,
    ...paymentFacts(invoice, purchase, invoiceDayKey),
    ...(cancelledBy ? { cancelledBy: { number: cancelledBy.numberText, dayKey: localDateKey(cancelledBy.issuedAtMs, cancelledBy.timeZone) } } : {}),
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
      {
        flags: '--format <format>',
        description: 'pdf, csv, json, or datev (a DATEV Buchungsstapel of the usage by cost centre; default: from --output)',
        choices: ['pdf', 'csv', 'json', 'datev'],
      },
      { flags: '--output <file>', description: 'the file to write (atomically)' },
    ],
    examples: [
      'credits statement --month 2026-10 --format pdf --output statement-2026-10.pdf',
      'credits statement --month 2026-10 --dept Engineering --output engineering.csv',
      'credits statement --format json --output last-month.json',
      'credits statement --month 2026-10 --format datev --output EXTF_Buchungsstapel_2026-10.csv',
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
      const format = chooseFormat(input.format, output, ['pdf', 'csv', 'json', 'datev'], output === undefined ? 'json' : 'pdf');
      if (format === 'pdf' && output === undefined)
        throw new CreditsError('MISSING_FLAG', '--output is required for a PDF statement', { hint: 'for example --output statement.pdf' });
      if (format === 'datev' && output === undefined)
        throw new CreditsError('MISSING_FLAG', '--output is required for a DATEV export', { hint: 'for example --output EXTF_Buchungsstapel.csv' });
      // Refused before the month is read: a cron job learns at once which setting is missing.
      const datev = format === 'datev' ? datevSettingsFrom(datevSettingsText(settings)) : null;
      const monthText = input.month;
      const monthKey = monthText === undefined ? previousMonthKey(localMonthKey(context.nowMs, settings.timeZone)) : parseMonthInput(monthText, '--month');
      const deptName = departmentOrScope(context, input.dept);
      const department = deptName === undefined ? null : await requireDepartment(db, deptName, '--dept');
      const facts = await statementFacts(db, { monthKey, timeZone: settings.timeZone, departmentId: department?.id ?? null });
      const data = { organisation: settings.name, timeZone: settings.timeZone, generatedAt: toIsoUtc(context.nowMs), ...scopedFacts(context, facts) };
      if (output === undefined) return { view: 'statement', data };
      let bytes: Uint8Array;
      if (datev !== null) {
        const datevData = datevFileData(facts, await datevFacts(db, { monthKey, timeZone: settings.timeZone, departmentId: department?.id ?? null }), {
          settings,
          provider: await context.provider(),
          datev,
          nowMs: context.nowMs,
        });
        bytes = await context.presenter.statementDatev(datevData);
      } else if (format === 'pdf') {
        bytes = await context.presenter.statementPdf({
          ...data,
          generatedAt: `${localDateKey(context.nowMs, settings.timeZone)}`,
          adjustmentsMillicredits: facts.adjustmentsMillicredits,
        });
      } else {
        bytes = Buffer.from(format === 'csv' ? await context.presenter.statementCsv(data) : `${JSON.stringify(data, null, 2)}\n`, 'utf8');
      }
      return {
        file: { name: output, mediaType: MEDIA_TYPES[format as 'pdf' | 'csv' | 'json' | 'datev'], bytes },
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
    summary: "the provider's German tax-compliant invoice (§14 UStG) to the organisation for a purchase, as PDF or CSV; numbers run without gaps",
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'purchase', description: 'purchase id (see `credits purchases`)', required: true, dynamic: 'purchases' }],
    options: [
      { flags: '--output <file>', description: 'the file to write: a PDF, a CSV of the same numbers, or an electronic invoice' },
      {
        flags: '--format <format>',
        description:
          'pdf, csv, xrechnung (EN 16931 XML in UN/CEFACT CII syntax) or zugferd (PDF/A-3 with that XML embedded as factur-x.xml; profile EN 16931). Default: from --output (.xml: xrechnung), else pdf',
        choices: [...INVOICE_FORMATS],
      },
      { flags: '--buyer <name>', description: 'invoice another buyer than the organisation (default: the organisation, c/o the credited department)' },
      { flags: '--buyer-address <text>', description: "that buyer's postal address (\\n between lines)" },
      { flags: '--buyer-vat-id <id>', description: "that buyer's VAT id, when it has one (decides the tax case)" },
    ],
    examples: [
      'credits invoice 12 --output invoice-12.pdf',
      'credits invoice 12 --output invoice-12.csv',
      'credits invoice 12 --format xrechnung --output invoice-12.xml',
      'credits invoice 12 --format zugferd --output invoice-12-zugferd.pdf',
      'credits invoice 7 --output inv.pdf --buyer "Müller Straße GmbH" --buyer-address "Hauptstraße 1\\n10115 Berlin" --buyer-vat-id DE123456789',
    ],
    request: (input): InvoiceRequest => ({
      ...mutatingRequest(input),
      purchase: input.args[0] ?? '',
      output: stringOption(input, 'output'),
      buyer: stringOption(input, 'buyer'),
      buyerAddress: stringOption(input, 'buyerAddress'),
      buyerVatId: stringOption(input, 'buyerVatId'),
      format: stringOption(input, 'format'),
    }),
    async run(input, context) {
      const settings = await context.settings();
      const db = await context.db();
      const purchaseId = parseId(input.purchase, 'PURCHASE');
      const output = input.output;
      if (output === undefined)
        throw new CreditsError('MISSING_FLAG', '--output is required: the file to write', { hint: `for example --output invoice-${purchaseId}.pdf` });
      const format = chooseFormat(input.format ?? (/\.xml$/i.test(output) ? 'xrechnung' : undefined), output, INVOICE_FORMATS, 'pdf') as InvoiceFormat;
      const given = readBuyerFlags(input);
      const provider = await context.provider();
      const result = await issueInvoice(
        db,
        context.mutation(input, { purchaseId, buyerName: given.name, buyerAddress: given.address, buyerVatId: given.vatId }),
        // Only a new invoice is composed: a re-print keeps the seller, buyer and totals it was issued with.
        { purchaseId, compose: (purchase) => composeInvoice(purchase, given, settings, provider) },
      );
      const { invoice, purchase } = result;
      const invoiceNumber = invoice.numberText;
      let bytes: Uint8Array | undefined;
      if (!result.dryRun) {
        const fileData = invoiceFileData(invoice, purchase, result.reissued);
        bytes = await invoiceFileBytes(format, fileData, { invoice }, context.presenter);
      }
      return {
        ...(bytes ? { file: { name: output, mediaType: MEDIA_TYPES[format], bytes } } : {}),
        view: 'invoiceWritten',
        data: {
          path: output,
          format,
          invoiceNumber,
          purchaseId: purchase.id,
          reissued: result.reissued,
          seller: invoice.seller.name,
          buyer: invoice.buyer.name,
          taxCase: invoice.taxCase,
          netCents: invoice.netCents,
          vatRateBasisPoints: invoice.vatRateBasisPoints,
          vatCents: invoice.vatCents,
          grossCents: invoice.grossCents,
          cancelledBy: invoice.cancelledBy?.numberText ?? null,
          dryRun: result.dryRun,
        },
      };
    },
  }),
];
