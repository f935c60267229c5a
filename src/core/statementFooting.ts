import { assert } from './errors.js';
import { footCents, roundHalfUp, valueCents } from './footing.js';

/** The statement's lines in millicredits, as the ledger gives them. */
export type StatementAmounts = {
  openingMillicredits: number;
  /** Credits credited and the price paid for them. */
  purchases: readonly { millicredits: number; priceCents: number }[];
  transfers: readonly { direction: 'in' | 'out'; millicredits: number }[];
  /** All usage in scope, in full (positive). */
  usageMillicredits: number;
  /** Of that usage, what a department's overdraft rule drew from the org pool (positive). */
  usageDrawnFromOrgMillicredits: number;
  /** Usage given back by reversals booked in the month (positive); 0 or absent when none. */
  reversalsMillicredits?: number;
  /** Corrections (`credits adjust`) in the month, signed: their total. */
  adjustmentsMillicredits: number;
  /** The same corrections one by one, when the statement lists them (they add up to the total). */
  adjustments?: readonly { millicredits: number }[];
  closingMillicredits: number;
};

/**
 * The statement's euro figures in cents, footed: opening + every line = closing to the cent, as
 * the credits do. A purchase shows the price paid, and the credits' list value above it is a
 * line of its own (the volume discount), so that the euro column still adds up.
 */
export type StatementCents = {
  openingCents: number;
  /** Per purchase, the list value of its credits above the price paid (0 without a discount). */
  purchaseDiscountCents: number[];
  /** Per transfer, its value (positive; the direction gives the sign). */
  transferCents: number[];
  /** The usage rounded once: the same figure as each usage breakdown's total. */
  usageCents: number;
  usageDrawnFromOrgCents: number;
  reversalsCents: number;
  /** Per listed adjustment, its value (signed); empty when the adjustments come as a total only. */
  adjustmentCents: number[];
  /** The adjustments' value: the sum of their lines. */
  adjustmentsCents: number;
  closingCents: number;
};

const MILLICREDITS_PER_CENT = 1000;

/**
 * The summary is a table whose total is the closing balance, rounded once. Its usage line is
 * pinned to the usage rounded once (the total of every usage breakdown) and prices paid are
 * exact; the other lines, the opening balance among them, are rounded by largest remainder
 * to make up the closing balance. So the opening's euro figure may differ by a cent from the
 * balance rounded on its own: that cent is the month's rounding, shown where it happens.
 */
export function footStatement(amounts: StatementAmounts): StatementCents {
  const usageCents = valueCents(amounts.usageMillicredits);
  const closingCents = valueCents(amounts.closingMillicredits);
  const discounts = amounts.purchases.map((purchase) => purchase.millicredits - purchase.priceCents * MILLICREDITS_PER_CENT);
  const transfers = amounts.transfers.map((transfer) => (transfer.direction === 'in' ? transfer.millicredits : -transfer.millicredits));
  const paidCents = amounts.purchases.reduce((sum, purchase) => sum + purchase.priceCents, 0);
  const adjustments = amounts.adjustments?.map((adjustment) => adjustment.millicredits) ?? [amounts.adjustmentsMillicredits];
  assert(adjustments.reduce((sum, value) => sum + value, 0) === amounts.adjustmentsMillicredits, 'the listed adjustments add up to the adjustments total');
  const footed = footCents(
    [amounts.openingMillicredits, ...discounts, ...transfers, amounts.usageDrawnFromOrgMillicredits, amounts.reversalsMillicredits ?? 0, ...adjustments],
    closingCents - paidCents + usageCents,
  ).linesCents;
  const take = (count: number): number[] => footed.splice(0, count);
  const [openingCents = 0] = take(1);
  const purchaseDiscountCents = take(discounts.length);
  const transferCents = take(transfers.length).map(Math.abs);
  const [usageDrawnFromOrgCents = 0, reversalsCents = 0] = take(2);
  const adjustmentLines = take(adjustments.length);
  const adjustmentsCents = adjustmentLines.reduce((sum, value) => sum + value, 0);
  return {
    openingCents,
    purchaseDiscountCents,
    transferCents,
    usageCents,
    usageDrawnFromOrgCents,
    reversalsCents,
    adjustmentCents: amounts.adjustments === undefined ? [] : adjustmentLines,
    adjustmentsCents,
    closingCents,
  };
}

/**
 * Euro cents of the lines of one usage breakdown, footing to `usageCents`, the usage rounded
 * once; asserts that the breakdown covers the same usage, so every breakdown shows one total.
 */
export function footUsageRows<Row extends { millicredits: number }>(rows: readonly Row[], usageCents: number): (Row & { cents: number })[] {
  const total = rows.reduce((sum, row) => sum + BigInt(row.millicredits), 0n);
  assert(rows.length === 0 || roundHalfUp(total, 1000n) === BigInt(usageCents), `a usage breakdown sums to ${total} millicredits, not ${usageCents} cents`);
  const { linesCents } = footCents(
    rows.map((row) => row.millicredits),
    rows.length === 0 ? 0 : usageCents,
  );
  return rows.map((row, index) => ({ ...row, cents: linesCents[index] ?? 0 }));
}
