import { subjectOf } from './names.js';
import { closest } from './suggest.js';
import { CreditsError } from './errors.js';

/**
 * Calendar periods (days, months) in the organisation's IANA time zone, correct across DST.
 *
 * Every instant is a UTC epoch millisecond count (`number`). Local calendar dates are carried as
 * keys: 'YYYY-MM-DD' for a day, 'YYYY-MM' for a month. Offsets come from Intl.DateTimeFormat; the
 * formatter of each zone is built once, and the offset of each UTC hour is cached per zone, so the
 * hot paths (localDateKey, periodStartUtc-style lookups) cost a Map lookup and some integer maths.
 */

export const DEFAULT_TIME_ZONE = 'Europe/Berlin';

export type LocalParts = {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday .. 6 = Saturday */
  weekday: number;
};

export type Period = 'day' | 'month';

export type PeriodBounds = { startMs: number; endMs: number; key: string };

const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;
/** Bound on the per-zone offset cache: about 11 years of distinct hours. */
const MAX_CACHED_HOURS = 100_000;

const TIMEZONE_HINT = 'use an IANA name such as Europe/Berlin or UTC';
const MONTH_HINT = 'use YYYY-MM, like 2026-03';
const INSTANT_HINT = 'use YYYY-MM-DD or ISO 8601 like 2026-03-15T14:23:00+01:00';

// ---------------------------------------------------------------------------------------------
// Civil calendar arithmetic (proleptic Gregorian, no Date objects, no zone).
// Algorithms from Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms".
// ---------------------------------------------------------------------------------------------

/** Days since 1970-01-01 of a civil date (month 1-12). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

type Civil = { year: number; month: number; day: number };

function civilFromDays(days: number): Civil {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: month <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, month, day };
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function monthLength(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function pad4(n: number): string {
  if (n >= 1000) return String(n);
  if (n >= 0) return String(n).padStart(4, '0');
  return `-${String(-n).padStart(4, '0')}`;
}

function formatDateKey(year: number, month: number, day: number): string {
  return `${pad4(year)}-${pad2(month)}-${pad2(day)}`;
}

function formatMonthKey(year: number, month: number): string {
  return `${pad4(year)}-${pad2(month)}`;
}

/** Wall-clock fields read as if they were UTC, in milliseconds. */
function wallMs(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  return daysFromCivil(year, month, day) * MS_PER_DAY + hour * MS_PER_HOUR + minute * MS_PER_MINUTE + second * MS_PER_SECOND + ms;
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

const DATE_KEY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH_KEY = /^(\d{4})-(\d{2})$/;

function parseDateKey(dateKey: string): Civil {
  const match = DATE_KEY.exec(dateKey);
  if (match) {
    const year = Number(match[1]);
    const month = Number(match[2]);
    const day = Number(match[3]);
    if (month >= 1 && month <= 12 && day >= 1 && day <= monthLength(year, month)) return { year, month, day };
  }
  throw new CreditsError('INVALID_DATE', `date "${dateKey}" is not a calendar date in the form YYYY-MM-DD`, {
    hint: 'use YYYY-MM-DD, like 2026-03-15',
  });
}

function parseMonthKey(monthKey: string): { year: number; month: number } {
  const match = MONTH_KEY.exec(monthKey);
  if (match) {
    const year = Number(match[1]);
    const month = Number(match[2]);
    if (month >= 1 && month <= 12) return { year, month };
  }
  throw new CreditsError('INVALID_DATE', `month "${monthKey}" is not a month in the form YYYY-MM`, { hint: MONTH_HINT });
}

/** Calendar arithmetic on 'YYYY-MM-DD' keys; no zone is involved. */
export function addLocalDays(dateKey: string, days: number): string {
  if (!Number.isInteger(days)) throw new CreditsError('INVALID_VALUE', `cannot add ${days} days to ${dateKey}: days must be a whole number`);
  const { year, month, day } = parseDateKey(dateKey);
  const shifted = civilFromDays(daysFromCivil(year, month, day) + days);
  return formatDateKey(shifted.year, shifted.month, shifted.day);
}

/** 0 = Sunday .. 6 = Saturday, for a local date 'YYYY-MM-DD'. */
export function weekdayOf(dateKey: string): number {
  const { year, month, day } = parseDateKey(dateKey);
  return (((daysFromCivil(year, month, day) + 4) % 7) + 7) % 7;
}

export function daysInMonth(monthKey: string): number {
  const { year, month } = parseMonthKey(monthKey);
  return monthLength(year, month);
}

export function previousMonthKey(monthKey: string): string {
  const { year, month } = parseMonthKey(monthKey);
  return month === 1 ? formatMonthKey(year - 1, 12) : formatMonthKey(year, month - 1);
}

export function nextMonthKey(monthKey: string): string {
  const { year, month } = parseMonthKey(monthKey);
  return month === 12 ? formatMonthKey(year + 1, 1) : formatMonthKey(year, month + 1);
}

// ---------------------------------------------------------------------------------------------
// Zones and offsets
// ---------------------------------------------------------------------------------------------

type Zone = {
  /** The offset (local wall clock minus UTC, ms) at an instant: the formatter's, or the zone clock's. */
  offsetAt: (instantMs: number) => number;
  /** UTC hour index (floor(ms / 1h)) -> offset in ms, only for hours without a transition. */
  hours: Map<number, number>;
  lastHour: number;
  lastOffsetMs: number;
  /** Local day index (days since 1970-01-01 on the wall calendar) -> UTC instant the day begins. */
  midnights: Map<number, number>;
};

const zones = new Map<string, Zone>();

/**
 * Offsets of a zone from somewhere other than Intl: (tz) => the offset in ms at an instant, or
 * undefined to use Intl. The first Intl.DateTimeFormat of a process costs about 17 ms of ICU
 * set-up, most of what a short command spends on time zones; the command line installs the
 * process's own clock instead (cli/zoneClock.ts), which answers the same offsets in 0.2 ms.
 * Checking that a zone name is valid always asks Intl (isValidTimeZone), so only names that were
 * checked when they were stored reach a clock.
 */
export type ZoneClock = (tz: string) => ((instantMs: number) => number | undefined) | undefined;
let zoneClock: ZoneClock | undefined;

export function installZoneClock(clock: ZoneClock | undefined): void {
  zoneClock = clock;
  zones.clear();
}

/** The offset of each instant in `tz`, read from an Intl formatter; throws INVALID_TIMEZONE for an unknown zone. */
function formatterOffsets(tz: string): (instantMs: number) => number {
  let formatter: Intl.DateTimeFormat;
  try {
    if (typeof tz !== 'string' || tz.trim() === '') throw new RangeError('empty time zone');
    formatter = buildFormatter(tz);
  } catch {
    throw invalidTimeZone(String(tz), 'time zone');
  }
  return (instantMs) => computeOffsetMs(formatter, instantMs);
}

function buildFormatter(tz: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    era: 'short',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
}

/** The zone a person most likely meant: "Berlin" -> Europe/Berlin, "europe/berln" -> Europe/Berlin. */
function nearestTimeZone(tz: string): string | undefined {
  const zones = Intl.supportedValuesOf('timeZone');
  const city = (zone: string): string => zone.slice(zone.lastIndexOf('/') + 1).toLowerCase();
  const wanted = tz.trim().toLowerCase().replace(/ /g, '_');
  const sameCity = zones.find((zone) => city(zone) === wanted);
  if (sameCity) return sameCity;
  const whole = closest(tz.trim(), zones);
  if (whole) return whole;
  const nearCity = closest(wanted, zones.map(city));
  return nearCity === undefined ? undefined : zones.find((zone) => city(zone) === nearCity);
}

/** A field of '' (a prompt's answer) starts the message with what was typed. */
function invalidTimeZone(tz: string, field: string): CreditsError {
  const near = nearestTimeZone(tz);
  return new CreditsError('INVALID_TIMEZONE', `${subjectOf(field, tz)} is not a known time zone${near ? `; did you mean ${near}?` : ''}`, {
    hint: near ? `did you mean ${near}? ${TIMEZONE_HINT}` : TIMEZONE_HINT,
  });
}

function zoneFor(tz: string): Zone {
  let zone = zones.get(tz);
  if (zone === undefined) {
    const clock = typeof tz === 'string' && tz.trim() !== '' ? zoneClock?.(tz) : undefined;
    const offsetAt = clock === undefined ? formatterOffsets(tz) : clockedOffsets(tz, clock);
    zone = { offsetAt, hours: new Map(), lastHour: Number.NaN, lastOffsetMs: 0, midnights: new Map() };
    zones.set(tz, zone);
  }
  return zone;
}

/** The clock's offsets; an instant it does not answer for (cli/zoneClock.ts) asks Intl, made then. */
function clockedOffsets(tz: string, clock: (instantMs: number) => number | undefined): (instantMs: number) => number {
  let intl: ((instantMs: number) => number) | undefined;
  return (instantMs) => {
    const offsetMs = clock(instantMs);
    if (offsetMs !== undefined) return offsetMs;
    intl ??= formatterOffsets(tz);
    return intl(instantMs);
  };
}

/** Zone names Intl accepted, whichever source answers their offsets. */
const validZones = new Set<string>();

export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.trim() === '' || tz !== tz.trim()) return false;
  if (validZones.has(tz)) return true;
  try {
    formatterOffsets(tz);
    validZones.add(tz);
    return true;
  } catch {
    return false;
  }
}

/** Returns the zone name unchanged (trimmed) when Intl knows it; throws INVALID_TIMEZONE otherwise. */
export function assertTimeZone(tz: string, field = '--timezone'): string {
  const trimmed = typeof tz === 'string' ? tz.trim() : '';
  if (trimmed === '') {
    throw new CreditsError('INVALID_TIMEZONE', `${field || 'the time zone'} is empty`, { hint: TIMEZONE_HINT });
  }
  if (!isValidTimeZone(trimmed)) throw invalidTimeZone(trimmed, field);
  return trimmed;
}

function assertInstant(instantMs: number): void {
  if (typeof instantMs !== 'number' || !Number.isFinite(instantMs) || Math.abs(instantMs) > 8.64e15) {
    throw new CreditsError('INTERNAL', `invariant broken: ${String(instantMs)} is not an epoch-millisecond instant`);
  }
}

/** Offset (local wall clock minus UTC) in ms, read from the formatter. Resolution: one second. */
function computeOffsetMs(formatter: Intl.DateTimeFormat, instantMs: number): number {
  const parts = formatter.formatToParts(instantMs);
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let bc = false;
  for (const part of parts) {
    switch (part.type) {
      case 'year':
        year = Number(part.value);
        break;
      case 'month':
        month = Number(part.value);
        break;
      case 'day':
        day = Number(part.value);
        break;
      case 'hour':
        hour = Number(part.value) % 24;
        break;
      case 'minute':
        minute = Number(part.value);
        break;
      case 'second':
        second = Number(part.value);
        break;
      case 'era':
        bc = part.value.startsWith('B');
        break;
      default:
        break;
    }
  }
  if (bc) year = 1 - year;
  const wholeSecond = Math.floor(instantMs / MS_PER_SECOND) * MS_PER_SECOND;
  return wallMs(year, month, day, hour, minute, second, 0) - wholeSecond;
}

function offsetMs(zone: Zone, instantMs: number): number {
  const hourIndex = Math.floor(instantMs / MS_PER_HOUR);
  if (hourIndex === zone.lastHour) return zone.lastOffsetMs;
  const cached = zone.hours.get(hourIndex);
  if (cached !== undefined) {
    zone.lastHour = hourIndex;
    zone.lastOffsetMs = cached;
    return cached;
  }
  const hourStart = hourIndex * MS_PER_HOUR;
  const atStart = zone.offsetAt(hourStart);
  const atEnd = zone.offsetAt(hourStart + MS_PER_HOUR - MS_PER_SECOND);
  // An offset change inside this hour: do not cache, answer for the exact instant.
  if (atStart !== atEnd) return zone.offsetAt(instantMs);
  if (zone.hours.size >= MAX_CACHED_HOURS) zone.hours.clear();
  zone.hours.set(hourIndex, atStart);
  zone.lastHour = hourIndex;
  zone.lastOffsetMs = atStart;
  return atStart;
}

/** Minutes the local wall clock is ahead of UTC at that instant (Berlin winter: 60, Kolkata: 330). */
export function utcOffsetMinutes(instantMs: number, tz: string): number {
  assertInstant(instantMs);
  return offsetMs(zoneFor(tz), instantMs) / MS_PER_MINUTE;
}

/** Local wall-clock time read as if it were UTC. */
function localWallMs(instantMs: number, tz: string): number {
  assertInstant(instantMs);
  return instantMs + offsetMs(zoneFor(tz), instantMs);
}

export function localParts(instantMs: number, tz: string): LocalParts {
  const wall = localWallMs(instantMs, tz);
  const days = Math.floor(wall / MS_PER_DAY);
  const msOfDay = wall - days * MS_PER_DAY;
  const { year, month, day } = civilFromDays(days);
  return {
    year,
    month,
    day,
    hour: Math.floor(msOfDay / MS_PER_HOUR),
    minute: Math.floor((msOfDay % MS_PER_HOUR) / MS_PER_MINUTE),
    second: Math.floor((msOfDay % MS_PER_MINUTE) / MS_PER_SECOND),
    weekday: (((days + 4) % 7) + 7) % 7, // 1970-01-01 was a Thursday
  };
}

export function localDateKey(instantMs: number, tz: string): string {
  const { year, month, day } = civilFromDays(Math.floor(localWallMs(instantMs, tz) / MS_PER_DAY));
  return formatDateKey(year, month, day);
}

export function localMonthKey(instantMs: number, tz: string): string {
  const { year, month } = civilFromDays(Math.floor(localWallMs(instantMs, tz) / MS_PER_DAY));
  return formatMonthKey(year, month);
}

/**
 * The UTC instant of a local wall-clock time, disambiguated like Temporal's 'compatible':
 * a time that occurs twice (autumn) resolves to the earlier instant; a time skipped by a gap
 * (spring) is read with the offset from before the gap, which lands just as far past the gap.
 * For a midnight inside a gap that is exactly the first instant of the day. Days start here;
 * a time a person types goes through uniqueWallToUtc, which refuses both cases instead.
 */
function wallToUtcIn(zone: Zone, wall: number): number {
  const before = offsetMs(zone, wall - MS_PER_DAY);
  const after = offsetMs(zone, wall + MS_PER_DAY);
  const earlier = wall - Math.max(before, after);
  const later = wall - Math.min(before, after);
  if (offsetMs(zone, earlier) === Math.max(before, after)) return earlier;
  if (offsetMs(zone, later) === Math.min(before, after)) return later;
  // In a gap: no instant shows this wall time. Read it with the offset in force before the gap.
  return wall - before;
}

/** Start of a local day (given as its index on the wall calendar), cached per zone. */
function midnightOfDay(zone: Zone, dayIndex: number): number {
  const cached = zone.midnights.get(dayIndex);
  if (cached !== undefined) return cached;
  const startMs = wallToUtcIn(zone, dayIndex * MS_PER_DAY);
  if (zone.midnights.size >= MAX_CACHED_HOURS) zone.midnights.clear();
  zone.midnights.set(dayIndex, startMs);
  return startMs;
}

/** The UTC instant at which the local date begins (first existing instant if midnight is skipped). */
export function localMidnightUtc(dateKey: string, tz: string): number {
  const { year, month, day } = parseDateKey(dateKey);
  return midnightOfDay(zoneFor(tz), daysFromCivil(year, month, day));
}

function dayBoundsOf(zone: Zone, dayIndex: number, key: string): PeriodBounds {
  return { startMs: midnightOfDay(zone, dayIndex), endMs: midnightOfDay(zone, dayIndex + 1), key };
}

function monthBoundsOf(zone: Zone, year: number, month: number, key: string): PeriodBounds {
  const first = daysFromCivil(year, month, 1);
  return { startMs: midnightOfDay(zone, first), endMs: midnightOfDay(zone, first + monthLength(year, month)), key };
}

export function dayBounds(dateKey: string, tz: string): PeriodBounds {
  const { year, month, day } = parseDateKey(dateKey);
  return dayBoundsOf(zoneFor(tz), daysFromCivil(year, month, day), dateKey);
}

export function monthBounds(monthKey: string, tz: string): PeriodBounds {
  const { year, month } = parseMonthKey(monthKey);
  return monthBoundsOf(zoneFor(tz), year, month, monthKey);
}

/** The local day or month containing the instant, as a half-open UTC range [startMs, endMs). */
export function periodBounds(instantMs: number, period: Period, tz: string): PeriodBounds {
  assertInstant(instantMs);
  const zone = zoneFor(tz);
  const dayIndex = Math.floor((instantMs + offsetMs(zone, instantMs)) / MS_PER_DAY);
  const { year, month, day } = civilFromDays(dayIndex);
  switch (period) {
    case 'day':
      return dayBoundsOf(zone, dayIndex, formatDateKey(year, month, day));
    case 'month':
      return monthBoundsOf(zone, year, month, formatMonthKey(year, month));
    default: {
      const never: never = period;
      throw new CreditsError('INTERNAL', `invariant broken: unknown period ${String(never)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing what people type
// ---------------------------------------------------------------------------------------------

export function parseMonthInput(text: string, field: string): string {
  const trimmed = String(text ?? '').trim();
  if (trimmed === '') throw new CreditsError('INVALID_DATE', `${field} is empty`, { hint: MONTH_HINT });
  const match = MONTH_KEY.exec(trimmed);
  if (!match) throw new CreditsError('INVALID_DATE', `${field} "${trimmed}" is not a month`, { hint: MONTH_HINT });
  const year = Number(match[1]);
  const month = Number(match[2]);
  if (month < 1 || month > 12) {
    throw new CreditsError('INVALID_DATE', `${field} "${trimmed}" is not a month: months run from 01 to 12`, { hint: MONTH_HINT });
  }
  if (year < 2000 || year > 2999) {
    throw new CreditsError('INVALID_DATE', `${field} "${trimmed}" is not a month this ledger can hold: the year must be between 2000 and 2999`, {
      hint: MONTH_HINT,
    });
  }
  return trimmed;
}

const INSTANT_INPUT = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;

function digitAt(text: string, index: number): number {
  const code = text.charCodeAt(index) - 48;
  return code >= 0 && code <= 9 ? code : -1;
}

function digitsAt(text: string, index: number, count: number): number {
  let value = 0;
  for (let offset = 0; offset < count; offset += 1) {
    const digit = digitAt(text, index + offset);
    if (digit < 0) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * 'YYYY-MM-DDTHH:MM:SSZ', what exports and the API write, read without the regular expression:
 * the instant, or null for anything else (then the general parser decides, and names the problem).
 */
function plainUtcInstant(text: string): number | null {
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return null;
  const t = text.charCodeAt(10);
  const z = text.charCodeAt(19);
  if ((t !== 84 && t !== 116 && t !== 32) || (z !== 90 && z !== 122)) return null;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  if (
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > monthLength(year, month) ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 59
  )
    return null;
  return wallMs(year, month, day, hour, minute, second, 0);
}

/**
 * Parses a date or timestamp a person typed. 'YYYY-MM-DD' is local midnight in `tz` (with
 * endOfDay: the start of the next local day, for exclusive upper bounds). A date-time without an
 * offset is local wall time in `tz`; with 'Z' or '+01:00' it is that exact instant.
 */
export function parseInstantInput(text: string, field: string, tz: string, options: { endOfDay?: boolean } = {}): number {
  if (typeof text === 'string' && text.length === 20) {
    const fast = plainUtcInstant(text);
    if (fast !== null) return fast;
  }
  const trimmed = String(text ?? '').trim();
  const fail = (reason: string): CreditsError => new CreditsError('INVALID_DATE', `${field} "${trimmed}" is not a date${reason}`, { hint: INSTANT_HINT });
  if (trimmed === '') throw new CreditsError('INVALID_DATE', `${field} is empty`, { hint: INSTANT_HINT });
  const match = INSTANT_INPUT.exec(trimmed);
  if (!match) throw fail('');
  const [, y, mo, d, h, mi, s, frac, zulu, sign, offH, offM] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12) throw fail(': months run from 01 to 12');
  if (day < 1 || day > monthLength(year, month)) throw fail(`: ${formatMonthKey(year, month)} has ${monthLength(year, month)} days`);
  if (h === undefined) {
    const key = formatDateKey(year, month, day);
    return localMidnightUtc(options.endOfDay ? addLocalDays(key, 1) : key, tz);
  }
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  const millis = frac === undefined ? 0 : Number(frac.padEnd(3, '0').slice(0, 3));
  if (hour > 23) throw fail(': hours run from 00 to 23');
  if (minute > 59) throw fail(': minutes run from 00 to 59');
  if (second > 59) throw fail(': seconds run from 00 to 59');
  const wall = wallMs(year, month, day, hour, minute, second, millis);
  if (zulu !== undefined) return wall;
  if (sign !== undefined) {
    const oh = Number(offH);
    const om = offM === undefined ? 0 : Number(offM);
    if (oh > 23 || om > 59) throw fail(': the UTC offset is out of range');
    const offset = (oh * MS_PER_HOUR + om * MS_PER_MINUTE) * (sign === '-' ? -1 : 1);
    return wall - offset;
  }
  return uniqueWallToUtc(wall, tz, field, trimmed);
}

/** An instant as local time with its UTC offset, the form that names one instant: 2026-10-25T02:30:00+01:00. */
function localIsoWithOffset(zone: Zone, instantMs: number): string {
  const offset = offsetMs(zone, instantMs);
  const wall = instantMs + offset;
  const days = Math.floor(wall / MS_PER_DAY);
  const { year, month, day } = civilFromDays(days);
  const msOfDay = wall - days * MS_PER_DAY;
  const time = `${pad2(Math.floor(msOfDay / MS_PER_HOUR))}:${pad2(Math.floor((msOfDay % MS_PER_HOUR) / MS_PER_MINUTE))}:${pad2(Math.floor((msOfDay % MS_PER_MINUTE) / MS_PER_SECOND))}`;
  const minutes = Math.abs(offset) / MS_PER_MINUTE;
  return `${formatDateKey(year, month, day)}T${time}${offset < 0 ? '-' : '+'}${pad2(Math.floor(minutes / 60))}:${pad2(minutes % 60)}`;
}

/**
 * A local wall time without an offset, when it names exactly one instant. A time the clocks
 * skipped (spring) or passed twice (autumn) is refused with both readings rather than guessed:
 * an event or a bound an hour off would count in the wrong hour, or day.
 */
function uniqueWallToUtc(wall: number, tz: string, field: string, text: string): number {
  const zone = zoneFor(tz);
  const before = offsetMs(zone, wall - MS_PER_DAY);
  const after = offsetMs(zone, wall + MS_PER_DAY);
  if (before === after) return wallToUtcIn(zone, wall);
  const readings = [wall - Math.max(before, after), wall - Math.min(before, after)];
  const existing = readings.filter((instant) => instant + offsetMs(zone, instant) === wall);
  if (existing.length === 1) return existing[0]!;
  const [first, second] = (existing.length === 2 ? existing : [wall - after, wall - before]).map((instant) => localIsoWithOffset(zone, instant));
  const hint = `give the offset: ${first} or ${second}`;
  if (existing.length === 2) {
    throw new CreditsError('INVALID_DATE', `${field} "${text}" happens twice in ${tz} (the clocks went back): it is ${first} or ${second}`, { hint });
  }
  throw new CreditsError(
    'INVALID_DATE',
    `${field} "${text}" does not exist in ${tz} (the clocks skipped it): the nearest readings are ${first} and ${second}`,
    {
      hint,
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

/** German style, zero-padded: '15.03.2024, 14:23'. */
export function formatLocalDateTime(instantMs: number, tz: string): string {
  const p = localParts(instantMs, tz);
  return `${pad2(p.day)}.${pad2(p.month)}.${pad4(p.year)}, ${pad2(p.hour)}:${pad2(p.minute)}`;
}

/** 'YYYY-MM-DD' in the zone. */
export function formatLocalDate(instantMs: number, tz: string): string {
  return localDateKey(instantMs, tz);
}

export function toIsoUtc(instantMs: number): string {
  return new Date(instantMs).toISOString();
}
