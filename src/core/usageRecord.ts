import { CreditsError } from './errors.js';
import { parseEmail } from './names.js';
import { parseFeature, parseImageSize, type Feature, type ImageSize } from './rateCard.js';
import { parseTagsField, type Tags } from './tags.js';
import { parseInstantInput, toIsoUtc } from './time.js';

/** One AI interaction as a platform reports it, validated, before it is priced. */
export type UsageRecord = {
  user: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  toolCalls: number;
  feature: Feature;
  images: number;
  imageSize: ImageSize;
  dbAccess: boolean;
  eventId: string | null;
  /** null: "now", resolved by the poster so one clock decides. */
  occurredAtMs: number | null;
  /** Labels to group reports by (`--tag project=apollo`), keys sorted; null without any. */
  tags: Tags | null;
};

export const USAGE_FIELDS = [
  'user',
  'model',
  'inputTokens',
  'outputTokens',
  'toolCalls',
  'feature',
  'images',
  'imageSize',
  'dbAccess',
  'eventId',
  'at',
  'tags',
] as const;
type UsageField = (typeof USAGE_FIELDS)[number];
const KNOWN_FIELDS: ReadonlySet<string> = new Set(USAGE_FIELDS);

const FLAG_BY_FIELD: Record<UsageField, string> = {
  user: '--user',
  model: '--model',
  inputTokens: '--input-tokens',
  outputTokens: '--output-tokens',
  toolCalls: '--tool-calls',
  feature: '--feature',
  images: '--images',
  imageSize: '--image-size',
  dbAccess: '--db-access',
  eventId: '--event-id',
  at: '--at',
  tags: '--tag',
};

const MAX_COUNT = 1_000_000_000_000;
/**
 * How far ahead of this machine's clock an event's time may be: the clocks of the platforms that
 * report usage drift a little. Beyond it an event would escape the limits of the day it is spent in.
 */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** An event id: 1-200 printable ASCII characters without spaces (also a hold's). */
export const EVENT_ID_PATTERN = /^[\x21-\x7e]{1,200}$/;

export type ParseUsageOptions = {
  timeZone: string;
  /** The clock that decides what "in the future" means: events later than it plus the skew are refused. */
  nowMs: number;
  requireEventId: boolean;
  /** Name problems by CLI flag (`--input-tokens`) or by file field (`inputTokens`). */
  fieldNames?: 'flags' | 'fields';
};

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function fieldName(field: UsageField, options: ParseUsageOptions): string {
  return options.fieldNames === 'flags' ? FLAG_BY_FIELD[field] : field;
}

function textField(raw: Record<string, unknown>, field: UsageField, options: ParseUsageOptions): string | undefined {
  const value = raw[field];
  if (isBlank(value)) return undefined;
  if (typeof value === 'string') return value.trim();
  if (typeof value !== 'number') {
    throw new CreditsError('INVALID_VALUE', `${fieldName(field, options)} must be text, got ${JSON.stringify(value)}`);
  }
  return String(value).trim();
}

function countField(raw: Record<string, unknown>, field: UsageField, options: ParseUsageOptions): number {
  const value = raw[field];
  if (isBlank(value)) return 0;
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0 && value <= MAX_COUNT) return value;
  } else if (typeof value === 'string' && /^\s*\d{1,13}\s*$/.test(value)) {
    const parsed = Number(value);
    if (parsed <= MAX_COUNT) return parsed;
  }
  throw new CreditsError('INVALID_VALUE', `${fieldName(field, options)} must be a whole number from 0 to ${MAX_COUNT}, got ${JSON.stringify(value)}`);
}

/**
 * Addresses already found valid, by their trimmed text: an import names the same few users on
 * every line. Only valid ones are kept (an invalid one throws each time, with its field name),
 * and the map is emptied when it grows large.
 */
const validEmails = new Map<string, string>();
const MAX_CACHED_EMAILS = 10_000;

export function emailField(text: string, field: string): string {
  const cached = validEmails.get(text);
  if (cached !== undefined) return cached;
  const email = parseEmail(text, field);
  if (validEmails.size >= MAX_CACHED_EMAILS) validEmails.clear();
  validEmails.set(text, email);
  return email;
}

/** When the event happened: null for now; late is fine, more than the clock skew ahead is not. */
function occurredAt(raw: Record<string, unknown>, options: ParseUsageOptions): number | null {
  const atText = textField(raw, 'at', options);
  if (atText === undefined || (atText.length === 3 && atText.toLowerCase() === 'now')) return null;
  const field = fieldName('at', options);
  const atMs = parseInstantInput(atText, field, options.timeZone);
  if (atMs > options.nowMs + MAX_CLOCK_SKEW_MS) {
    throw new CreditsError('INVALID_DATE', `${field} "${atText}" is in the future (${toIsoUtc(atMs)}; now is ${toIsoUtc(options.nowMs)})`, {
      hint: `usage is posted when it happened, at most ${MAX_CLOCK_SKEW_MS / 60_000} minutes ahead of this clock; events in the past are fine`,
    });
  }
  return atMs;
}

/**
 * Validates one usage event from flags, a JSON line or a CSV row. Numbers may come as JSON
 * numbers or as text (CSV has no types); anything not listed in USAGE_FIELDS is refused so a
 * typo such as `inputToken` is not silently priced as zero.
 */
export function parseUsageRecord(raw: Record<string, unknown>, options: ParseUsageOptions): UsageRecord {
  for (const key of Object.keys(raw)) {
    if (!KNOWN_FIELDS.has(key)) {
      throw new CreditsError('INVALID_VALUE', `unknown field "${key}"`, { hint: `the fields are ${USAGE_FIELDS.join(', ')}` });
    }
  }

  const userText = textField(raw, 'user', options);
  if (userText === undefined) throw new CreditsError('MISSING_FLAG', `${fieldName('user', options)} is required: the email of who used it`);
  const user = emailField(userText, fieldName('user', options));
  const modelText = textField(raw, 'model', options);
  if (modelText === undefined) throw new CreditsError('MISSING_FLAG', `${fieldName('model', options)} is required: a model id from \`credits rates\``);
  const model = modelText.toLowerCase();

  const feature = parseFeature(textField(raw, 'feature', options) ?? 'chat', fieldName('feature', options));
  const imageSize = parseImageSize(textField(raw, 'imageSize', options) ?? 'standard', fieldName('imageSize', options));
  const images = countField(raw, 'images', options);
  if (images > 0 && feature !== 'image') {
    const name = fieldName('images', options);
    throw new CreditsError('INVALID_VALUE', `${name} applies only to the image feature, not to ${feature}`, {
      hint: `set ${fieldName('feature', options)} to image, or leave out ${name}`,
    });
  }

  const dbAccessValue = raw.dbAccess;
  let dbAccess = false;
  if (dbAccessValue === true || dbAccessValue === 'true' || dbAccessValue === '1' || dbAccessValue === 1) dbAccess = true;
  else if (!(isBlank(dbAccessValue) || dbAccessValue === false || dbAccessValue === 'false' || dbAccessValue === '0' || dbAccessValue === 0)) {
    throw new CreditsError('INVALID_VALUE', `${fieldName('dbAccess', options)} must be true or false, got ${JSON.stringify(dbAccessValue)}`);
  }
  if (dbAccess && feature !== 'workflow') {
    throw new CreditsError('INVALID_VALUE', `${fieldName('dbAccess', options)} applies only to the workflow feature, not to ${feature}`, {
      hint: `set ${fieldName('feature', options)} to workflow`,
    });
  }

  const eventId = textField(raw, 'eventId', options) ?? null;
  if (eventId === null && options.requireEventId) {
    throw new CreditsError(
      'MISSING_FLAG',
      `${fieldName('eventId', options)} is required in an import, so that importing the same file twice posts nothing twice`,
    );
  }
  if (eventId !== null && !EVENT_ID_PATTERN.test(eventId)) {
    throw new CreditsError('INVALID_VALUE', `${fieldName('eventId', options)} must be 1-200 printable characters without spaces`);
  }

  const occurredAtMs = occurredAt(raw, options);

  return {
    user,
    model,
    inputTokens: countField(raw, 'inputTokens', options),
    outputTokens: countField(raw, 'outputTokens', options),
    toolCalls: countField(raw, 'toolCalls', options),
    feature,
    images,
    imageSize,
    dbAccess,
    eventId,
    occurredAtMs,
    tags: parseTagsField(raw.tags, fieldName('tags', options)),
  };
}
