import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CREDITS, MAX_MILLICREDITS, parseCreditsInput, parseEuroInput } from '../../src/core/amounts.js';
import { MAX_CLOCK_SKEW_MS, parseUsageRecord } from '../../src/core/usageRecord.js';
import { formatCredits, formatEuros } from '../../src/render/format.js';
import { refusal } from '../helpers/refusal.js';

describe('amounts read as they are printed', () => {
  it('reads a dot as the decimal point, always', () => {
    expect(parseCreditsInput('2.125', 'AMOUNT')).toBe(2125);
    expect(parseCreditsInput('1.000', 'AMOUNT')).toBe(1000);
    expect(parseCreditsInput('23.452', 'AMOUNT')).toBe(23_452);
    expect(parseCreditsInput('10,000.0', 'AMOUNT')).toBe(10_000_000);
    expect(parseCreditsInput('1,234,567.125', 'AMOUNT')).toBe(1_234_567_125);
    expect(parseEuroInput('€1,000.00', '--monthly-cap')).toBe(100_000);
    expect(parseEuroInput('199.5', '--monthly-cap')).toBe(19_950);
  });

  it('refuses a decimal comma with its dot form, and a bare comma grouping with both readings', () => {
    const decimal = refusal(() => parseCreditsInput('1,5', 'AMOUNT'));
    expect(decimal.code).toBe('INVALID_AMOUNT');
    expect(decimal.message).toContain('AMOUNT "1,5" has a decimal comma');
    expect(decimal.hint).toContain('use 1.5');
    const grouped = refusal(() => parseCreditsInput('1,000', 'AMOUNT'));
    expect(grouped.message).toContain('thousands separator');
    expect(grouped.hint).toContain('write 1000 if the comma separates thousands, or 1.000 if it is a decimal comma');
    const euros = refusal(() => parseEuroInput('12,50', '--monthly-cap'));
    expect(euros.hint).toContain('use 12.50');
    for (const text of ['1,00,000.0', '1,0000.5', ',5', '1,2,3']) expect(refusal(() => parseCreditsInput(text, 'AMOUNT')).code).toBe('INVALID_AMOUNT');
  });

  it('every amount the tool prints reads back as itself (credits and euros)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_MILLICREDITS }), fc.integer({ min: 1, max: 3 }), (millicredits, minDecimals) => {
        expect(parseCreditsInput(formatCredits(millicredits, minDecimals), 'AMOUNT')).toBe(millicredits);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_CREDITS }), (cents) => {
        expect(parseEuroInput(formatEuros(cents), '--monthly-cap')).toBe(cents);
      }),
    );
  });

  it('refuses an amount past the ledger bound, naming the field and the maximum', () => {
    expect(parseCreditsInput(String(MAX_CREDITS), 'AMOUNT')).toBe(MAX_MILLICREDITS);
    const error = refusal(() => parseCreditsInput(`${MAX_CREDITS}.001`, '--daily'));
    expect(error.code).toBe('INVALID_AMOUNT');
    expect(error.message).toContain('--daily');
    expect(error.message).toContain('10000000000 credits');
    expect(refusal(() => parseEuroInput('100000000.01', '--monthly-cap')).message).toContain('€100000000');
  });
});

describe('usage event times', () => {
  const nowMs = Date.parse('2026-06-10T12:00:00Z');
  const event = (at: string) => ({ user: 'ada@example.com', model: 'gpt-4o', at });
  const parse = (at: string) => parseUsageRecord(event(at), { timeZone: 'Europe/Berlin', nowMs, requireEventId: false, fieldNames: 'fields' });

  it('takes the past and up to five minutes ahead of the clock, and refuses later, naming the field', () => {
    expect(parse('2020-01-01T00:00:00Z').occurredAtMs).toBe(Date.parse('2020-01-01T00:00:00Z'));
    expect(parse('2026-06-10T12:05:00Z').occurredAtMs).toBe(nowMs + MAX_CLOCK_SKEW_MS);
    for (const at of ['2026-06-10T12:05:00.001Z', '2026-06-11', '9999-12-31T23:59:59Z']) {
      const error = refusal(() => parse(at));
      expect(error.code).toBe('INVALID_DATE');
      expect(error.message).toContain(`at "${at}" is in the future`);
    }
  });
});
