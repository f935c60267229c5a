import { CreditsError } from './errors.js';
import { parseEmail } from './names.js';
import { parseFeature, parseImageSize, type Feature, type ImageSize } from './rateCard.js';
import { parseInstantInput } from './time.js';

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
};

export const USAGE_FIELDS = ['user', 'model', 'inputTokens', 'outputTokens', 'toolCalls', 'feature', 'images', 'imageSize', 'dbAccess', 'eventId', 'at'] as const;
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
};

const MAX_COUNT = 1_000_000_000_000;
const EVENT_ID = /^[\x21-\x7e]{1,200}$/;

export type ParseUsageOptions = {
  timeZone: string;
  requireEventId: boolean;
  /** Name problems by CLI flag (`--input-tokens`) or by file field (`inputTokens`). */
  fieldNames?: 'flags' | 'fields';
};

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/**
 * Validates one usage event from flags, a JSON line or a CSV row. Numbers may come as JSON
 * numbers or as text (CSV has no types); anything not listed in USAGE_FIELDS is refused so a
 * typo such as `inputToken` is not silently priced as zero.
 */
export function parseUsageRecord(raw: Record<string, unknown>, options: ParseUsageOptions): UsageRecord {
  const name = (field: UsageField): string => (options.fieldNames === 'flags' ? FLAG_BY_FIELD[field] : field);
  for (const key of Object.keys(raw)) {
    if (!KNOWN_FIELDS.has(key)) {
      throw new CreditsError('INVALID_VALUE', `unknown field "${key}"`, { hint: `the fields are ${USAGE_FIELDS.join(', ')}` });
    }
  }
  const text = (field: UsageField): string | undefined => {
    const value = raw[field];
    if (isBlank(value)) return undefined;
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new CreditsError('INVALID_VALUE', `${name(field)} must be text, got ${JSON.stringify(value)}`);
    }
    return String(value).trim();
  };
  const count = (field: UsageField): number => {
    const value = raw[field];
    if (isBlank(value)) return 0;
    if (typeof value === 'number') {
      if (Number.isSafeInteger(value) && value >= 0 && value <= MAX_COUNT) return value;
    } else if (typeof value === 'string' && /^\s*\d{1,13}\s*$/.test(value)) {
      const parsed = Number(value);
      if (parsed <= MAX_COUNT) return parsed;
    }
    throw new CreditsError('INVALID_VALUE', `${name(field)} must be a whole number from 0 to ${MAX_COUNT}, got ${JSON.stringify(value)}`);
  };

  const userText = text('user');
  if (userText === undefined) throw new CreditsError('MISSING_FLAG', `${name('user')} is required: the email of who used it`);
  const user = parseEmail(userText, name('user'));
  const modelText = text('model');
  if (modelText === undefined) throw new CreditsError('MISSING_FLAG', `${name('model')} is required: a model id from \`credits rates\``);
  const model = modelText.toLowerCase();

  const feature = parseFeature(text('feature') ?? 'chat', name('feature'));
  const imageSize = parseImageSize(text('imageSize') ?? 'standard', name('imageSize'));
  const images = count('images');
  if (images > 0 && feature !== 'image') {
    throw new CreditsError('INVALID_VALUE', `${name('images')} applies only to the image feature, not to ${feature}`, { hint: `set ${name('feature')} to image, or leave out ${name('images')}` });
  }

  const dbAccessValue = raw.dbAccess;
  let dbAccess = false;
  if (dbAccessValue === true || dbAccessValue === 'true' || dbAccessValue === '1' || dbAccessValue === 1) dbAccess = true;
  else if (!(isBlank(dbAccessValue) || dbAccessValue === false || dbAccessValue === 'false' || dbAccessValue === '0' || dbAccessValue === 0)) {
    throw new CreditsError('INVALID_VALUE', `${name('dbAccess')} must be true or false, got ${JSON.stringify(dbAccessValue)}`);
  }
  if (dbAccess && feature !== 'workflow') {
    throw new CreditsError('INVALID_VALUE', `${name('dbAccess')} applies only to the workflow feature, not to ${feature}`, { hint: `set ${name('feature')} to workflow` });
  }

  const eventId = text('eventId') ?? null;
  if (eventId === null && options.requireEventId) {
    throw new CreditsError('MISSING_FLAG', `${name('eventId')} is required in an import, so that importing the same file twice posts nothing twice`);
  }
  if (eventId !== null && !EVENT_ID.test(eventId)) {
    throw new CreditsError('INVALID_VALUE', `${name('eventId')} must be 1-200 printable characters without spaces`);
  }

  const atText = text('at');
  const occurredAtMs = atText === undefined || atText.toLowerCase() === 'now' ? null : parseInstantInput(atText, name('at'), options.timeZone);

  return {
    user,
    model,
    inputTokens: count('inputTokens'),
    outputTokens: count('outputTokens'),
    toolCalls: count('toolCalls'),
    feature,
    images,
    imageSize,
    dbAccess,
    eventId,
    occurredAtMs,
  };
}
