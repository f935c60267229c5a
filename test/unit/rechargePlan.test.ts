import { describe, expect, it } from 'vitest';
import { CUSTOM_MINIMUM_CREDITS, PACKAGES, priceCents, type CreditPackage } from '../../src/core/packages.js';
import { describePlan, planRecharge } from '../../src/core/rechargePlan.js';
import { parseDayOfMonth, scheduleDay, scheduleDue, servedMonthAtCreation } from '../../src/core/rechargeSchedule.js';

const CREDIT = 1000;

type Score = { priceCents: number; credits: number; packages: number };

const lower = (a: Score, b: Score): boolean =>
  a.priceCents !== b.priceCents ? a.priceCents < b.priceCents : a.credits !== b.credits ? a.credits < b.credits : a.packages < b.packages;

/**
 * The reference: every exact sum of catalogue packages (in steps of 1,000 credits) by dynamic
 * programming, then the best of "catalogue only, at or over what is needed" and "catalogue plus
 * one custom package for the rest". Slow and plain, to check the bounded search against.
 */
function reference(neededCredits: number, customDiscountBasisPoints: number | null): Score {
  const step = 1000;
  const largest = Math.max(...PACKAGES.map((entry) => entry.credits / step));
  const top = Math.ceil(neededCredits / step) + largest;
  const exact: (Score | null)[] = Array.from({ length: top + 1 }, () => null);
  exact[0] = { priceCents: 0, credits: 0, packages: 0 };
  for (let units = 1; units <= top; units += 1) {
    for (const entry of PACKAGES) {
      const before = exact[units - entry.credits / step];
      if (before === undefined || before === null) continue;
      const candidate = { priceCents: before.priceCents + entry.priceCents, credits: units * step, packages: before.packages + 1 };
      if (exact[units] === null || lower(candidate, exact[units]!)) exact[units] = candidate;
    }
  }
  let best: Score | null = null;
  for (let units = 0; units <= top; units += 1) {
    const base = exact[units]!;
    const candidates: Score[] = units * step >= neededCredits ? [base] : [];
    if (customDiscountBasisPoints !== null && units * step < neededCredits) {
      const custom = Math.max(CUSTOM_MINIMUM_CREDITS, neededCredits - units * step);
      candidates.push({
        priceCents: base.priceCents + priceCents(custom, customDiscountBasisPoints),
        credits: base.credits + custom,
        packages: base.packages + 1,
      });
    }
    for (const candidate of candidates) if (best === null || lower(candidate, best)) best = candidate;
  }
  return best!;
}

describe('planRecharge: the cheapest packages up to a target', () => {
  it('buys nothing when the balance is at the target, and rounds a fraction of a credit up', () => {
    expect(planRecharge(5_000 * CREDIT, 5_000 * CREDIT, null)).toEqual({ lines: [], credits: 0, priceCents: 0, packages: 0 });
    const plan = planRecharge(500, 1_000 * CREDIT, null);
    expect(plan).toMatchObject({ credits: 1_000, priceCents: 1_000, packages: 1 });
    expect(describePlan(plan.lines)).toBe('Basic');
  });

  it('picks the cheapest mix, not the fewest packages', () => {
    // Four Basic (€40) beat one Standard (€47.50); five would cost €50, so Standard wins there.
    expect(describePlan(planRecharge(0, 4_000 * CREDIT, null).lines)).toBe('Basic × 4');
    expect(describePlan(planRecharge(0, 4_800 * CREDIT, null).lines)).toBe('Standard');
    // 9,000 credits: Basic × 4 + Standard is €87.50, Professional €95.
    expect(planRecharge(0, 9_000 * CREDIT, null)).toMatchObject({ priceCents: 8_750, credits: 9_000 });
    // 520,000 credits without a custom package: Enterprise × 5 + Professional × 2 (€4,440).
    const large = planRecharge(0, 520_000 * CREDIT, null);
    expect([describePlan(large.lines), large.priceCents]).toEqual(['Professional × 2 + Enterprise × 5', 444_000]);
  });

  it('breaks a price tie by fewer packages: Professional, not Standard × 2', () => {
    const plan = planRecharge(0, 10_000 * CREDIT, null);
    expect([describePlan(plan.lines), plan.priceCents, plan.packages]).toEqual(['Professional', 9_500, 1]);
  });

  it('breaks a price tie by fewer credits over the target, before fewer packages', () => {
    const catalogue: CreditPackage[] = [
      { name: 'small', displayName: 'Small', credits: 1_000, discountPercent: 0, priceCents: 1_000, note: '' },
      { name: 'double', displayName: 'Double', credits: 2_000, discountPercent: 50, priceCents: 1_000, note: '' },
      { name: 'quad', displayName: 'Quad', credits: 4_000, discountPercent: 75, priceCents: 1_000, note: '' },
    ];
    // Small, Double and Quad all cost €10: Small is the fewest credits over 1,000.
    expect(planRecharge(0, 1_000 * CREDIT, null, catalogue).lines.map((entry) => entry.packageName)).toEqual(['small']);
    expect(planRecharge(0, 3_500 * CREDIT, null, catalogue).lines.map((entry) => entry.packageName)).toEqual(['quad']);
  });

  it('takes a custom package from 500,000 credits at its discount, beside Enterprise packages when cheaper', () => {
    const at15 = planRecharge(0, 520_000 * CREDIT, 1500);
    expect([describePlan(at15.lines), at15.priceCents]).toEqual(['Custom 520,000', 442_000]);
    // At 14% a custom credit costs more than an Enterprise one: the custom package shrinks to what is left.
    const at14 = planRecharge(0, 689_000 * CREDIT, 1400);
    expect([describePlan(at14.lines), at14.priceCents]).toEqual(['Enterprise + Custom 589,000', 591_540]);
    // Below 500,000 credits a custom package would be over the target: the catalogue wins.
    const small = planRecharge(0, 120_000 * CREDIT, 5000);
    expect([describePlan(small.lines), small.priceCents]).toEqual(['Professional × 2 + Enterprise', 104_000]);
  });

  it('matches an exhaustive search on every target in steps, with and without a custom package', () => {
    const targets = [...Array.from({ length: 300 }, (_u, index) => (index + 1) * 1_700), 499_999, 500_001, 612_345, 689_000, 777_777, 1_234_567];
    for (const discount of [null, 0, 1000, 1400, 1500, 2250]) {
      for (const neededCredits of targets) {
        const plan = planRecharge(250, neededCredits * CREDIT + 250, discount);
        const expected = reference(neededCredits, discount);
        expect([neededCredits, discount, plan.priceCents, plan.credits, plan.packages]).toEqual([
          neededCredits,
          discount,
          expected.priceCents,
          expected.credits,
          expected.packages,
        ]);
      }
    }
  });
});

describe('recharge schedules: once a month, on or after the day', () => {
  it('reads --monthly-on 1 to 31 and refuses anything else', () => {
    expect([parseDayOfMonth('1'), parseDayOfMonth(' 31 ')]).toEqual([1, 31]);
    for (const bad of ['0', '32', '1.5', '-1', 'first', '']) expect(() => parseDayOfMonth(bad)).toThrow(/--monthly-on/);
  });

  it('is due from its day (the last day in a shorter month) until bought that month', () => {
    expect(scheduleDay('2027-02', 31)).toBe(28);
    expect(scheduleDay('2028-02', 30)).toBe(29);
    expect(scheduleDay('2027-04', 31)).toBe(30);
    expect(scheduleDue('2027-02-27', 31, null)).toBe(false);
    expect(scheduleDue('2027-02-28', 31, null)).toBe(true);
    expect(scheduleDue('2027-02-28', 31, '2027-02')).toBe(false);
    expect(scheduleDue('2027-03-02', 1, '2027-02')).toBe(true);
  });

  it("starts next month when made after this month's day, this month otherwise", () => {
    expect(servedMonthAtCreation('2027-02-15', 1)).toBe('2027-02');
    expect(servedMonthAtCreation('2027-02-15', 15)).toBeNull();
    expect(servedMonthAtCreation('2027-02-15', 31)).toBeNull();
  });
});
