import { millicreditsToCents } from '../../core/amounts.js';
import { CreditsError } from '../../core/errors.js';
import { daysInMonth } from '../../core/time.js';
import { formatCount, formatCredits, formatEuros } from '../format.js';
import {
  addFooters,
  COLOR,
  drawTable,
  finishDocumentBytes,
  Flow,
  FONT,
  openDocument,
  textAt,
  writeFileAtomically,
  type PageFrame,
  type TableRow,
} from './document.js';
import { longDate, monthLabel, paymentMethodLabel } from './labels.js';
import type { StatementData, StatementUsageRow } from '../../app/documentTypes.js';

export type { StatementData } from '../../app/documentTypes.js';

const FRAME: PageFrame = { left: 50, right: 545.28, top: 50, bottom: 790, footerY: 808 };

/** Movements of a statement in millicredits, summed from its data. */
type Movements = { purchases: number; transfersIn: number; transfersOut: number; adjustments: number };

function movements(data: StatementData): Movements {
  const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);
  return {
    purchases: sum(data.purchases.map((purchase) => purchase.millicredits)),
    transfersIn: sum(data.transfers.filter((transfer) => transfer.direction === 'in').map((transfer) => transfer.millicredits)),
    transfersOut: sum(data.transfers.filter((transfer) => transfer.direction === 'out').map((transfer) => transfer.millicredits)),
    adjustments: data.adjustmentsMillicredits ?? 0,
  };
}

/** Credit value in cents of a signed amount of millicredits. */
function valueCents(millicredits: number): number {
  return Math.sign(millicredits) * millicreditsToCents(Math.abs(millicredits));
}

function signed(millicredits: number): string {
  return millicredits > 0 ? `+${formatCredits(millicredits)}` : formatCredits(millicredits);
}

function signedEuros(cents: number): string {
  return cents > 0 ? `+${formatEuros(cents)}` : formatEuros(cents);
}

function rowCents(row: StatementUsageRow): number {
  return row.cents ?? millicreditsToCents(row.millicredits);
}

function usageTotals(rows: StatementUsageRow[]): TableRow {
  const events = rows.reduce((sum, row) => sum + row.events, 0);
  const millicredits = rows.reduce((sum, row) => sum + row.millicredits, 0);
  // Given cents (prices) add up; credit values are rounded once, on the total, as in the summary.
  const cents = rows.every((row) => row.cents !== undefined) ? rows.reduce((sum, row) => sum + rowCents(row), 0) : millicreditsToCents(millicredits);
  return { cells: [formatCount(events), formatCredits(millicredits), formatEuros(cents)] };
}

/** A statement that does not add up is a bug: refused before anything is drawn. */
function checkReconciles(data: StatementData, moved: Movements): void {
  const computedClosing = data.openingMillicredits + moved.purchases + moved.transfersIn - moved.transfersOut - data.usageMillicredits + moved.adjustments;
  if (computedClosing !== data.closingMillicredits) {
    throw new CreditsError(
      'INTERNAL',
      `the statement for ${data.monthKey} does not reconcile: opening + movements = ${computedClosing} millicredits, closing = ${data.closingMillicredits}`,
    );
  }
}

/** The first and last day of the statement's month, written out. */
type MonthSpan = { month: string; firstDay: string; lastDay: string };

/** Title, organisation and the facts of the statement: period, scope, when, which units. */
function drawStatementHeading(flow: Flow, data: StatementData, span: MonthSpan): void {
  const { doc } = flow;
  textAt(doc, 'Credits statement', FRAME.left, flow.y, { font: FONT.bold, size: 20, color: COLOR.accent });
  textAt(doc, span.month, FRAME.left, flow.y + 5, { font: FONT.bold, size: 14, width: flow.width, align: 'right' });
  flow.gap(32);
  textAt(doc, data.organisation, FRAME.left, flow.y, { font: FONT.bold, size: 12, width: flow.width });
  flow.gap(19);
  const facts: Array<[string, string]> = [
    ['Period', `${span.firstDay} – ${span.lastDay} (${data.timeZone})`],
    [
      data.department ? 'Department' : 'Scope',
      data.department
        ? `${data.department.name}${data.department.costCenter ? ` · cost centre ${data.department.costCenter}` : ''}`
        : 'Whole organisation, all departments',
    ],
  ];
  if (data.generatedAt) facts.push(['Generated', data.generatedAt]);
  facts.push(['Figures', 'credits (1 credit = €0.01, 1,000 millicredits) and their euro value']);
  for (const [label, value] of facts) {
    textAt(doc, label, FRAME.left, flow.y, { size: 9, color: COLOR.muted });
    textAt(doc, value, FRAME.left + 75, flow.y, { size: 9, width: flow.width - 75 });
    flow.gap(13);
  }
}

/** The summary's rows: the opening balance, then each kind of movement. */
function summaryRows(data: StatementData, moved: Movements, firstDay: string): TableRow[] {
  const rows: TableRow[] = [
    { cells: [`Opening balance, ${firstDay}`, formatCredits(data.openingMillicredits), formatEuros(valueCents(data.openingMillicredits))], bold: true },
    { cells: [`Purchases (${formatCount(data.purchases.length)})`, signed(moved.purchases), signedEuros(valueCents(moved.purchases))] },
    {
      cells: [
        `Transfers in (${formatCount(data.transfers.filter((transfer) => transfer.direction === 'in').length)})`,
        signed(moved.transfersIn),
        signedEuros(valueCents(moved.transfersIn)),
      ],
    },
    {
      cells: [
        `Transfers out (${formatCount(data.transfers.filter((transfer) => transfer.direction === 'out').length)})`,
        signed(-moved.transfersOut),
        signedEuros(valueCents(-moved.transfersOut)),
      ],
    },
    { cells: [`Usage (${formatCount(data.usageEvents)} events)`, signed(-data.usageMillicredits), signedEuros(valueCents(-data.usageMillicredits))] },
  ];
  if (moved.adjustments !== 0) {
    rows.push({ cells: ['Adjustments and reversals', signed(moved.adjustments), signedEuros(valueCents(moved.adjustments))] });
  }
  return rows;
}

/** Summary: opening + movements = closing, with the sum written out under it. */
function drawSummary(flow: Flow, data: StatementData, moved: Movements, span: MonthSpan): void {
  drawTable(flow, {
    title: 'Summary',
    columns: [
      { header: 'Item', width: 255 },
      { header: 'Credits', width: 130, align: 'right' },
      { header: 'Euros', width: 110, align: 'right' },
    ],
    rows: summaryRows(data, moved, span.firstDay),
    totals: [{ cells: [`Closing balance, ${span.lastDay}`, formatCredits(data.closingMillicredits), formatEuros(valueCents(data.closingMillicredits))] }],
  });
  flow.gap(6);
  const adjustmentsPart = moved.adjustments !== 0 ? ` ${moved.adjustments > 0 ? '+' : '-'} adjustments ${formatCredits(Math.abs(moved.adjustments))}` : '';
  flow.paragraph(
    `Reconciliation: opening ${formatCredits(data.openingMillicredits)} + purchases ${formatCredits(moved.purchases)} + transfers in ${formatCredits(moved.transfersIn)}` +
      ` - transfers out ${formatCredits(moved.transfersOut)} - usage ${formatCredits(data.usageMillicredits)}${adjustmentsPart}` +
      ` = closing ${formatCredits(data.closingMillicredits)} credits.`,
    { size: 8.5 },
  );
  flow.paragraph('Euro figures are the credit value at €0.01 per credit, each rounded to the cent; the purchases table shows the prices paid.', {
    size: 8,
    color: COLOR.muted,
  });
}

function drawPurchases(flow: Flow, data: StatementData, moved: Movements): void {
  drawTable(flow, {
    title: 'Purchases',
    columns: [
      { header: 'Date', width: 64 },
      { header: 'Reference', width: 66 },
      { header: 'Package', width: 110 },
      { header: 'Method', width: 100 },
      { header: 'Credits', width: 85, align: 'right' },
      { header: 'Paid', width: 70, align: 'right' },
    ],
    rows: data.purchases.map((purchase) => ({
      cells: [
        purchase.dayKey,
        purchase.reference,
        purchase.description,
        paymentMethodLabel(purchase.method).en,
        formatCredits(purchase.millicredits),
        formatEuros(purchase.priceCents),
      ],
    })),
    totals:
      data.purchases.length > 0
        ? [
            {
              cells: ['Total', '', '', '', formatCredits(moved.purchases), formatEuros(data.purchases.reduce((sum, purchase) => sum + purchase.priceCents, 0))],
            },
          ]
        : [],
    emptyText: 'No purchases in this month.',
  });
}

function drawTransfers(flow: Flow, data: StatementData, moved: Movements): void {
  drawTable(flow, {
    title: 'Transfers',
    columns: [
      { header: 'Date', width: 64 },
      { header: 'In / out', width: 52 },
      { header: 'From / to', width: 120 },
      { header: 'Reason', width: 164 },
      { header: 'Credits', width: 95, align: 'right' },
    ],
    rows: data.transfers.map((transfer) => ({
      cells: [
        transfer.dayKey,
        transfer.direction === 'in' ? 'in' : 'out',
        `${transfer.direction === 'in' ? 'from' : 'to'} ${transfer.counterparty}`,
        transfer.memo,
        signed(transfer.direction === 'in' ? transfer.millicredits : -transfer.millicredits),
      ],
    })),
    totals:
      data.transfers.length > 0
        ? [{ cells: ['Total in', '', '', '', signed(moved.transfersIn)] }, { cells: ['Total out', '', '', '', signed(-moved.transfersOut)] }]
        : [],
    emptyText: 'No transfers in this month.',
  });
}

/** Usage by department, with the cost centre each department's usage is allocated to. */
function drawUsageByDepartment(flow: Flow, data: StatementData): void {
  drawTable(flow, {
    title: 'Usage by department (cost-centre allocation)',
    columns: [
      { header: 'Department', width: 170 },
      { header: 'Cost centre', width: 85 },
      { header: 'Events', width: 65, align: 'right' },
      { header: 'Credits', width: 95, align: 'right' },
      { header: 'Euros', width: 80, align: 'right' },
    ],
    rows: data.usageByDepartment.map((row) => ({
      cells: [row.label, row.costCenter || '–', formatCount(row.events), formatCredits(row.millicredits), formatEuros(rowCents(row))],
    })),
    totals: data.usageByDepartment.length > 0 ? [{ cells: ['Total', '', ...usageTotals(data.usageByDepartment).cells] }] : [],
    emptyText: 'No usage in this month.',
  });
}

function drawUsageByUser(flow: Flow, data: StatementData): void {
  drawTable(flow, {
    title: 'Usage by user',
    columns: [
      { header: 'User', width: 165 },
      { header: 'Department', width: 130 },
      { header: 'Events', width: 50, align: 'right' },
      { header: 'Credits', width: 82, align: 'right' },
      { header: 'Euros', width: 68, align: 'right' },
    ],
    rows: data.usageByUser.map((row) => ({
      cells: [row.label, row.department ?? '', formatCount(row.events), formatCredits(row.millicredits), formatEuros(rowCents(row))],
    })),
    totals: data.usageByUser.length > 0 ? [{ cells: ['Total', '', ...usageTotals(data.usageByUser).cells] }] : [],
    emptyText: 'No usage in this month.',
  });
}

/** Usage by one label of its own (model, feature): events, credits and euros per label. */
function drawUsageByLabel(flow: Flow, heading: string, header: string, rows: StatementUsageRow[]): void {
  drawTable(flow, {
    title: heading,
    columns: [
      { header, width: 255 },
      { header: 'Events', width: 70, align: 'right' },
      { header: 'Credits', width: 95, align: 'right' },
      { header: 'Euros', width: 75, align: 'right' },
    ],
    rows: rows.map((row) => ({ cells: [row.label, formatCount(row.events), formatCredits(row.millicredits), formatEuros(rowCents(row))] })),
    totals: rows.length > 0 ? [{ cells: ['Total', ...usageTotals(rows).cells] }] : [],
    emptyText: 'No usage in this month.',
  });
}

/** Writes the monthly statement as an A4 PDF, atomically (temp file in the same folder, then rename). */
export async function statementPdfBytes(data: StatementData): Promise<Uint8Array> {
  const moved = movements(data);
  checkReconciles(data, moved);

  const month = monthLabel(data.monthKey);
  const firstDay = longDate(`${data.monthKey}-01`);
  const lastDay = longDate(`${data.monthKey}-${String(daysInMonth(data.monthKey)).padStart(2, '0')}`);
  const scope = data.department ? data.department.name : 'whole organisation';
  const title = `Credits statement ${month} – ${data.organisation}${data.department ? ` – ${data.department.name}` : ''}`;

  const opened = await openDocument({ title, author: data.organisation, subject: `Credits statement for ${month}, ${scope}`, lang: 'en-GB' }, FRAME);
  const { doc } = opened;
  const flow = new Flow(doc, FRAME, (next) => {
    textAt(doc, `${data.organisation} · Credits statement ${month}${data.department ? ` · ${data.department.name}` : ''}`, FRAME.left, next.y, {
      size: 7.5,
      color: COLOR.muted,
      width: next.width,
    });
    next.y += 18;
  });

  const span: MonthSpan = { month, firstDay, lastDay };
  drawStatementHeading(flow, data, span);
  flow.gap(14);
  drawSummary(flow, data, moved, span);
  flow.gap(14);
  drawPurchases(flow, data, moved);
  flow.gap(16);
  drawTransfers(flow, data, moved);
  flow.gap(16);
  drawUsageByDepartment(flow, data);
  flow.gap(16);
  drawUsageByUser(flow, data);
  flow.gap(16);
  for (const [heading, header, rows] of [
    ['Usage by model', 'Model', data.usageByModel],
    ['Usage by feature', 'Feature', data.usageByFeature],
  ] as const) {
    drawUsageByLabel(flow, heading, header, rows);
    flow.gap(16);
  }

  addFooters(doc, FRAME, `${data.organisation} · Credits statement ${month}${data.department ? ` · ${data.department.name}` : ''}`);
  return finishDocumentBytes(opened);
}

/** Writes the PDF atomically (temp file in the same folder, fsync, rename). */
export async function writeStatementPdf(data: StatementData, outputPath: string): Promise<void> {
  await writeFileAtomically(outputPath, await statementPdfBytes(data));
}
