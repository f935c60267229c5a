import { assert } from './errors.js';

/**
 * Order statistics shared by the forecast and the anomaly finder. Medians, not means, because a
 * single runaway batch job must not move the picture of what a normal day looks like.
 */

/** 1.4826 x MAD estimates the standard deviation of normally distributed data. */
export const MAD_TO_SIGMA = 1.4826;

/** Median of a non-empty list; with an even count, the mean of the two middle values. */
export function median(values: readonly number[]): number {
  assert(values.length > 0, 'the median of an empty list is undefined');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  if (sorted.length % 2 === 1) return sorted[middle] as number;
  return ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Median absolute deviation from the median (unscaled). */
export function medianAbsoluteDeviation(values: readonly number[], center: number = median(values)): number {
  return median(values.map((value) => Math.abs(value - center)));
}

/** Half-up rounding to a whole number; amounts here are never negative, so no sign rule is needed. */
export function roundHalfUp(value: number): number {
  return Math.floor(value + 0.5);
}

/** One decimal, half up, for ratios shown to people (3.2x, 12.5%). */
export function roundOneDecimal(value: number): number {
  return Math.floor(value * 10 + 0.5) / 10;
}
