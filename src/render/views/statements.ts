import { millicreditsToCents } from '../../core/amounts.js';
import type { StatementFacts } from '../../app/documentTypes.js';
import { csvCredits, csvEuros, toCsv, type CsvCell } from '../csv.js';
import { formatCount, formatCredits, formatEuros } from '../format.js';
import { palette, table, type RenderOptions } from '../style.js';

type Statement = StatementFacts & { organisation: string };

/** One row per line item; a `section` column says which part of the statement it belongs to. */
export function statementCsv(data: Statement): Promise<string> {
  const rows: CsvCell[][] = [];
  const add = (section: string, item: string, detail: string | null, date: string | null, events: number | null, millicredits: number): void => {
    rows.push([data.monthKey, data.department?.name ?? 'organisation', section, item, detail, date, events, csvCredits(millicredits), csvEuros(millicredits)]);
  };
  add('opening', 'opening balance', null, null, null, data.openingMillicredits);
  for (const purchase of data.purchases)
    add('purchase', purchase.description, `${purchase.reference} ${purchase.method}`, purchase.dayKey, null, purchase.millicredits);
  for (const transfer of data.transfers)
    add(
      transfer.direction === 'in' ? 'transfer_in' : 'transfer_out',
      transfer.counterparty,
      transfer.memo || null,
      transfer.dayKey,
      null,
      transfer.direction === 'in' ? transfer.millicredits : -transfer.millicredits,
    );
  add('usage', 'usage total', null, null, data.usageEvents, -data.usageMillicredits);
  // A department's overdraft draws are usage paid from org: in its tables, not in its balance.
  if (data.usageDrawnFromOrgMillicredits > 0)
    add('usage_drawn_from_org', 'usage paid from org (overdraft)', null, null, null, -data.usageDrawnFromOrgMillicredits);
  if (data.adjustmentsMillicredits !== 0) add('adjustment', 'reversals and adjustments', null, null, null, data.adjustmentsMillicredits);
  add('closing', 'closing balance', null, null, null, data.closingMillicredits);
  for (const row of data.usageByDepartment) add('usage_by_cost_centre', row.label, row.costCenter, null, row.events, row.millicredits);
  for (const row of data.usageByUser) add('usage_by_user', row.label, row.department, null, row.events, row.millicredits);
  for (const row of data.usageByModel) add('usage_by_model', row.label, null, null, row.events, row.millicredits);
  for (const row of data.usageByFeature) add('usage_by_feature', row.label, null, null, row.events, row.millicredits);
  return toCsv(['month', 'scope', 'section', 'item', 'detail', 'date', 'events', 'credits', 'euros'], rows);
}

const money = (millicredits: number): string => `${formatCredits(millicredits)} credits (${formatEuros(millicreditsToCents(millicredits))})`;

export const statementViews = {
  statement(data: Statement, options: RenderOptions): string {
    const chalk = palette(options);
    const purchased = data.purchases.reduce((sum, row) => sum + row.millicredits, 0);
    const transferredIn = data.transfers.filter((row) => row.direction === 'in').reduce((sum, row) => sum + row.millicredits, 0);
    const transferredOut = data.transfers.filter((row) => row.direction === 'out').reduce((sum, row) => sum + row.millicredits, 0);
    const lines = [
      chalk.bold(
        `Statement ${data.monthKey}, ${data.department ? `${data.department.name}${data.department.costCenter ? ` (${data.department.costCenter})` : ''}` : data.organisation}`,
      ),
      `  Opening balance   ${money(data.openingMillicredits)}`,
      `  + Purchases       ${money(purchased)}`,
      `  + Transfers in    ${money(transferredIn)}`,
      `  − Transfers out   ${money(transferredOut)}`,
      `  − Usage           ${money(data.usageMillicredits)} in ${formatCount(data.usageEvents)} events${data.usageDrawnFromOrgMillicredits > 0 ? ` (and ${formatCredits(data.usageDrawnFromOrgMillicredits)} more paid from org under the overdraft rule)` : ''}`,
      ...(data.adjustmentsMillicredits !== 0 ? [`  ± Adjustments     ${money(data.adjustmentsMillicredits)}`] : []),
      `  = Closing balance ${chalk.bold(money(data.closingMillicredits))}`,
    ];
    if (data.usageByDepartment.length > 0) {
      lines.push('', chalk.bold('Usage by cost centre'));
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
          data.usageByDepartment.map((row) => [
            row.label,
            row.costCenter ?? '',
            formatCount(row.events),
            formatCredits(row.millicredits),
            formatEuros(millicreditsToCents(row.millicredits)),
          ]),
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
    dryRun: boolean;
  }): string {
    if (data.dryRun) return `dry run, nothing written: purchase ${data.purchaseId} would get invoice ${data.invoiceNumber}.`;
    return `Wrote invoice ${data.invoiceNumber}${data.reissued ? ' (a copy: this purchase was invoiced before)' : ''} for purchase ${data.purchaseId} to ${data.path}: net ${formatEuros(data.netCents)} + VAT ${data.vatRateBasisPoints / 100}% ${formatEuros(data.vatCents)} = ${formatEuros(data.grossCents)}.`;
  },
};
