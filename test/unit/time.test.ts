import { describe, it, expect } from 'vitest';
import { refusal } from '../helpers/refusal.js';
import { CreditsError } from '../../src/core/errors.js';
import {
  DEFAULT_TIME_ZONE,
  addLocalDays,
  assertTimeZone,
  dayBounds,
  daysInMonth,
  formatLocalDate,
  formatLocalDateTime,
  isValidTimeZone,
  localDateKey,
  localMidnightUtc,
  localMonthKey,
  localParts,
  monthBounds,
  nextMonthKey,
  parseInstantInput,
  parseMonthInput,
  periodBounds,
  previousMonthKey,
  toIsoUtc,
  utcOffsetMinutes,
} from '../../src/core/time.js';

const BERLIN = 'Europe/Berlin';
const HOUR = 3_600_000;
const utc = (iso: string): number => {
  const ms = new Date(iso).getTime();
  if (Number.isNaN(ms)) throw new Error(`bad fixture ${iso}`);
  return ms;
};

function expectCode(fn: () => unknown, code: string, messagePart?: string): CreditsError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CreditsError);
  const error = caught as CreditsError;
  expect(error.code).toBe(code);
  if (messagePart !== undefined) expect(error.message).toContain(messagePart);
  return error;
}

describe('time zones', () => {
  it('defaults to Berlin', () => {
    expect(DEFAULT_TIME_ZONE).toBe('Europe/Berlin');
  });

  it('accepts IANA names and UTC, rejects the rest', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Asia/Kolkata')).toBe(true);
    expect(isValidTimeZone('Europe/Nowhere')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
    expect(isValidTimeZone('CEST+2')).toBe(false);
  });

  it('assertTimeZone names the field and hints at IANA names', () => {
    expect(assertTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(assertTimeZone(' UTC ')).toBe('UTC');
    const error = expectCode(() => assertTimeZone('Mars/Olympus'), 'INVALID_TIMEZONE', '--timezone');
    expect(error.message).toContain('Mars/Olympus');
    expect(error.hint).toContain('Europe/Berlin');
    expect(error.exitCode).toBe(2);
    expectCode(() => assertTimeZone('nope', 'timezone in config'), 'INVALID_TIMEZONE', 'timezone in config');
    expectCode(() => assertTimeZone(''), 'INVALID_TIMEZONE', '--timezone');
  });

  it('functions that take a zone refuse an unknown one with INVALID_TIMEZONE', () => {
    expectCode(() => localDateKey(0, 'Not/AZone'), 'INVALID_TIMEZONE');
  });
});

describe('offsets and local parts', () => {
  it('knows Berlin winter and summer offsets', () => {
    expect(utcOffsetMinutes(utc('2026-01-15T12:00:00Z'), BERLIN)).toBe(60);
    expect(utcOffsetMinutes(utc('2026-07-15T12:00:00Z'), BERLIN)).toBe(120);
  });

  it('switches exactly at the Berlin transitions (01:00 UTC)', () => {
    expect(utcOffsetMinutes(utc('2026-03-29T00:59:59.999Z'), BERLIN)).toBe(60);
    expect(utcOffsetMinutes(utc('2026-03-29T01:00:00Z'), BERLIN)).toBe(120);
    expect(utcOffsetMinutes(utc('2026-10-25T00:59:59.999Z'), BERLIN)).toBe(120);
    expect(utcOffsetMinutes(utc('2026-10-25T01:00:00Z'), BERLIN)).toBe(60);
  });

  it('handles half-hour offsets (Asia/Kolkata, +05:30, no DST)', () => {
    expect(utcOffsetMinutes(utc('2026-01-15T00:00:00Z'), 'Asia/Kolkata')).toBe(330);
    expect(utcOffsetMinutes(utc('2026-07-15T00:00:00Z'), 'Asia/Kolkata')).toBe(330);
    // 18:29:59Z is 23:59:59 local; 18:30Z is the next local midnight
    expect(localDateKey(utc('2026-03-14T18:29:59Z'), 'Asia/Kolkata')).toBe('2026-03-14');
    expect(localDateKey(utc('2026-03-14T18:30:00Z'), 'Asia/Kolkata')).toBe('2026-03-15');
    expect(toIsoUtc(localMidnightUtc('2026-03-15', 'Asia/Kolkata'))).toBe('2026-03-14T18:30:00.000Z');
    const march = monthBounds('2026-03', 'Asia/Kolkata');
    expect(toIsoUtc(march.startMs)).toBe('2026-02-28T18:30:00.000Z');
    expect(toIsoUtc(march.endMs)).toBe('2026-03-31T18:30:00.000Z');
  });

  it('handles negative half-hour offsets with DST (America/St_Johns)', () => {
    expect(utcOffsetMinutes(utc('2026-01-15T12:00:00Z'), 'America/St_Johns')).toBe(-210);
    expect(utcOffsetMinutes(utc('2026-07-15T12:00:00Z'), 'America/St_Johns')).toBe(-150);
  });

  it('UTC has offset 0 all year and 24-hour days', () => {
    expect(utcOffsetMinutes(utc('2026-03-29T01:30:00Z'), 'UTC')).toBe(0);
    expect(utcOffsetMinutes(utc('2026-10-25T01:30:00Z'), 'UTC')).toBe(0);
    for (const key of ['2026-03-29', '2026-10-25', '2024-02-29']) {
      const { startMs, endMs } = dayBounds(key, 'UTC');
      expect(toIsoUtc(startMs)).toBe(`${key}T00:00:00.000Z`);
      expect(endMs - startMs).toBe(24 * HOUR);
    }
    const feb = monthBounds('2024-02', 'UTC');
    expect(toIsoUtc(feb.startMs)).toBe('2024-02-01T00:00:00.000Z');
    expect(toIsoUtc(feb.endMs)).toBe('2024-03-01T00:00:00.000Z');
  });

  it('localParts reads the wall clock, month 1-12 and weekday 0 = Sunday', () => {
    // 2026-03-15 is a Sunday; 13:23:45Z is 14:23:45 CET
    expect(localParts(utc('2026-03-15T13:23:45.678Z'), BERLIN)).toEqual({
      year: 2026,
      month: 3,
      day: 15,
      hour: 14,
      minute: 23,
      second: 45,
      weekday: 0,
    });
    // New Year's Eve 23:00Z is already 2027-01-01 00:00 in Berlin, a Friday
    expect(localParts(utc('2026-12-31T23:00:00Z'), BERLIN)).toEqual({
      year: 2027,
      month: 1,
      day: 1,
      hour: 0,
      minute: 0,
      second: 0,
      weekday: 5,
    });
    expect(localParts(utc('2026-03-14T18:45:00Z'), 'Asia/Kolkata')).toMatchObject({ day: 15, hour: 0, minute: 15, weekday: 0 });
  });

  it('agrees with Intl for many instants across years and zones', () => {
    const zones = [BERLIN, 'UTC', 'Asia/Kolkata', 'America/Sao_Paulo', 'America/New_York', 'Australia/Lord_Howe', 'Pacific/Chatham'];
    const failures: string[] = [];
    for (const tz of zones) {
      const reference = new Intl.DateTimeFormat('en-CA', {
        timeZone: tz,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
      });
      // every ~7h 13min across 2018-2027, so we hit every hour of the day in every season
      for (let ms = utc('2018-01-01T00:00:00Z'); ms < utc('2027-12-31T00:00:00Z'); ms += 26_000_123) {
        const p = localParts(ms, tz);
        const ours = `${localDateKey(ms, tz)}, ${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
        const theirs = reference.format(ms);
        if (ours !== theirs) failures.push(`${tz} ${toIsoUtc(ms)}: ${ours} != ${theirs}`);
      }
    }
    expect(failures).toEqual([]);
  }, 20_000);
});

describe('keys', () => {
  it('localDateKey and localMonthKey follow the Berlin calendar', () => {
    expect(localDateKey(utc('2026-03-31T21:59:59Z'), BERLIN)).toBe('2026-03-31');
    expect(localDateKey(utc('2026-03-31T22:00:00Z'), BERLIN)).toBe('2026-04-01');
    expect(localMonthKey(utc('2026-03-31T22:30:00Z'), BERLIN)).toBe('2026-04');
    expect(localMonthKey(utc('2026-03-31T22:30:00Z'), 'UTC')).toBe('2026-03');
    expect(formatLocalDate(utc('2026-03-31T22:30:00Z'), BERLIN)).toBe('2026-04-01');
  });

  it('does calendar arithmetic on date keys', () => {
    expect(addLocalDays('2026-03-31', 1)).toBe('2026-04-01');
    expect(addLocalDays('2026-01-01', -1)).toBe('2025-12-31');
    expect(addLocalDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addLocalDays('2025-02-28', 1)).toBe('2025-03-01');
    expect(addLocalDays('2026-03-15', 0)).toBe('2026-03-15');
    expect(addLocalDays('2026-03-15', 365)).toBe('2027-03-15');
    expect(addLocalDays('2000-03-01', -1)).toBe('2000-02-29');
    expect(addLocalDays('1900-03-01', -1)).toBe('1900-02-28');
    expectCode(() => addLocalDays('2026-02-30', 1), 'INVALID_DATE');
  });

  it('knows month lengths and neighbours', () => {
    expect(daysInMonth('2026-02')).toBe(28);
    expect(daysInMonth('2024-02')).toBe(29);
    expect(daysInMonth('2000-02')).toBe(29);
    expect(daysInMonth('2100-02')).toBe(28);
    expect(daysInMonth('2026-04')).toBe(30);
    expect(daysInMonth('2026-12')).toBe(31);
    expect(previousMonthKey('2026-01')).toBe('2025-12');
    expect(previousMonthKey('2026-03')).toBe('2026-02');
    expect(nextMonthKey('2026-12')).toBe('2027-01');
    expect(nextMonthKey('2026-09')).toBe('2026-10');
    expectCode(() => nextMonthKey('2026-13'), 'INVALID_DATE');
    expectCode(() => daysInMonth('2026-3'), 'INVALID_DATE');
  });
});

describe('period bounds in Europe/Berlin', () => {
  it('puts 2026-03-31T22:30Z into April', () => {
    const bounds = periodBounds(utc('2026-03-31T22:30:00Z'), 'month', BERLIN);
    expect(bounds.key).toBe('2026-04');
    expect(toIsoUtc(bounds.startMs)).toBe('2026-03-31T22:00:00.000Z');
    expect(toIsoUtc(bounds.endMs)).toBe('2026-04-30T22:00:00.000Z');
    const day = periodBounds(utc('2026-03-31T22:30:00Z'), 'day', BERLIN);
    expect(day.key).toBe('2026-04-01');
    expect(toIsoUtc(day.startMs)).toBe('2026-03-31T22:00:00.000Z');
    expect(toIsoUtc(day.endMs)).toBe('2026-04-01T22:00:00.000Z');
  });

  it('spring-forward day 2026-03-29 has 23 hours', () => {
    const { startMs, endMs, key } = dayBounds('2026-03-29', BERLIN);
    expect(key).toBe('2026-03-29');
    expect(toIsoUtc(startMs)).toBe('2026-03-28T23:00:00.000Z');
    expect(toIsoUtc(endMs)).toBe('2026-03-29T22:00:00.000Z');
    expect(endMs - startMs).toBe(23 * HOUR);
  });

  it('fall-back day 2026-10-25 has 25 hours', () => {
    const { startMs, endMs } = dayBounds('2026-10-25', BERLIN);
    expect(toIsoUtc(startMs)).toBe('2026-10-24T22:00:00.000Z');
    expect(toIsoUtc(endMs)).toBe('2026-10-25T23:00:00.000Z');
    expect(endMs - startMs).toBe(25 * HOUR);
  });

  it('ordinary days have 24 hours', () => {
    const { startMs, endMs } = dayBounds('2026-03-28', BERLIN);
    expect(endMs - startMs).toBe(24 * HOUR);
  });

  it('March 2026 starts in CET and ends in CEST', () => {
    const { startMs, endMs, key } = monthBounds('2026-03', BERLIN);
    expect(key).toBe('2026-03');
    expect(toIsoUtc(startMs)).toBe('2026-02-28T23:00:00.000Z');
    expect(toIsoUtc(endMs)).toBe('2026-03-31T22:00:00.000Z');
    expect(endMs - startMs).toBe((31 * 24 - 1) * HOUR);
  });

  it('October 2026 starts in CEST and ends in CET', () => {
    const { startMs, endMs } = monthBounds('2026-10', BERLIN);
    expect(toIsoUtc(startMs)).toBe('2026-09-30T22:00:00.000Z');
    expect(toIsoUtc(endMs)).toBe('2026-10-31T23:00:00.000Z');
    expect(endMs - startMs).toBe((31 * 24 + 1) * HOUR);
  });

  it('consecutive periods tile without gaps or overlaps', () => {
    let month = '2025-11';
    for (let i = 0; i < 14; i += 1) {
      const next = nextMonthKey(month);
      expect(monthBounds(month, BERLIN).endMs).toBe(monthBounds(next, BERLIN).startMs);
      month = next;
    }
    let day = '2026-03-27';
    for (let i = 0; i < 5; i += 1) {
      const next = addLocalDays(day, 1);
      expect(dayBounds(day, BERLIN).endMs).toBe(dayBounds(next, BERLIN).startMs);
      day = next;
    }
  });

  it('every instant lies in its own period, and localMidnightUtc(localDateKey(x)) <= x', () => {
    const zones = [BERLIN, 'UTC', 'Asia/Kolkata', 'America/Sao_Paulo', 'America/New_York'];
    const failures: string[] = [];
    for (const tz of zones) {
      // every ~5h 33min from late 2018 to 2026, through every DST switch of these zones in that range
      for (let ms = utc('2018-10-01T00:00:00Z'); ms < utc('2027-01-01T00:00:00Z'); ms += 19_999_999) {
        const key = localDateKey(ms, tz);
        const midnight = localMidnightUtc(key, tz);
        if (!(midnight <= ms && ms - midnight < 25 * HOUR)) failures.push(`${tz} ${toIsoUtc(ms)}: midnight ${toIsoUtc(midnight)}`);
        for (const period of ['day', 'month'] as const) {
          const bounds = periodBounds(ms, period, tz);
          if (!(bounds.startMs <= ms && ms < bounds.endMs)) failures.push(`${tz} ${toIsoUtc(ms)} outside its ${period} ${bounds.key}`);
          const expectedKey = period === 'day' ? key : localMonthKey(ms, tz);
          if (bounds.key !== expectedKey) failures.push(`${tz} ${toIsoUtc(ms)} ${period} key ${bounds.key} != ${expectedKey}`);
        }
      }
    }
    expect(failures).toEqual([]);
  }, 20_000);
});

describe('a zone whose midnight did not exist (America/Sao_Paulo)', () => {
  // Brazil moved clocks from 00:00 to 01:00 on 2018-11-04 and from 00:00 back to 23:00 on 2019-02-17.
  it('2018-11-04 begins at 01:00 local, the first instant that existed', () => {
    const start = localMidnightUtc('2018-11-04', 'America/Sao_Paulo');
    expect(toIsoUtc(start)).toBe('2018-11-04T03:00:00.000Z');
    expect(localParts(start, 'America/Sao_Paulo')).toMatchObject({ day: 4, hour: 1, minute: 0 });
    expect(localDateKey(start - 1, 'America/Sao_Paulo')).toBe('2018-11-03');
    const { startMs, endMs } = dayBounds('2018-11-04', 'America/Sao_Paulo');
    expect(endMs - startMs).toBe(23 * HOUR);
  });

  it('2019-02-16 has 25 hours (23:00-24:00 happened twice)', () => {
    const { startMs, endMs } = dayBounds('2019-02-16', 'America/Sao_Paulo');
    expect(toIsoUtc(startMs)).toBe('2019-02-16T02:00:00.000Z');
    expect(toIsoUtc(endMs)).toBe('2019-02-17T03:00:00.000Z');
    expect(endMs - startMs).toBe(25 * HOUR);
  });

  it('has no DST since 2019', () => {
    expect(utcOffsetMinutes(utc('2026-01-15T12:00:00Z'), 'America/Sao_Paulo')).toBe(-180);
    const { startMs, endMs } = dayBounds('2026-11-01', 'America/Sao_Paulo');
    expect(endMs - startMs).toBe(24 * HOUR);
  });
});

describe('parseMonthInput', () => {
  it('accepts YYYY-MM', () => {
    expect(parseMonthInput('2026-03', '--month')).toBe('2026-03');
    expect(parseMonthInput(' 2026-12 ', '--month')).toBe('2026-12');
    expect(parseMonthInput('2000-01', '--month')).toBe('2000-01');
    expect(parseMonthInput('2999-12', '--month')).toBe('2999-12');
  });

  it.each(['2026-13', '2026-00', '2026-3', '26-03', '2026/03', '03-2026', '2026-03-01', 'March', '', '1999-12', '3000-01'])(
    'rejects %j with INVALID_DATE naming the field',
    (text) => {
      const error = expectCode(() => parseMonthInput(text, '--month'), 'INVALID_DATE', '--month');
      expect(error.hint).toBe('use YYYY-MM, like 2026-03');
    },
  );
});

describe('parseInstantInput', () => {
  it('reads a bare date as local midnight, or the next local midnight with endOfDay', () => {
    expect(toIsoUtc(parseInstantInput('2026-03-15', '--from', BERLIN))).toBe('2026-03-14T23:00:00.000Z');
    expect(toIsoUtc(parseInstantInput('2026-03-15', '--to', BERLIN, { endOfDay: true }))).toBe('2026-03-15T23:00:00.000Z');
    expect(toIsoUtc(parseInstantInput('2026-03-29', '--to', BERLIN, { endOfDay: true }))).toBe('2026-03-29T22:00:00.000Z');
    expect(toIsoUtc(parseInstantInput('2026-03-15', '--from', 'UTC'))).toBe('2026-03-15T00:00:00.000Z');
    expect(toIsoUtc(parseInstantInput('2026-12-31', '--to', 'UTC', { endOfDay: true }))).toBe('2027-01-01T00:00:00.000Z');
  });

  it('reads a date-time without offset as local wall time', () => {
    expect(toIsoUtc(parseInstantInput('2026-03-15T14:23', '--at', BERLIN))).toBe('2026-03-15T13:23:00.000Z');
    expect(toIsoUtc(parseInstantInput('2026-07-15T14:23:05', '--at', BERLIN))).toBe('2026-07-15T12:23:05.000Z');
    expect(toIsoUtc(parseInstantInput('2026-07-15T14:23:05.120', '--at', BERLIN))).toBe('2026-07-15T12:23:05.120Z');
    expect(toIsoUtc(parseInstantInput('2026-03-15T05:30', '--at', 'Asia/Kolkata'))).toBe('2026-03-15T00:00:00.000Z');
    // endOfDay does not move an explicit time
    expect(toIsoUtc(parseInstantInput('2026-03-15T14:23', '--to', BERLIN, { endOfDay: true }))).toBe('2026-03-15T13:23:00.000Z');
  });

  it('refuses DST-ambiguous and skipped local times instead of guessing (see below), and reads them with an offset', () => {
    expect(() => parseInstantInput('2026-03-29T02:30', '--at', BERLIN)).toThrow(/does not exist in Europe\/Berlin/);
    expect(() => parseInstantInput('2026-10-25T02:30', '--at', BERLIN)).toThrow(/happens twice in Europe\/Berlin/);
    expect(toIsoUtc(parseInstantInput('2026-03-29T03:30+02:00', '--at', BERLIN))).toBe('2026-03-29T01:30:00.000Z');
    expect(toIsoUtc(parseInstantInput('2026-10-25T02:30+02:00', '--at', BERLIN))).toBe('2026-10-25T00:30:00.000Z');
  });

  it('reads an explicit offset as an exact instant, whatever the zone', () => {
    expect(toIsoUtc(parseInstantInput('2026-03-15T14:23:00+01:00', '--at', 'UTC'))).toBe('2026-03-15T13:23:00.000Z');
    expect(toIsoUtc(parseInstantInput('2026-03-15T14:23:00Z', '--at', BERLIN))).toBe('2026-03-15T14:23:00.000Z');
    expect(toIsoUtc(parseInstantInput('2026-03-15T14:23:00.5Z', '--at', BERLIN))).toBe('2026-03-15T14:23:00.500Z');
    expect(toIsoUtc(parseInstantInput('2026-03-15T14:23:00.123456Z', '--at', BERLIN))).toBe('2026-03-15T14:23:00.123Z');
    expect(toIsoUtc(parseInstantInput('2026-03-15T00:15-05:30', '--at', BERLIN))).toBe('2026-03-15T05:45:00.000Z');
    expect(toIsoUtc(parseInstantInput('2026-03-15T14:23:00+0530', '--at', BERLIN))).toBe('2026-03-15T08:53:00.000Z');
  });

  it.each([
    '2026-02-30',
    '2025-02-29',
    '2026-04-31',
    '2026-13-01',
    '2026-00-10',
    '2026-03-00',
    '2026-03-15T24:00',
    '2026-03-15T12:60',
    '2026-03-15T12:30:60',
    '2026-03-15T12:30+25:00',
    '2026-03-15T12',
    '2026-3-15',
    '15.03.2026',
    '03/15/2026',
    'March 15, 2026',
    'yesterday',
    '2026-03-15T14:23:00 +01:00',
    '2026-03-15Z',
    '1710512580000',
    '',
    '   ',
  ])('rejects %j with INVALID_DATE naming the field', (text) => {
    const error = expectCode(() => parseInstantInput(text, '--from', BERLIN), 'INVALID_DATE', '--from');
    expect(error.hint).toBe('use YYYY-MM-DD or ISO 8601 like 2026-03-15T14:23:00+01:00');
  });

  it('says "is not a date" and quotes the input', () => {
    expectCode(() => parseInstantInput('2026-02-30', '--from', BERLIN), 'INVALID_DATE', '--from "2026-02-30" is not a date');
  });

  it('round-trips local dates through localDateKey', () => {
    for (const key of ['2026-01-01', '2026-03-29', '2026-10-25', '2026-12-31']) {
      expect(localDateKey(parseInstantInput(key, '--from', BERLIN), BERLIN)).toBe(key);
    }
  });
});

describe('formatting', () => {
  it('formats German style, zero-padded', () => {
    expect(formatLocalDateTime(utc('2024-03-15T13:23:00Z'), BERLIN)).toBe('15.03.2024, 14:23');
    expect(formatLocalDateTime(utc('2024-01-02T03:04:59Z'), 'UTC')).toBe('02.01.2024, 03:04');
    expect(formatLocalDateTime(utc('2026-10-25T00:30:00Z'), BERLIN)).toBe('25.10.2026, 02:30');
    expect(formatLocalDateTime(utc('2026-10-25T01:30:00Z'), BERLIN)).toBe('25.10.2026, 02:30');
  });

  it('formats dates and ISO instants', () => {
    expect(formatLocalDate(utc('2024-03-15T23:30:00Z'), BERLIN)).toBe('2024-03-16');
    expect(toIsoUtc(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(toIsoUtc(utc('2026-03-15T14:23:00.123Z'))).toBe('2026-03-15T14:23:00.123Z');
  });
});

describe('local times that do not name one instant', () => {
  it('refuses a time the clocks skipped, naming the nearest readings', () => {
    const error = refusal(() => parseInstantInput('2026-03-29T02:30', '--at', 'Europe/Berlin'));
    expect(error.code).toBe('INVALID_DATE');
    expect(error.message).toBe(
      '--at "2026-03-29T02:30" does not exist in Europe/Berlin (the clocks skipped it): the nearest readings are 2026-03-29T01:30:00+01:00 and 2026-03-29T03:30:00+02:00',
    );
    expect(refusal(() => parseInstantInput('2026-03-08T02:15:00', '--since', 'America/New_York')).message).toContain(
      '01:15:00-05:00 and 2026-03-08T03:15:00-04:00',
    );
  });

  it('refuses a time that happens twice, naming both instants', () => {
    const error = refusal(() => parseInstantInput('2026-10-25T02:30', '--until', 'Europe/Berlin'));
    expect(error.message).toBe(
      '--until "2026-10-25T02:30" happens twice in Europe/Berlin (the clocks went back): it is 2026-10-25T02:30:00+02:00 or 2026-10-25T02:30:00+01:00',
    );
    expect(error.hint).toContain('give the offset');
    expect(refusal(() => parseInstantInput('2026-11-01T01:59:59', '--at', 'America/New_York')).message).toContain(
      '01:59:59-04:00 or 2026-11-01T01:59:59-05:00',
    );
  });

  it('takes either reading once the offset is given, and the hours around the change as they are', () => {
    expect(parseInstantInput('2026-10-25T02:30:00+02:00', '--at', 'Europe/Berlin')).toBe(Date.parse('2026-10-25T00:30:00Z'));
    expect(parseInstantInput('2026-10-25T02:30:00+01:00', '--at', 'Europe/Berlin')).toBe(Date.parse('2026-10-25T01:30:00Z'));
    expect(parseInstantInput('2026-03-29T01:59:59', '--at', 'Europe/Berlin')).toBe(Date.parse('2026-03-29T00:59:59Z'));
    expect(parseInstantInput('2026-03-29T03:00', '--at', 'Europe/Berlin')).toBe(Date.parse('2026-03-29T01:00:00Z'));
    expect(parseInstantInput('2026-10-25T03:00', '--at', 'Europe/Berlin')).toBe(Date.parse('2026-10-25T02:00:00Z'));
    expect(parseInstantInput('2026-10-25T01:59', '--at', 'Europe/Berlin')).toBe(Date.parse('2026-10-24T23:59:00Z'));
    // A date alone is the start of the day, even on the day of a change.
    expect(parseInstantInput('2026-03-29', '--since', 'Europe/Berlin')).toBe(Date.parse('2026-03-28T23:00:00Z'));
  });
});
