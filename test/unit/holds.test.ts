import { describe, expect, it } from 'vitest';
import { DEFAULT_HOLD_MS, captureEventId, parseHoldDuration, parseHoldRequest, sameHold } from '../../src/core/holds.js';
import { refusal } from '../helpers/refusal.js';

describe('holds: durations and requests', () => {
  it('reads --expires as seconds, minutes, hours or a mix, from 1s to 24h', () => {
    expect(parseHoldDuration('30s')).toBe(30_000);
    expect(parseHoldDuration('10m')).toBe(600_000);
    expect(parseHoldDuration(' 2H ')).toBe(7_200_000);
    expect(parseHoldDuration('1h30m')).toBe(5_400_000);
    expect(parseHoldDuration('24h')).toBe(86_400_000);
    for (const text of ['', '10', 'm', '-5m', '1.5h', '10 m', '2d', '0s', '24h1s', '99999999h']) {
      expect(refusal(() => parseHoldDuration(text)).code, text).toBe('INVALID_VALUE');
    }
    expect(refusal(() => parseHoldDuration('25h')).message).toContain('longer than 24h');
  });

  it('parses a hold from flags or fields, naming the one at fault', () => {
    const hold = parseHoldRequest({ user: ' Ada@Example.com ', model: 'GPT-4o', maxCredits: '2.5' }, 'flags');
    expect(hold).toEqual({ user: 'ada@example.com', model: 'gpt-4o', feature: 'chat', maxMillicredits: 2500, durationMs: DEFAULT_HOLD_MS, eventId: null });
    expect(parseHoldRequest({ user: 'a@b.co', model: 'x', maxCredits: 3, expires: '2m', eventId: 'c-1', feature: 'image' }, 'fields')).toMatchObject({
      maxMillicredits: 3000,
      durationMs: 120_000,
      eventId: 'c-1',
      feature: 'image',
    });
    expect(refusal(() => parseHoldRequest({ user: 'a@b.co', model: 'x' }, 'flags')).message).toContain('--max-credits is required');
    expect(refusal(() => parseHoldRequest({ user: 'a@b.co', model: 'x', maxCredits: '0' }, 'fields')).message).toContain('maxCredits');
    expect(refusal(() => parseHoldRequest({ user: 'a@b.co', model: 'x', maxCredits: 1, eventId: 'has space' }, 'fields')).code).toBe('INVALID_VALUE');
    expect(refusal(() => parseHoldRequest({ user: 'a@b.co', model: 'x', maxCredits: 1, max: 2 }, 'fields')).code).toBe('UNKNOWN_FLAG');
  });

  it("names a capture's event after the hold unless told otherwise, and knows a repeated hold", () => {
    expect(captureEventId(null, { id: 7, eventId: null })).toBe('hold:7');
    expect(captureEventId(null, { id: 7, eventId: 'call-1' })).toBe('call-1');
    expect(captureEventId('own', { id: 7, eventId: 'call-1' })).toBe('own');
    const asked = parseHoldRequest({ user: 'ada@example.com', model: 'gpt-4o', maxCredits: 5 }, 'fields');
    const stored = { user: 'ADA@example.com', model: 'gpt-4o', feature: 'chat', maxMillicredits: 5000 };
    expect(sameHold(stored, asked)).toBe(true);
    expect(sameHold({ ...stored, maxMillicredits: 4000 }, asked)).toBe(false);
    expect(sameHold({ ...stored, user: null }, asked)).toBe(false);
  });
});
