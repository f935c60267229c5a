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

/** Movements of a statement in millicredits and their euro figures in cents, summed from its data. */
type Movements = {
  purchases: number;
  transfersIn: number;
  transfersOut: number;
  drawnFromOrg: number;
  reversals: number;
  adjustments: number;
  paidCents: number;
  discountCents: number;
  transfersInCents: number;
  transfersOutCents: number;
};

function movements(data: StatementData): Movements {
  const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);
  const inward = data.transfers.filter((transfer) => transfer.direction === 'in');
  const outward = data.transfers.filter((transfer) => transfer.direction === 'out');
  return {
    purchases: sum(data.purchases.map((purchase) => purchase.millicredits)),
    transfersIn: sum(inward.map((transfer) => transfer.millicredits)),
    transfersOut: sum(outward.map((transfer) => transfer.millicredits)),
    drawnFromOrg: data.usageDrawnFromOrgMillicredits ?? 0,
    reversals: data.reversalsMillicredits ?? 0,
    adjustments: data.adjustmentsMillicredits ?? 0,
    paidCents: sum(data.purchases.map((purchase) => purchase.priceCents)),
    discountCents: sum(data.purchases.map((purchase) => purchase.discountCents)),
    transfersInCents: sum(inward.map((transfer) => transfer.cents)),
    transfersOutCents: sum(outward.map((transfer) => transfer.cents)),
  };
}

function signed(millicredits: number): string {
  return millicredits > 0 ? `+${formatCredits(millicredits)}` : formatCredits(millicredits);
}

function signedEuros(cents: number): string {
  return cents > 0 ? `+${formatEuros(cents)}` : formatEuros(cents);
}

function usageTotals(rows: StatementUsageRow[]): TableRow {
  const events = rows.reduce((sum, row) => sum + row.events, 0);
  const millicredits = rows.reduce((sum, row) => sum + row.millicredits, 0);
  return { cells: [formatCount(events), formatCredits(millicredits), formatEuros(rows.reduce((sum, row) => sum + row.cents, 0))] };
}

/** A statement that does not add up, in credits or in euros, is a bug: refused before anything is drawn. */
function checkReconciles(data: StatementData, moved: Movements): void {
  const computedClosing =
    data.openingMillicredits +
    moved.purchases +
    moved.transfersIn -
    moved.transfersOut -
    data.usageMillicredits +
    moved.drawnFromOrg +
    moved.reversals +
    moved.adjustments;
  const computedCents =
    data.openingCents +
    moved.paidCents +
    moved.discountCents +
    moved.transfersInCents -
    moved.transfersOutCents -
    data.usageCents +
    (data.usageDrawnFromOrgCents ?? 0) +
    (data.reversalsCents ?? 0) +
    (data.adjustmentsCents ?? 0);
  if (computedClosing !== data.closingMillicredits || computedCents !== data.closingCents) {
    throw new CreditsError(
      'INTERNAL',
      `the statement for ${data.monthKey} does not reconcile: opening + movements = ${computedClosing} millicredits (${computedCents} cents), closing = ${data.closingMillicredits} (${data.closingCents} cents)`,
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

/** The summary's rows: the opening balance, then each kind of movement; a purchase in euros is the price paid. */
function summaryRows(data: StatementData, moved: Movements, firstDay: string): TableRow[] {
  const count = (direction: 'in' | 'out'): string => formatCount(data.transfers.filter((transfer) => transfer.direction === direction).length);
  const rows: TableRow[] = [
    { cells: [`Opening balance, ${firstDay}`, formatCredits(data.openingMillicredits), formatEuros(data.openingCents)], bold: true },
    { cells: [`Purchases (${formatCount(data.purchases.length)}), price paid`, signed(moved.purchases), signedEuros(moved.paidCents)] },
  ];
  if (moved.discountCents !== 0) rows.push({ cells: ['Volume discount (list value above the price)', '', signedEuros(moved.discountCents)] });
  rows.push(
    { cells: [`Transfers in (${count('in')})`, signed(moved.transfersIn), signedEuros(moved.transfersInCents)] },
    { cells: [`Transfers out (${count('out')})`, signed(-moved.transfersOut), signedEuros(-moved.transfersOutCents)] },
    { cells: [`Usage (${formatCount(data.usageEvents)} events)`, signed(-data.usageMillicredits), signedEuros(-data.usageCents)] },
  );
  if (moved.drawnFromOrg !== 0) {
    rows.push({ cells: ['Drawn from the org pool (overdraft)', signed(moved.drawnFromOrg), signedEuros(data.usageDrawnFromOrgCents ?? 0)] });
  }
  if (moved.reversals !== 0) {
    const events = data.reversalEvents === undefined ? '' : ` (${formatCount(data.reversalEvents)} events)`;
    rows.push({ cells: [`Usage reversed${events}`, signed(moved.reversals), signedEuros(data.reversalsCents ?? 0)] });
  }
  // Each correction on a line of its own, with its reason; older data carries the total only.
  if (data.adjustments !== undefined) {
    for (const adjustment of data.adjustments)
      rows.push({ cells: [`Adjustment ${adjustment.dayKey}: ${adjustment.reason}`, signed(adjustment.millicredits), signedEuros(adjustment.cents)] });
  } else if (moved.adjustments !== 0) {
    rows.push({ cells: ['Adjustments', signed(moved.adjustments), signedEuros(data.adjustmentsCents ?? 0)] });
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
    totals: [{ cells: [`Closing balance, ${span.lastDay}`, formatCredits(data.closingMillicredits), formatEuros(data.closingCents)] }],
  });
  flow.gap(6);
  const part = (label: string, millicredits: number): string =>
    millicredits === 0 ? '' : ` ${millicredits > 0 ? '+' : '-'} ${label} ${formatCredits(Math.abs(millicredits))}`;
  flow.paragraph(
    `Reconciliation: opening ${formatCredits(data.openingMillicredits)} + purchases ${formatCredits(moved.purchases)} + transfers in ${formatCredits(moved.transfersIn)}` +
      ` - transfers out ${formatCredits(moved.transfersOut)} - usage ${formatCredits(data.usageMillicredits)}${part('drawn from org', moved.drawnFromOrg)}${part('reversals', moved.reversals)}${part('adjustments', moved.adjustments)}` +
      ` = closing ${formatCredits(data.closingMillicredits)} credits.`,
    { size: 8.5 },
  );
  flow.paragraph(
    'Euro figures are the credits at €0.01 each; purchases show the price paid, and the volume discount the list value above it. ' +
      'Each total is its exact amount rounded to the cent once, and the lines are rounded to add up to it (largest remainder).',
    { size: 8, color: COLOR.muted },
  );
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
      cells: [row.label, row.costCenter || '–', formatCount(row.events), formatCredits(row.millicredits), formatEuros(row.cents)],
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
      cells: [row.label, row.department ?? '', formatCount(row.events), formatCredits(row.millicredits), formatEuros(row.cents)],
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
    rows: rows.map((row) => ({ cells: [row.label, formatCount(row.events), formatCredits(row.millicredits), formatEuros(row.cents)] })),
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
