import { CreditsError } from './errors.js';
import { CONTROL_CHARACTERS } from './names.js';

/**
 * Tags on usage events (`--tag project=apollo`): free key=value labels a platform attaches so
 * that a report can group usage by something the ledger has no account for (a project that spans
 * departments). They are facts of the event: stored with it, hashed with it, compared on a retry.
 */
export type Tags = Readonly<Record<string, string>>;

export const MAX_TAGS = 10;
export const MAX_TAG_VALUE_CHARS = 128;
/** Keys are folded to lower case, so `Project` and `project` are one key (values keep their case). */
const TAG_KEY = /^[a-z0-9_.-]{1,32}$/;
/** The separator of the text form (`project=apollo;team=ml`): a value may hold `=`, never `;`. */
const TEXT_SEPARATOR = ';';
/** Half of a UTF-16 pair on its own: no character, and not storable as UTF-8 text. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function invalid(field: string, message: string, hint: string): CreditsError {
  return new CreditsError('INVALID_VALUE', `${field}: ${message}`, { hint });
}

const KEY_HINT = 'a tag key is 1-32 of a-z, 0-9, _ . - (upper case is folded to lower case)';
const VALUE_HINT = `a tag value is 1-${MAX_TAG_VALUE_CHARS} characters of printable text without ";"`;

/** A tag key as stored: trimmed and lower-cased, or refused naming the field. */
export function parseTagKey(text: string, field: string): string {
  const key = text.trim().toLowerCase();
  if (!TAG_KEY.test(key)) throw invalid(field, `"${text}" is not a tag key`, KEY_HINT);
  // JavaScript objects give this name a meaning of their own: the tag would be lost on the way.
  if (key === '__proto__') throw invalid(field, '"__proto__" is reserved and cannot be a tag key', KEY_HINT);
  return key;
}

function parseTagValue(key: string, value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalid(field, `the value of tag "${key}" must be text, got ${JSON.stringify(value)}`, VALUE_HINT);
  // One spelling per value: composed and decomposed accents group as one in a report.
  const text = value.trim().normalize('NFC');
  const chars = [...text].length;
  if (chars === 0 || chars > MAX_TAG_VALUE_CHARS) throw invalid(field, `the value of tag "${key}" must be 1-${MAX_TAG_VALUE_CHARS} characters`, VALUE_HINT);
  if (CONTROL_CHARACTERS.test(text) || text.includes(TEXT_SEPARATOR) || LONE_SURROGATE.test(text))
    throw invalid(field, `the value of tag "${key}" holds a control character or ";"`, VALUE_HINT);
  return text;
}

/** Checked pairs as one object with its keys sorted: the canonical form stored, hashed and compared. */
function fromPairs(pairs: readonly [string, unknown][], field: string): Tags | null {
  if (pairs.length > MAX_TAGS) throw invalid(field, `an event carries at most ${MAX_TAGS} tags, got ${pairs.length}`, 'drop the tags no report groups by');
  const checked = new Map<string, string>();
  for (const [rawKey, rawValue] of pairs) {
    const key = parseTagKey(rawKey, field);
    if (checked.has(key)) throw invalid(field, `the tag "${key}" is given twice`, 'give each tag key once (keys ignore case)');
    checked.set(key, parseTagValue(key, rawValue, field));
  }
  if (checked.size === 0) return null;
  const sorted: Record<string, string> = {};
  for (const key of [...checked.keys()].sort()) sorted[key] = checked.get(key)!;
  return sorted;
}

/** `key=value` pairs: the value is everything after the first `=`. */
function splitPairs(texts: readonly string[], field: string): [string, string][] {
  return texts.map((text) => {
    const at = text.indexOf('=');
    if (at < 0) throw invalid(field, `"${text}" is not key=value`, 'for example project=apollo');
    return [text.slice(0, at), text.slice(at + 1)];
  });
}

/** `--tag key=value`, given any number of times. */
export function parseTagFlags(values: readonly string[], field = '--tag'): Tags | null {
  return fromPairs(splitPairs(values, field), field);
}

/**
 * The `tags` field of an import line or an API body: a JSON object of text values, or (as a CSV
 * cell holds it) the text form `project=apollo;team=ml`. Empty means no tags.
 */
export function parseTagsField(value: unknown, field = 'tags'): Tags | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'string') {
    const parts = value.split(TEXT_SEPARATOR).filter((part) => part.trim() !== '');
    return fromPairs(splitPairs(parts, field), field);
  }
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid(field, 'must be an object of tag keys to text values, like {"project": "apollo"}', 'or the text form project=apollo;team=ml');
  return fromPairs(Object.entries(value), field);
}

/** The stored form: JSON of the sorted object, null without tags. One text per tag set, so equal sets compare equal. */
export function tagsJson(tags: Tags | null): string | null {
  return tags === null ? null : JSON.stringify(tags);
}

/** The stored form read back: {} for an event without tags. */
export function tagsFromJson(text: string | null): Tags {
  return text === null ? {} : (JSON.parse(text) as Tags);
}

/** The text form, `project=apollo;team=ml` (a CSV cell, a line of `usage show`). */
export function tagsText(tags: Tags): string {
  return Object.entries(tags)
    .map(([key, value]) => `${key}=${value}`)
    .join(TEXT_SEPARATOR);
}
