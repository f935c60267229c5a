import type { ZoneClock } from '../core/time.js';

/**
 * The process's own clock as the offset source of core/time.ts: TZ set to the zone, and Date's
 * local-time offset read. That costs about 0.2 ms where the first Intl.DateTimeFormat costs
 * about 17 ms of ICU set-up, a tenth of a short command's start. The clock serves one zone at a
 * time (a command works in the organisation's zone); asked for another, it sets TZ again.
 *
 * ICU falls back to GMT, silently, for a name it does not know (also for a differently cased
 * one: 'europe/berlin'), and names such a zone "GMT+00:00": then the clock declines, and Intl
 * answers (or refuses the name), as it does without a clock.
 */
/** 1973-01-01: Liberia, the last zone with an offset of odd seconds, moved to whole minutes in 1972. */
const WHOLE_MINUTE_OFFSETS_FROM_MS = Date.UTC(1973, 0, 1);

export const processZoneClock: ZoneClock = (tz) => {
  process.env.TZ = tz;
  const probe = new Date(0);
  if (probe.getTimezoneOffset() === 0 && probe.toString().endsWith('(GMT+00:00)')) return undefined;
  return (instantMs) => {
    // Date's offsets are whole minutes; before 1973 some zones kept local mean times with seconds
    // (Kolkata +5:21:10 in 1900), which Intl answers exactly.
    if (instantMs < WHOLE_MINUTE_OFFSETS_FROM_MS) return undefined;
    if (process.env.TZ !== tz) process.env.TZ = tz;
    return 0 - new Date(instantMs).getTimezoneOffset() * 60_000; // 0 - x: no -0 for UTC
  };
};
