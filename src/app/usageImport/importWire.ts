import { CreditsError, type ErrorCode } from '../../core/errors.js';
import { FEATURES, IMAGE_SIZES } from '../../core/rateCard.js';
import type { UsageRecord } from '../../core/usageRecord.js';
import { tagsJson, type Tags } from '../../core/tags.js';
import type { ImportItem } from '../../store/ops/usage.js';
import type { ParseOptions } from './importSource.js';

/**
 * One batch of parsed import lines as the parse thread sends it to the posting thread. Structured
 * cloning thousands of small objects costs about as much as parsing them did, so the numbers of
 * every line travel in one Float64Array (its buffer is transferred, not copied), the few distinct
 * users and models as small tables, and the event ids as one array of strings.
 */
export type WireBatch = {
  count: number;
  numbers: Float64Array;
  eventIds: (string | null)[];
  /** Each line's tags as stored (JSON, keys sorted), null for none: most lines have none. */
  tags: (string | null)[];
  users: string[];
  models: string[];
  /** Lines that could not be read, in line order among the rest (their slot in `numbers` says which). */
  errors: { code: ErrorCode; message: string; hint: string | undefined }[];
};

/** Per line: line number, kind (0 a record, else 1 + its error's index), user, model, feature, image size, four counts, db access, time. */
const SLOTS = 12;
const featureIndex = new Map<string, number>(FEATURES.map((feature, index) => [feature, index]));
const imageSizeIndex = new Map<string, number>(IMAGE_SIZES.map((size, index) => [size, index]));

function indexIn(table: string[], index: Map<string, number>, text: string): number {
  let found = index.get(text);
  if (found === undefined) {
    found = table.length;
    table.push(text);
    index.set(text, found);
  }
  return found;
}

export function encodeBatch(items: readonly ImportItem[]): WireBatch {
  const numbers = new Float64Array(items.length * SLOTS);
  const eventIds: (string | null)[] = new Array(items.length);
  const tags: (string | null)[] = new Array(items.length);
  const users: string[] = [];
  const models: string[] = [];
  const userIndex = new Map<string, number>();
  const modelIndex = new Map<string, number>();
  const errors: WireBatch['errors'] = [];
  for (let item = 0; item < items.length; item += 1) {
    const entry = items[item]!;
    const at = item * SLOTS;
    numbers[at] = entry.line;
    if ('error' in entry) {
      numbers[at + 1] = errors.length + 1;
      errors.push({ code: entry.error.code, message: entry.error.message, hint: entry.error.hint });
      eventIds[item] = null;
      tags[item] = null;
      continue;
    }
    const record = entry.record;
    numbers[at + 1] = 0;
    numbers[at + 2] = indexIn(users, userIndex, record.user);
    numbers[at + 3] = indexIn(models, modelIndex, record.model);
    numbers[at + 4] = featureIndex.get(record.feature)!;
    numbers[at + 5] = imageSizeIndex.get(record.imageSize)!;
    numbers[at + 6] = record.inputTokens;
    numbers[at + 7] = record.outputTokens;
    numbers[at + 8] = record.toolCalls;
    numbers[at + 9] = record.images;
    numbers[at + 10] = record.dbAccess ? 1 : 0;
    numbers[at + 11] = record.occurredAtMs ?? Number.NaN;
    eventIds[item] = record.eventId;
    tags[item] = tagsJson(record.tags);
  }
  return { count: items.length, numbers, eventIds, tags, users, models, errors };
}

export function decodeBatch(batch: WireBatch): ImportItem[] {
  const { numbers, eventIds, tags, users, models, errors } = batch;
  const items: ImportItem[] = new Array(batch.count);
  for (let item = 0; item < batch.count; item += 1) {
    const at = item * SLOTS;
    const line = numbers[at]!;
    const errorNumber = numbers[at + 1]!;
    if (errorNumber > 0) {
      const error = errors[errorNumber - 1]!;
      items[item] = { line, error: new CreditsError(error.code, error.message, error.hint === undefined ? {} : { hint: error.hint }) };
      continue;
    }
    const occurredAtMs = numbers[at + 11]!;
    const record: UsageRecord = {
      user: users[numbers[at + 2]!]!,
      model: models[numbers[at + 3]!]!,
      inputTokens: numbers[at + 6]!,
      outputTokens: numbers[at + 7]!,
      toolCalls: numbers[at + 8]!,
      feature: FEATURES[numbers[at + 4]!]!,
      images: numbers[at + 9]!,
      imageSize: IMAGE_SIZES[numbers[at + 5]!]!,
      dbAccess: numbers[at + 10] === 1,
      eventId: eventIds[item]!,
      occurredAtMs: Number.isNaN(occurredAtMs) ? null : occurredAtMs,
      tags: tags[item] === null ? null : (JSON.parse(tags[item]!) as Tags),
    };
    items[item] = { line, record };
  }
  return items;
}

/** How many batches the parse thread may send before the posting thread takes the first. */
export const PARSED_AHEAD = 2;

/** What the parse thread is started with: the file to read (null: standard input) and how to parse it. */
export type ParserInput = { path: string | null; options: ParseOptions };
/** Parse thread to posting thread: a batch, the end, or why it stopped. The posting thread answers each batch with an ack. */
export type FromParser = { type: 'batch'; batch: WireBatch } | { type: 'done' } | { type: 'fail'; code: ErrorCode; message: string; hint: string | undefined };
