import { MILLICREDITS_PER_CREDIT } from './amounts.js';
import { CreditsError } from './errors.js';
import { CUSTOM_MINIMUM_CREDITS, PACKAGES, priceCents, type CreditPackage } from './packages.js';

/** One purchase of a plan: a catalogue package `quantity` times, or one custom package. */
export type PlanLine = { packageName: string; quantity: number; credits: number; priceCents: number; discountBasisPoints: number };

/** The cheapest purchase that lifts a balance to a target; empty when the balance is there already. */
export type RechargePlan = { lines: PlanLine[]; credits: number; priceCents: number; packages: number };

/** Compared in this order: price, then credits beyond what was needed, then the number of packages. */
function better(a: RechargePlan, b: RechargePlan): boolean {
  if (a.priceCents !== b.priceCents) return a.priceCents < b.priceCents;
  if (a.credits !== b.credits) return a.credits < b.credits;
  return a.packages < b.packages;
}

/**
 * How many of `entry` an optimal plan can hold: n of it never beat one larger package of exactly
 * n times its credits that costs no more (cheaper, or as cheap with fewer packages). The largest
 * package has no such bound; it is counted by division instead. Asserted, so a catalogue without
 * that shape fails loudly instead of giving a plan that is not the cheapest.
 */
export function countBound(entry: CreditPackage, catalogue: readonly CreditPackage[]): number {
  for (let count = 2; count <= 100; count += 1) {
    const replacement = catalogue.find((other) => other.credits === entry.credits * count && other.priceCents <= entry.priceCents * count);
    if (replacement) return count - 1;
  }
  throw new CreditsError('INTERNAL', `the package catalogue gives no bound for ${entry.name}`);
}

function line(entry: CreditPackage, quantity: number): PlanLine {
  return {
    packageName: entry.name,
    quantity,
    credits: entry.credits * quantity,
    priceCents: entry.priceCents * quantity,
    discountBasisPoints: entry.discountPercent * 100,
  };
}

function planOf(lines: PlanLine[]): RechargePlan {
  const kept = lines.filter((entry) => entry.quantity > 0);
  return {
    lines: kept,
    credits: kept.reduce((sum, entry) => sum + entry.credits, 0),
    priceCents: kept.reduce((sum, entry) => sum + entry.priceCents, 0),
    packages: kept.reduce((sum, entry) => sum + entry.quantity, 0),
  };
}

/** Every mix of the smaller packages within their bounds (at most a few hundred). */
function smallMixes(small: readonly CreditPackage[], catalogue: readonly CreditPackage[]): PlanLine[][] {
  let mixes: PlanLine[][] = [[]];
  for (const entry of small) {
    const bound = countBound(entry, catalogue);
    mixes = mixes.flatMap((mix) => Array.from({ length: bound + 1 }, (_unused, count) => [...mix, line(entry, count)]));
  }
  return mixes;
}

/**
 * The rest of a plan after its smaller packages: largest packages only, or a custom package with
 * largest packages beside it. With the custom package at its size c > minimum, one more largest
 * package lowers c by its credits, and the price changes by a constant (custom prices are linear
 * in steps of 100,000 credits), so only the ends are candidates: no largest package, or as many
 * as leave c just above or at the minimum.
 */
function restCandidates(restCredits: number, largest: CreditPackage, customDiscountBasisPoints: number | null): PlanLine[][] {
  const count = Math.max(0, Math.ceil(restCredits / largest.credits));
  const candidates: PlanLine[][] = [[line(largest, count)]];
  if (customDiscountBasisPoints === null) return candidates;
  const most = Math.max(0, Math.floor((restCredits - CUSTOM_MINIMUM_CREDITS) / largest.credits));
  for (const largestCount of new Set([0, most, most + 1])) {
    const customCredits = Math.max(CUSTOM_MINIMUM_CREDITS, restCredits - largestCount * largest.credits);
    const custom: PlanLine = {
      packageName: 'custom',
      quantity: 1,
      credits: customCredits,
      priceCents: priceCents(customCredits, customDiscountBasisPoints),
      discountBasisPoints: customDiscountBasisPoints,
    };
    candidates.push([line(largest, largestCount), custom]);
  }
  return candidates;
}

/**
 * The cheapest purchase from the catalogue whose credits lift `balanceMillicredits` to at least
 * `targetMillicredits`: cheapest price first, then the fewest credits over the target, then the
 * fewest packages. A custom package (from 500,000 credits, at `customDiscountBasisPoints`) is a
 * candidate when a discount is given. Exact integers; the search is bounded by the catalogue, not
 * by the amount.
 */
export function planRecharge(
  balanceMillicredits: number,
  targetMillicredits: number,
  customDiscountBasisPoints: number | null,
  catalogue: readonly CreditPackage[] = PACKAGES,
): RechargePlan {
  const neededCredits = Math.max(0, Math.ceil((targetMillicredits - balanceMillicredits) / MILLICREDITS_PER_CREDIT));
  if (neededCredits === 0) return planOf([]);
  const bySize = [...catalogue].sort((a, b) => a.credits - b.credits);
  const largest = bySize[bySize.length - 1]!;
  let best: RechargePlan | null = null;
  for (const mix of smallMixes(bySize.slice(0, -1), catalogue)) {
    const mixCredits = mix.reduce((sum, entry) => sum + entry.credits, 0);
    for (const rest of restCandidates(neededCredits - mixCredits, largest, customDiscountBasisPoints)) {
      const candidate = planOf([...mix, ...rest]);
      if (candidate.credits < neededCredits) continue;
      if (best === null || better(candidate, best)) best = candidate;
    }
  }
  return best!;
}

/** A plan's lines in words: "Enterprise × 2 + Standard", "Custom 512,000". */
export function describePlan(lines: readonly Pick<PlanLine, 'packageName' | 'quantity' | 'credits'>[]): string {
  return lines
    .map((entry) => {
      if (entry.packageName === 'custom') return `Custom ${entry.credits.toLocaleString('en-US')}`;
      const name = entry.packageName.charAt(0).toUpperCase() + entry.packageName.slice(1);
      return entry.quantity > 1 ? `${name} × ${entry.quantity}` : name;
    })
    .join(' + ');
}
