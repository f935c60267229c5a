import type { InvoiceData, StatementFacts } from '../../app/documentTypes.js';
import { TAX_CASE_NOTES } from '../../core/invoiceTax.js';
import { csvCents, csvCredits, toCsv, type CsvCell } from '../csv.js';
import { formatCount, formatCredits, formatEuros } from '../format.js';
import { palette, table, type RenderOptions } from '../style.js';

/** What is new since statements first had a shape is optional here: renderers of older data show it without. */
type Optional = 'reversalsMillicredits' | 'reversalsCents' | 'reversalEvents' | 'adjustments';
type Statement = Omit<StatementFacts, Optional> & Partial<Pick<StatementFacts, Optional>> & { organisation: string };

/** The corrections one by one with their reasons, or their total as one line when only that is known. */
function adjustmentLines(data: Statement): { dayKey: string | null; reason: string; millicredits: number; cents: number }[] {
  if (data.adjustments !== undefined) return data.adjustments;
  return data.adjustmentsMillicredits !== 0
    ? [{ dayKey: null, reason: 'adjustments', millicredits: data.adjustmentsMillicredits, cents: data.adjustmentsCents }]
    : [];
}

/** Rows of the CSV: the fields after month and scope. */
type CsvLine = [section: string, item: string, detail: string | null, date: string | null, events: number | null, millicredits: number, cents: number];

/** The summary's lines: opening + these = closing, in credits and in euros (a purchase in euros is the price paid). */
function summaryCsvLines(data: Statement): CsvLine[] {
  const lines: CsvLine[] = [['opening', 'opening balance', null, null, null, data.openingMillicredits, data.openingCents]];
  for (const purchase of data.purchases) {
    const detail = `${purchase.reference} ${purchase.method}`;
    lines.push(['purchase', purchase.description, detail, purchase.dayKey, null, purchase.millicredits, purchase.priceCents]);
    if (purchase.millicredits !== purchase.priceCents * 1000 || purchase.discountCents !== 0)
      lines.push(['purchase_discount', 'volume discount (list value above the price paid)', detail, purchase.dayKey, null, 0, purchase.discountCents]);
  }
  for (const transfer of data.transfers) {
    const sign = transfer.direction === 'in' ? 1 : -1;
    const section = transfer.direction === 'in' ? 'transfer_in' : 'transfer_out';
    lines.push([section, transfer.counterparty, transfer.memo || null, transfer.dayKey, null, sign * transfer.millicredits, sign * transfer.cents]);
  }
  lines.push(['usage', 'usage total', null, null, data.usageEvents, -data.usageMillicredits, -data.usageCents]);
  // A department's overdraft draws: usage paid from the org pool, so they add back to its balance.
  if (data.usageDrawnFromOrgMillicredits !== 0)
    lines.push([
      'usage_drawn_from_org',
      'usage paid from the org pool (overdraft)',
      null,
      null,
      null,
      data.usageDrawnFromOrgMillicredits,
      data.usageDrawnFromOrgCents,
    ]);
  // Reversals give back usage of any month, booked in this one; adjustments are listed one by one with their reason.
  if ((data.reversalsMillicredits ?? 0) !== 0)
    lines.push(['reversal', 'usage reversed', null, null, data.reversalEvents ?? null, data.reversalsMillicredits ?? 0, data.reversalsCents ?? 0]);
  for (const adjustment of adjustmentLines(data))
    lines.push(['adjustment', adjustment.reason, null, adjustment.dayKey, null, adjustment.millicredits, adjustment.cents]);
  lines.push(['closing', 'closing balance', null, null, null, data.closingMillicredits, data.closingCents]);
  return lines;
}

/**
 * One row per line item; a `section` column says which part of the statement it belongs to.
 * Euros are footed: the summary's lines add up to the closing balance, and each usage
 * breakdown's lines to the usage total, to the cent.
 */
export function statementCsv(data: Statement): Promise<string> {
  const lines = summaryCsvLines(data);
  for (const row of data.usageByDepartment) lines.push(['usage_by_cost_centre', row.label, row.costCenter, null, row.events, row.millicredits, row.cents]);
  for (const row of data.usageByUser) lines.push(['usage_by_user', row.label, row.department, null, row.events, row.millicredits, row.cents]);
  for (const row of data.usageByModel) lines.push(['usage_by_model', row.label, null, null, row.events, row.millicredits, row.cents]);
  for (const row of data.usageByFeature) lines.push(['usage_by_feature', row.label, null, null, row.events, row.millicredits, row.cents]);
  const scope = data.department?.name ?? 'organisation';
  const rows: CsvCell[][] = lines.map(([section, item, detail, date, events, millicredits, cents]) => [
    data.monthKey,
    scope,
    section,
    item,
    detail,
    date,
    events,
    csvCredits(millicredits),
    csvCents(cents),
  ]);
  return toCsv(['month', 'scope', 'section', 'item', 'detail', 'date', 'events', 'credits', 'euros'], rows);
}

const money = (millicredits: number, cents: number): string => `${formatCredits(millicredits)} credits (${formatEuros(cents)})`;

/** The summary as lines of text: opening, each kind of movement, closing. */
function summaryText(data: Statement, chalk: ReturnType<typeof palette>): string[] {
  const sum = <T>(rows: T[], of: (row: T) => number): number => rows.reduce((total, row) => total + of(row), 0);
  const inward = data.transfers.filter((row) => row.direction === 'in');
  const outward = data.transfers.filter((row) => row.direction === 'out');
  const discountCents = sum(data.purchases, (row) => row.discountCents);
  return [
    `  Opening balance   ${money(data.openingMillicredits, data.openingCents)}`,
    `  + Purchases       ${formatCredits(sum(data.purchases, (row) => row.millicredits))} credits, paid ${formatEuros(sum(data.purchases, (row) => row.priceCents))}${discountCents !== 0 ? ` (volume discount ${discountCents > 0 ? '+' : ''}${formatEuros(discountCents)})` : ''}`,
    `  + Transfers in    ${money(
      sum(inward, (row) => row.millicredits),
      sum(inward, (row) => row.cents),
    )}`,
    `  − Transfers out   ${money(
      sum(outward, (row) => row.millicredits),
      sum(outward, (row) => row.cents),
    )}`,
    `  − Usage           ${money(data.usageMillicredits, data.usageCents)} in ${formatCount(data.usageEvents)} events`,
    ...(data.usageDrawnFromOrgMillicredits !== 0
      ? [`  + Drawn from org  ${money(data.usageDrawnFromOrgMillicredits, data.usageDrawnFromOrgCents)} (overdraft)`]
      : []),
    ...((data.reversalsMillicredits ?? 0) !== 0
      ? [
          `  + Reversals       ${money(data.reversalsMillicredits ?? 0, data.reversalsCents ?? 0)}${data.reversalEvents === undefined ? '' : ` of ${formatCount(data.reversalEvents)} events`}`,
        ]
      : []),
    // Each correction with its reason; data that carries the total only shows it as one line.
    ...(data.adjustments === undefined
      ? data.adjustmentsMillicredits !== 0
        ? [`  ± Adjustments     ${money(data.adjustmentsMillicredits, data.adjustmentsCents)}`]
        : []
      : data.adjustments.map(
          (adjustment) =>
            `  ± Adjustment      ${adjustment.millicredits > 0 ? '+' : ''}${money(adjustment.millicredits, adjustment.cents)} on ${adjustment.dayKey}: ${adjustment.reason}`,
        )),
    `  = Closing balance ${chalk.bold(money(data.closingMillicredits, data.closingCents))}`,
  ];
}

export const statementViews = {
  statement(data: Statement, options: RenderOptions): string {
    const chalk = palette(options);
    const lines = [
      chalk.bold(
        `Statement ${data.monthKey}, ${data.department ? `${data.department.name}${data.department.costCenter ? ` (${data.department.costCenter})` : ''}` : data.organisation}`,
      ),
      ...summaryText(data, chalk),
    ];
    if (data.usageByDepartment.length > 0) {
      lines.push('', chalk.bold('Usage by cost centre'));
      const rows = data.usageByDepartment.map((row) => [
        row.label,
        row.costCenter ?? '',
        formatCount(row.events),
        formatCredits(row.millicredits),
        formatEuros(row.cents),
      ]);
      rows.push([
        chalk.bold('Total'),
        '',
        chalk.bold(formatCount(data.usageEvents)),
        chalk.bold(formatCredits(data.usageMillicredits)),
        chalk.bold(formatEuros(data.usageCents)),
      ]);
      lines.push(
        table(
          options,
          [
            { header: 'Department' },
            { header: 'Cost centre' },
            { header: 'Events', align: 'right' },
            { header: 'Credits', align: 'right' },
            { header: 'Value', align: 'right' },
          ],
          rows,
        ),
      );
    }
    lines.push(chalk.dim('Write it to a file with --output statement.pdf (or .csv, .json).'));
    return lines.join('\n');
  },

  statementWritten(data: {
    path: string;
    format: string;
    monthKey: string;
    department: string | null;
    openingMillicredits: number;
    closingMillicredits: number;
    usageMillicredits: number;
  }): string {
    return `Wrote the ${data.monthKey} statement${data.department ? ` of ${data.department}` : ''} to ${data.path} (${data.format}): opening ${formatCredits(data.openingMillicredits)}, usage ${formatCredits(data.usageMillicredits)}, closing ${formatCredits(data.closingMillicredits)} credits.`;
  },

  invoiceWritten(data: {
    path: string;
    invoiceNumber: string;
    purchaseId: number;
    reissued: boolean;
    netCents: number;
    vatCents: number;
    grossCents: number;
    vatRateBasisPoints: number;
    taxCase?: string;
    cancelledBy?: string | null;
    dryRun: boolean;
  }): string {
    if (data.dryRun) return `dry run, nothing written: purchase ${data.purchaseId} would get invoice ${data.invoiceNumber}.`;
    const tax = data.taxCase === 'reverseCharge' ? ' (reverse charge)' : data.taxCase === 'notTaxable' ? ' (not taxable in Germany)' : '';
    return `Wrote invoice ${data.invoiceNumber}${data.reissued ? ' (a copy: this purchase was invoiced before)' : ''}${data.cancelledBy ? ` (cancelled by ${data.cancelledBy})` : ''} for purchase ${data.purchaseId} to ${data.path}: net ${formatEuros(data.netCents)} + VAT ${data.vatRateBasisPoints / 100}%${tax} ${formatEuros(data.vatCents)} = ${formatEuros(data.grossCents)}.`;
  },

  invoiceCancelled(data: { path: string | null; invoiceNumber: string; cancels: string; purchaseId: number; grossCents: number; dryRun: boolean }): string {
    if (data.dryRun) return `dry run, nothing written: invoice ${data.cancels} would be cancelled by ${data.invoiceNumber}.`;
    const written = data.path === null ? '' : `; written to ${data.path}`;
    return `Cancelled invoice ${data.cancels} (purchase ${data.purchaseId}) with cancellation invoice ${data.invoiceNumber}: ${formatEuros(data.grossCents)}${written}.`;
  },

  invoiceShown(data: { path: string; invoiceNumber: string; kind: string; purchaseId: number; grossCents: number }): string {
    return `Wrote a copy of ${data.kind === 'cancellation' ? 'cancellation invoice' : 'invoice'} ${data.invoiceNumber} (purchase ${data.purchaseId}, ${formatEuros(data.grossCents)}) to ${data.path}.`;
  },

  invoices(
    data: {
      invoices: {
        numberText: string;
        kind: string;
        dayKey: string;
        purchaseId: number;
        buyer: string;
        grossCents: number;
        cancelledBy: string | null;
        cancels: string | null;
      }[];
    },
    options: RenderOptions,
  ): string {
    if (data.invoices.length === 0) return 'No invoices yet. Issue one with `credits invoice PURCHASE_ID --output invoice.pdf`.';
    const chalk = palette(options);
    const status = (row: (typeof data.invoices)[number]): string =>
      row.cancels ? `cancels ${row.cancels}` : row.cancelledBy ? chalk.dim(`cancelled by ${row.cancelledBy}`) : 'issued';
    return table(
      options,
      [
        { header: 'Number' },
        { header: 'Date' },
        { header: 'Purchase', align: 'right' },
        { header: 'Buyer' },
        { header: 'Gross', align: 'right' },
        { header: 'Status' },
      ],
      data.invoices.map((row) => [row.numberText, row.dayKey, `#${row.purchaseId}`, row.buyer, formatEuros(row.grossCents), status(row)]),
    );
  },
};

/** "1900" -> "19.00": a rate in percent for spreadsheets, exact (basis points are whole). */
function csvPercent(basisPoints: number): string {
  return `${Math.floor(basisPoints / 100)}.${String(basisPoints % 100).padStart(2, '0')}`;
}

/**
 * An invoice as CSV: one row per line, each carrying the invoice's parties, tax case and the
 * totals computed when it was issued (the same numbers the PDF prints), euros with a dot.
 */
export function invoiceCsv(data: InvoiceData): Promise<string> {
  const header = [
    'invoice_number',
    'invoice_date',
    'supply_date',
    'seller_name',
    'seller_vat_id',
    'buyer_name',
    'buyer_vat_id',
    'buyer_leitweg_id',
    'tax_case',
    'position',
    'description',
    'quantity',
    'credits',
    'unit_price_net_eur',
    'line_net_eur',
    'net_eur',
    'vat_rate_percent',
    'vat_eur',
    'gross_eur',
    'tax_note',
  ];
  const rows: CsvCell[][] = data.lines.map((line, index) => [
    data.invoiceNumber,
    data.invoiceDayKey,
    data.supplyDayKey,
    data.seller.name,
    data.seller.vatId,
    data.buyer.name,
    data.buyer.vatId ?? null,
    data.buyer.leitwegId ?? null,
    data.taxCase,
    index + 1,
    line.description,
    line.quantity,
    csvCredits(line.millicredits),
    csvCents(line.unitPriceNetCents),
    csvCents(line.netCents),
    csvCents(data.netCents),
    csvPercent(data.vatRateBasisPoints),
    csvCents(data.vatCents),
    csvCents(data.grossCents),
    TAX_CASE_NOTES[data.taxCase],
  ]);
  return toCsv(header, rows);
}
