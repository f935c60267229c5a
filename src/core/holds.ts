import { parseCreditsInput } from './amounts.js';
import { CreditsError } from './errors.js';
import { emailKey } from './names.js';
import { parseFeature, type Feature } from './rateCard.js';
import { EVENT_ID_PATTERN, emailField } from './usageRecord.js';

/**
 * Holds: two-phase usage. A gateway reserves the most an AI call may cost before it starts (the
 * reservation is checked against balance, overdraft and limits as if it were spent), then
 * captures the actual cost as a usage event, or releases it; an open hold past its expiry
 * releases itself. Pure rules here; the store keeps the holds and checks them.
 */
export const HOLD_STATUSES = ['open', 'captured', 'released', 'expired'] as const;
export type HoldStatus = (typeof HOLD_STATUSES)[number];

export const DEFAULT_HOLD_MS = 10 * 60_000;
/** A hold longer than a day is a forgotten one: it would keep credits from everyone else. */
export const MAX_HOLD_MS = 24 * 3_600_000;

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(?:(\d{1,5})h)?(?:(\d{1,7})m)?(?:(\d{1,9})s)?$/;

/** `30s`, `10m`, `2h`, `1h30m`: from one second to MAX_HOLD_MS. */
export function parseHoldDuration(text: string, field = '--expires'): number {
  const trimmed = String(text).trim().toLowerCase();
  const match = DURATION.exec(trimmed);
  const hint = `${field} takes a duration like 30s, 10m, 2h or 1h30m (at most 24h)`;
  if (trimmed === '' || !match || match.slice(1).every((part) => part === undefined)) {
    throw new CreditsError('INVALID_VALUE', `${field} "${String(text).trim()}" is not a duration`, { hint });
  }
  const [hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number];
  const durationMs = hours * UNIT_MS.h + minutes * UNIT_MS.m + seconds * UNIT_MS.s;
  if (durationMs < UNIT_MS.s) throw new CreditsError('INVALID_VALUE', `${field} "${trimmed}" is shorter than a second`, { hint });
  if (durationMs > MAX_HOLD_MS) throw new CreditsError('INVALID_VALUE', `${field} "${trimmed}" is longer than 24h`, { hint });
  return durationMs;
}

/** What a hold asks for, validated: who, on which model, up to how much, for how long. */
export type HoldRequest = {
  user: string;
  model: string;
  feature: Feature;
  maxMillicredits: number;
  durationMs: number;
  eventId: string | null;
};

export const HOLD_FIELDS = ['user', 'model', 'maxCredits', 'expires', 'feature', 'eventId'] as const;
type HoldField = (typeof HOLD_FIELDS)[number];
const KNOWN_HOLD_FIELDS: ReadonlySet<string> = new Set(HOLD_FIELDS);
const HOLD_FLAGS: Record<HoldField, string> = {
  user: '--user',
  model: '--model',
  maxCredits: '--max-credits',
  expires: '--expires',
  feature: '--feature',
  eventId: '--event-id',
};

function text(raw: Record<string, unknown>, field: HoldField, name: string): string | undefined {
  const value = raw[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new CreditsError('INVALID_VALUE', `${name} must be text, got ${JSON.stringify(value)}`);
}

/** Checks an event id as usage events are checked: 1-200 printable characters without spaces. */
export function parseEventId(value: string | undefined, name: string): string | null {
  if (value === undefined) return null;
  if (!EVENT_ID_PATTERN.test(value)) throw new CreditsError('INVALID_VALUE', `${name} must be 1-200 printable characters without spaces`);
  return value;
}

/**
 * A hold from flags (`fieldNames: 'flags'`, problems named like --max-credits) or from an API
 * body (`maxCredits`). Unknown fields are refused, as for usage events.
 */
export function parseHoldRequest(raw: Record<string, unknown>, fieldNames: 'flags' | 'fields'): HoldRequest {
  const name = (field: HoldField): string => (fieldNames === 'flags' ? HOLD_FLAGS[field] : field);
  for (const key of Object.keys(raw)) {
    if (!KNOWN_HOLD_FIELDS.has(key)) throw new CreditsError('UNKNOWN_FLAG', `unknown field "${key}"`, { hint: `the fields are ${HOLD_FIELDS.join(', ')}` });
  }
  const user = text(raw, 'user', name('user'));
  if (user === undefined) throw new CreditsError('MISSING_FLAG', `${name('user')} is required: the email of who makes the call`);
  const model = text(raw, 'model', name('model'));
  if (model === undefined) throw new CreditsError('MISSING_FLAG', `${name('model')} is required: a model id from \`credits rates\``);
  const max = text(raw, 'maxCredits', name('maxCredits'));
  if (max === undefined) throw new CreditsError('MISSING_FLAG', `${name('maxCredits')} is required: the most the call may cost, in credits`);
  const expires = text(raw, 'expires', name('expires'));
  return {
    user: emailField(user, name('user')),
    model: model.toLowerCase(),
    feature: parseFeature(text(raw, 'feature', name('feature')) ?? 'chat', name('feature')),
    maxMillicredits: parseCreditsInput(max, name('maxCredits')),
    durationMs: expires === undefined ? DEFAULT_HOLD_MS : parseHoldDuration(expires, name('expires')),
    eventId: parseEventId(text(raw, 'eventId', name('eventId')), name('eventId')),
  };
}

/** The event id a capture posts under: its own, else the hold's, else one named after the hold. */
export function captureEventId(given: string | null, hold: { id: number; eventId: string | null }): string {
  return given ?? hold.eventId ?? `hold:${hold.id}`;
}

/** Whether a hold placed again with the same event id asks for the same thing (the expiry may differ: it counts from each request). */
export function sameHold(stored: { user: string | null; model: string; feature: string; maxMillicredits: number }, asked: HoldRequest): boolean {
  return (
    stored.user !== null &&
    emailKey(stored.user) === emailKey(asked.user) &&
    stored.model === asked.model &&
    stored.feature === asked.feature &&
    stored.maxMillicredits === asked.maxMillicredits
  );
}
