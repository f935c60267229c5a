import { CreditsError } from '../../core/errors.js';
import { parseFreeText } from '../../core/names.js';
import { localDateKey } from '../../core/time.js';
import {
  cancelInvoice,
  listInvoices,
  readInvoiceByNumber,
  type CancellationRecord,
  type InvoiceNumberInput,
  type InvoiceRecord,
  type InvoiceReprint,
} from '../../store/ops/invoice.js';
import type { PurchaseRow } from '../../store/purchaseRepo.js';
import type { InvoiceData } from '../documentTypes.js';
import { chooseFormat, stringOption } from '../parse.js';
import { MEDIA_TYPES, defineCommand, mutatingRequest, type CommandSpec, type MutatingRequest } from '../spec.js';
import { invoiceFileData } from './statements.js';

/** What `invoice cancel` was given, as typed. */
export type InvoiceCancelRequest = MutatingRequest & { invoice: string; reason: string | undefined; output: string | undefined; format: string | undefined };

/** What `invoice show` was given, as typed. */
export type InvoiceShowRequest = { invoice: string; output: string | undefined; format: string | undefined };

/** `7` or `INV-000007`: the number, and the printed form to match when one was typed. */
export function parseInvoiceNumber(text: string): InvoiceNumberInput {
  const trimmed = text.trim();
  const match = /^(.*?)(\d{1,12})$/.exec(trimmed);
  if (!match || Number(match[2]) === 0) {
    throw new CreditsError('INVALID_VALUE', `NUMBER "${text}" is not an invoice number`, { hint: 'give the number as printed, like INV-000007, or just 7' });
  }
  return { number: Number(match[2]), text: match[1] === '' ? null : trimmed };
}

const negated = (cents: number): number => (cents === 0 ? 0 : -cents);

/**
 * The cancellation invoice's document: the original's parties, line and tax case with every
 * amount negated, its own number and date, and the original it refers to. No payment is asked.
 */
export function cancellationFileData(original: InvoiceRecord, cancellation: CancellationRecord, purchase: PurchaseRow): InvoiceData {
  const {
    dueDayKey: _due,
    paidDayKey: _paid,
    sepaDebit: _sepa,
    cancelledBy: _cancelled,
    ...base
  } = invoiceFileData({ ...original, cancelledBy: null }, purchase, false);
  return {
    ...base,
    invoiceNumber: cancellation.numberText,
    invoiceDayKey: localDateKey(cancellation.issuedAtMs, cancellation.timeZone),
    lines: base.lines.map((line) => ({ ...line, unitPriceNetCents: negated(line.unitPriceNetCents), netCents: negated(line.netCents) })),
    netCents: negated(base.netCents),
    vatCents: negated(base.vatCents),
    grossCents: negated(base.grossCents),
    cancellation: { originalNumber: original.numberText, originalDayKey: base.invoiceDayKey, reason: cancellation.reason },
  };
}

/** What a reprint prints: the invoice or cancellation invoice as issued, marked "Kopie / Copy". */
export function reprintFileData({ invoice, cancellation, purchase }: InvoiceReprint): InvoiceData {
  return cancellation ? { ...cancellationFileData(invoice, cancellation, purchase), copy: true } : invoiceFileData(invoice, purchase, true);
}

export const invoiceCancelCommands: CommandSpec[] = [
  defineCommand({
    name: 'invoice cancel',
    summary: 'cancel an issued invoice: a cancellation invoice (Stornorechnung) with the next number, the amounts negated',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'number', description: 'the invoice number as printed (INV-000007) or just 7 (see `credits invoice list`)', required: true }],
    options: [
      { flags: '--reason <text>', description: 'why it is cancelled, printed on the cancellation invoice (required)' },
      { flags: '--output <file>', description: 'write the cancellation invoice: a PDF, or a CSV of the same numbers' },
      { flags: '--format <format>', description: 'pdf or csv (default: from --output, else pdf)', choices: ['pdf', 'csv'] },
    ],
    examples: [
      'credits invoice cancel INV-000007 --reason "wrong buyer address" --output storno-7.pdf',
      'credits invoice cancel 7 --reason "issued twice" --json',
    ],
    request: (input): InvoiceCancelRequest => ({
      ...mutatingRequest(input),
      invoice: input.args[0] ?? '',
      reason: stringOption(input, 'reason'),
      output: stringOption(input, 'output'),
      format: stringOption(input, 'format'),
    }),
    async run(input, context) {
      const settings = await context.settings();
      const invoice = parseInvoiceNumber(input.invoice);
      if (input.reason === undefined || input.reason.trim() === '') {
        throw new CreditsError('MISSING_FLAG', '--reason is required: a cancellation invoice says why', { hint: 'for example --reason "wrong buyer address"' });
      }
      const reason = parseFreeText(input.reason.trim(), '--reason', 300);
      const format = input.output === undefined ? null : (chooseFormat(input.format, input.output, ['pdf', 'csv'], 'pdf') as 'pdf' | 'csv');
      const db = await context.db();
      const result = await cancelInvoice(db, context.mutation(input, { invoice: invoice.text ?? invoice.number, reason }), {
        invoice,
        reason,
        numberPrefix: settings.invoicePrefix,
        timeZone: settings.timeZone,
      });
      const { cancellation, original, purchase } = result;
      let file: { name: string; mediaType: string; bytes: Uint8Array } | undefined;
      if (!result.dryRun && input.output !== undefined && format !== null) {
        const data = cancellationFileData(original, cancellation, purchase);
        const bytes = format === 'pdf' ? await context.presenter.invoicePdf(data) : Buffer.from(await context.presenter.invoiceCsv(data), 'utf8');
        file = { name: input.output, mediaType: MEDIA_TYPES[format], bytes };
      }
      return {
        ...(file ? { file } : {}),
        view: 'invoiceCancelled',
        data: {
          path: input.output ?? null,
          invoiceNumber: cancellation.numberText,
          cancels: original.numberText,
          cancelsDayKey: localDateKey(original.issuedAtMs, original.timeZone),
          purchaseId: purchase.id,
          reason,
          netCents: negated(original.netCents),
          vatCents: negated(original.vatCents),
          grossCents: negated(original.grossCents),
          dryRun: result.dryRun,
        },
      };
    },
  }),
  defineCommand({
    name: 'invoice show',
    summary: 'reprint an invoice or a cancellation invoice by its number, marked "Kopie / Copy", as issued',
    ledger: 'existing',
    arguments: [{ name: 'number', description: 'the number as printed (INV-000007) or just 7 (see `credits invoice list`)', required: true }],
    options: [
      { flags: '--output <file>', description: 'the file to write: a PDF, or a CSV of the same numbers' },
      { flags: '--format <format>', description: 'pdf or csv (default: from --output, else pdf)', choices: ['pdf', 'csv'] },
    ],
    examples: ['credits invoice show INV-000015 --output storno-12-copy.pdf', 'credits invoice show 12 --output invoice-12.csv'],
    request: (input): InvoiceShowRequest => ({ invoice: input.args[0] ?? '', output: stringOption(input, 'output'), format: stringOption(input, 'format') }),
    async run(input, context) {
      const given = parseInvoiceNumber(input.invoice);
      if (input.output === undefined)
        throw new CreditsError('MISSING_FLAG', '--output is required: the file to write', { hint: 'for example --output copy.pdf' });
      const format = chooseFormat(input.format, input.output, ['pdf', 'csv'], 'pdf') as 'pdf' | 'csv';
      const reprint = await readInvoiceByNumber(await context.db(), given);
      const { cancellation, purchase } = reprint;
      const data = reprintFileData(reprint);
      const bytes = format === 'pdf' ? await context.presenter.invoicePdf(data) : Buffer.from(await context.presenter.invoiceCsv(data), 'utf8');
      return {
        file: { name: input.output, mediaType: MEDIA_TYPES[format], bytes },
        view: 'invoiceShown',
        data: {
          path: input.output,
          format,
          invoiceNumber: data.invoiceNumber,
          kind: cancellation ? 'cancellation' : 'invoice',
          purchaseId: purchase.id,
          grossCents: data.grossCents,
        },
      };
    },
  }),
  defineCommand({
    name: 'invoice list',
    summary: 'the issued invoices and cancellation invoices in number order, with what cancelled what',
    ledger: 'existing',
    examples: ['credits invoice list', 'credits invoice list --json'],
    request: () => ({}),
    async run(_request, context) {
      const items = await listInvoices(await context.db());
      return { view: 'invoices', data: { invoices: items.map((item) => ({ ...item, dayKey: localDateKey(item.issuedAtMs, item.timeZone) })) } };
    },
  }),
];
