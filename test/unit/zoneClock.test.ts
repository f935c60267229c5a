import { afterAll, describe, expect, it } from 'vitest';
import { processZoneClock } from '../../src/cli/zoneClock.js';
import { installZoneClock, localDateKey, monthBounds, utcOffsetMinutes } from '../../src/core/time.js';

/**
 * The command line answers zone offsets from the process clock (TZ) instead of Intl: both must
 * give the same offset for every instant, across DST changes and odd historic offsets, and an
 * unknown or miscased name must fall back to Intl (which refuses it or knows it) rather than
 * silently count as UTC.
 */
const ZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham', 'UTC', 'Etc/GMT+5'];
const savedTz = process.env.TZ;

afterAll(() => {
  installZoneClock(undefined);
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

function instants(): number[] {
  const list: number[] = [];
  // Every 7 h 13 min over 2025-2027 (DST changes of both hemispheres), and some older instants.
  for (let at = Date.UTC(2025, 0, 1); at < Date.UTC(2027, 11, 31); at += 26_000_000) list.push(at);
  list.push(Date.UTC(1900, 5, 1), Date.UTC(1970, 0, 1), Date.UTC(1995, 2, 26, 1, 30));
  return list;
}

describe('the process clock as the source of zone offsets', () => {
  it('gives the same offsets, days and months as Intl in every zone', () => {
    const points = instants();
    for (const zone of ZONES) {
      installZoneClock(undefined);
      const fromIntl = points.map((at) => [utcOffsetMinutes(at, zone), localDateKey(at, zone)]);
      const months = ['2026-03', '2026-10', '2027-04'].map((month) => monthBounds(month, zone));
      installZoneClock(processZoneClock);
      expect(points.map((at) => [utcOffsetMinutes(at, zone), localDateKey(at, zone)])).toEqual(fromIntl);
      expect(['2026-03', '2026-10', '2027-04'].map((month) => monthBounds(month, zone))).toEqual(months);
    }
  });

  it('answers for one zone after another, setting TZ each time', () => {
    installZoneClock(processZoneClock);
    const summer = Date.UTC(2026, 6, 1, 12);
    expect(utcOffsetMinutes(summer, 'Europe/Berlin')).toBe(120);
    expect(utcOffsetMinutes(summer, 'America/New_York')).toBe(-240);
    expect(utcOffsetMinutes(summer + 3_600_000 * 24 * 180, 'Europe/Berlin')).toBe(60);
  });

  it('declines a zone ICU does not know, or knows only in another case, so Intl decides', () => {
    expect(processZoneClock('Mars/Olympus_Mons')).toBeUndefined();
    expect(processZoneClock('europe/berlin')).toBeUndefined();
    installZoneClock(processZoneClock);
    // Intl knows the miscased name: Berlin's offset, not the 0 that TZ=europe/berlin would give.
    expect(utcOffsetMinutes(Date.UTC(2026, 6, 1), 'europe/berlin')).toBe(120);
    expect(() => utcOffsetMinutes(Date.UTC(2026, 6, 1), 'Mars/Olympus_Mons')).toThrow(/not a known time zone/);
  });
});
