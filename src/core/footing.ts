import { assert } from './errors.js';

/**
 * Tables that foot. A table of amounts rounded for display (credits to euro cents, shares to
 * 0.1%) shows its total as the exact sum rounded once, and its lines rounded so that they add up
 * to exactly that total: every line is its exact value rounded down, and the steps still missing
 * go one each to the lines with the largest remainders (the largest-remainder method), ties to
 * the line listed first. No line ends a whole step or more from its exact value, and a line
 * that is exact in the display unit keeps it (unless a pinned total leaves no other line to take
 * the step: see footSteps).
 *
 * Sums run in BigInt: the exact values of a year's report can pass 2^53 when scaled for shares.
 */

/** `value / unit` rounded to the nearest whole step, a half upwards (towards +infinity). */
export function roundHalfUp(value: bigint, unit: bigint): bigint {
  return floorDiv(2n * value + unit, 2n * unit);
}

function floorDiv(value: bigint, unit: bigint): bigint {
  const quotient = value / unit;
  return value % unit !== 0n && value < 0n ? quotient - 1n : quotient;
}

/**
 * Rounds `exact` (each in a fine unit, `unit` of them to one display step) into whole steps that
 * add up to `totalSteps`, by largest remainder. `totalSteps` defaults to the exact sum rounded
 * once (half up). A caller may pin it to anything less than one step away from the exact sum
 * (in either direction), or exactly one step above it: two totals each rounded half up, one
 * added and one taken away, can land there when every line is exact, and then the step goes
 * to the line listed first, a step from its exact value.
 */
export function footSteps(exact: readonly bigint[], unit: bigint, totalSteps?: bigint): bigint[] {
  assert(unit > 0n, `footing needs a positive unit, got ${unit}`);
  const sum = exact.reduce((total, value) => total + value, 0n);
  const target = totalSteps ?? roundHalfUp(sum, unit);
  const floors = exact.map((value) => floorDiv(value, unit));
  const missing = target - floors.reduce((total, value) => total + value, 0n);
  const order = exact
    .map((value, index) => ({ index, remainder: value - (floors[index] ?? 0n) * unit }))
    .sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  assert(
    missing >= 0n && missing <= BigInt(exact.length),
    `footing: a total of ${target} steps is not a rounding of the exact sum ${sum} / ${unit} over ${exact.length} lines`,
  );
  for (const line of order.slice(0, Number(missing))) floors[line.index] = (floors[line.index] ?? 0n) + 1n;
  return floors;
}

/** Millicredits per euro cent: one credit is one cent. */
const MILLICREDITS_PER_CENT = 1000n;

/** A table's euro column: each line and the total in cents, the total being the exact sum rounded once. */
export type FootedCents = { linesCents: number[]; totalCents: number };

/** Euro cents for lines of millicredits (signed), footing to the exact total rounded once, or to `totalCents` when given. */
export function footCents(linesMillicredits: readonly number[], totalCents?: number): FootedCents {
  const exact = linesMillicredits.map((value) => BigInt(value));
  const total =
    totalCents === undefined
      ? roundHalfUp(
          exact.reduce((sum, value) => sum + value, 0n),
          MILLICREDITS_PER_CENT,
        )
      : BigInt(totalCents);
  return { linesCents: footSteps(exact, MILLICREDITS_PER_CENT, total).map(Number), totalCents: Number(total) };
}

/** The credits' value in cents of one amount on its own: rounded once, half up. */
export function valueCents(millicredits: number): number {
  return Number(roundHalfUp(BigInt(millicredits), MILLICREDITS_PER_CENT));
}

/** Tenths of a percent in a whole: 100.0% is 1000 of them. */
const TENTHS_PER_WHOLE = 1000n;

/**
 * Each line's share of the lines' sum in tenths of a percent (12.5% is 125), adding up to
 * exactly 1000 (100.0%). Lines must not be negative; when they sum to zero there is no whole
 * to share and every share is 0.
 */
export function footShareTenths(lines: readonly number[]): number[] {
  const exact = lines.map((value) => BigInt(value));
  assert(
    exact.every((value) => value >= 0n),
    'shares are of non-negative amounts',
  );
  const whole = exact.reduce((sum, value) => sum + value, 0n);
  if (whole === 0n) return lines.map(() => 0);
  return footSteps(
    exact.map((value) => value * TENTHS_PER_WHOLE),
    whole,
    TENTHS_PER_WHOLE,
  ).map(Number);
}

/** A table of usage lines (credits, events) with each line's value and share and the totals, footed. */
export type FootedTable<Row> = {
  rows: (Row & { credits: number; valueCents: number; sharePercent: number })[];
  totals: { events: number; millicredits: number; credits: number; valueCents: number; sharePercent: number };
};

/**
 * Adds each line's euro value and share, footed: the values add up to the total value (the exact
 * sum rounded once) and the shares to 100.0% (or all 0.0% when nothing was spent).
 */
export function footTable<Row extends { events: number; millicredits: number }>(rows: readonly Row[]): FootedTable<Row> {
  const millicredits = rows.map((row) => row.millicredits);
  const { linesCents, totalCents } = footCents(millicredits);
  const shareTenths = footShareTenths(millicredits);
  const totalMillicredits = millicredits.reduce((sum, value) => sum + value, 0);
  return {
    rows: rows.map((row, index) => ({
      ...row,
      credits: row.millicredits / 1000,
      valueCents: linesCents[index] ?? 0,
      sharePercent: (shareTenths[index] ?? 0) / 10,
    })),
    totals: {
      events: rows.reduce((sum, row) => sum + row.events, 0),
      millicredits: totalMillicredits,
      credits: totalMillicredits / 1000,
      valueCents: totalCents,
      sharePercent: totalMillicredits === 0 ? 0 : 100,
    },
  };
}
