import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCreditsText } from '../../src/core/amountText.js';
import { hasPercentLeft, isBelowLevel, parseAlertLevels, percentLeft } from '../../src/core/percentLeft.js';

const base = (balance: number, opening: number, inflow: number) => ({ balanceMillicredits: balance, openingMillicredits: opening, inflowMillicredits: inflow });

describe('percentage left: balance / (opening of the month + inflows this month)', () => {
  it('a small top-up moves it a little instead of resetting it to 100%', () => {
    // 200 of 300 credits left (66.7%), then a 5-credit transfer in.
    expect(percentLeft(base(200_000, 300_000, 0))).toBe(66.6);
    expect(percentLeft(base(205_000, 300_000, 5_000))).toBe(67.2);
  });

  it('has edge cases that say what they are: no base is null, empty is 0, above the base is 100', () => {
    expect(percentLeft(base(0, 0, 0))).toBeNull();
    expect(percentLeft(base(0, 1_000, 0))).toBe(0);
    expect(percentLeft(base(-5, 1_000, 0))).toBe(0);
    expect(percentLeft(base(2_000, 1_000, 0))).toBe(100);
    expect(percentLeft(base(5, 0, 0))).toBe(100);
    expect(isBelowLevel(base(0, 0, 0), 0)).toBe(false);
    expect(isBelowLevel(base(0, 1, 0), 0)).toBe(true);
    expect(hasPercentLeft(base(0, 0, 0), 10)).toBe(false);
  });

  it('rounds down, so a shown percentage never says more than is left, and compares exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 52 }), fc.nat(), fc.integer({ min: 0, max: 100 }), (whole, raw, level) => {
        const balance = raw % (whole + 1);
        const measured = base(balance, whole, 0);
        const shown = percentLeft(measured)!;
        expect(shown * 10).toBe(Math.floor(shown * 10));
        expect(BigInt(Math.round(shown * 10)) * BigInt(whole) <= BigInt(balance) * 1000n).toBe(true);
        if (level > 0) expect(isBelowLevel(measured, level)).toBe(BigInt(balance) * 100n < BigInt(level) * BigInt(whole));
        if (isBelowLevel(measured, level) && level > 0) expect(shown).toBeLessThan(level);
        expect(hasPercentLeft(measured, level)).toBe(!isBelowLevel(measured, level) || level === 0);
      }),
    );
  });
});

describe('alert levels', () => {
  it('parses whole percentages 0-100, each once, highest first', () => {
    expect(parseAlertLevels('10, 50,0,20')).toEqual([50, 20, 10, 0]);
    for (const bad of ['', '101', '20,20', '-1', '12.5', 'ten', '20,,10']) expect(() => parseAlertLevels(bad), bad).toThrow(/LEVELS/);
    expect(() => parseAlertLevels('50,20,20')).toThrow('LEVELS: 20 is given twice');
  });
});

describe('credits in notification texts', () => {
  it('reads like the CLI: thousands separators and at least one decimal', () => {
    expect(formatCreditsText(100_900_000)).toBe('100,900.0');
    expect(formatCreditsText(2_125)).toBe('2.125');
    expect(formatCreditsText(-1_234_567_890)).toBe('-1,234,567.89');
  });
});
