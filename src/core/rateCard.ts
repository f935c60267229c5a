import { didYouMean } from './suggest.js';
import { CreditsError } from './errors.js';

/**
 * The rate card: what one model charges, in integer millicredits (1 credit = 1000 millicredits,
 * 1 credit = €0.01). Token rates are per 1,000 tokens; each part of a usage is rounded up to the
 * whole millicredit by pricing.ts.
 */

export const TIERS = ['premium', 'standard', 'economy'] as const;
export type Tier = (typeof TIERS)[number];

export const FEATURES = ['chat', 'summarize', 'translate', 'analyze', 'image', 'workflow'] as const;
export type Feature = (typeof FEATURES)[number];

export type ModelRate = {
  model: string;
  displayName: string;
  tier: Tier;
  inputPer1kMillicredits: number;
  outputPer1kMillicredits: number;
  toolCallMillicredits: number;
};

/** Price of one generated image, by size (seed: simple image 25 credits, high resolution 50). */
export const IMAGE_PRICE_MILLICREDITS = { standard: 25_000, hd: 50_000 } as const;
export type ImageSize = keyof typeof IMAGE_PRICE_MILLICREDITS;
export const IMAGE_SIZES = ['standard', 'hd'] as const satisfies readonly ImageSize[];

/** A workflow with database access costs this many percent more (seed: "+50% credits"). */
export const DB_ACCESS_SURCHARGE_PERCENT = 50;

const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function checkRateNumber(value: number, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new CreditsError('INVALID_VALUE', `${what} must be a whole number of millicredits of 0 or more, got ${String(value)}`);
  }
  return value;
}

/** Builds a validated rate; every number is a non-negative safe integer count of millicredits. */
export function makeRate(
  model: string,
  displayName: string,
  tier: Tier,
  inputPer1kMillicredits: number,
  outputPer1kMillicredits: number,
  toolCallMillicredits: number,
): ModelRate {
  if (typeof model !== 'string' || !MODEL_ID.test(model)) {
    throw new CreditsError('INVALID_VALUE', `MODEL "${String(model)}" is not a valid model id`, {
      hint: 'a model id is 1-64 characters: lower-case letters, digits, ".", "_" or "-", starting with a letter or digit (like gpt-4o)',
    });
  }
  const name = typeof displayName === 'string' ? displayName.trim() : '';
  if (name === '') throw new CreditsError('INVALID_VALUE', `the display name of model "${model}" is empty`);
  return {
    model,
    displayName: name,
    tier: parseTier(tier),
    inputPer1kMillicredits: checkRateNumber(inputPer1kMillicredits, `input rate of ${model} (per 1k tokens)`),
    outputPer1kMillicredits: checkRateNumber(outputPer1kMillicredits, `output rate of ${model} (per 1k tokens)`),
    toolCallMillicredits: checkRateNumber(toolCallMillicredits, `tool call rate of ${model}`),
  };
}

/**
 * The default card. gpt-4o reproduces the seed's example exactly with round-up pricing:
 * 523 input tokens x 4015 / 1000 = 2099.845 -> 2100 (2.1 credits); 1,247 output tokens x 3929 / 1000
 * = 4899.463 -> 4900 (4.9 credits); 2 tool calls x 500 = 1000 (1.0 credits); total 8000 (8.0 credits).
 * Every premium model costs more per input token, per output token and per tool call than every
 * standard one, and every standard one more than every economy one.
 */
export const DEFAULT_RATE_CARD: readonly ModelRate[] = Object.freeze(
  [
    makeRate('gpt-4o', 'GPT-4o', 'premium', 4015, 3929, 500),
    makeRate('claude-3-opus', 'Claude 3 Opus', 'premium', 7500, 15000, 500),
    makeRate('gemini-1.5-pro', 'Gemini 1.5 Pro', 'premium', 4500, 6000, 500),
    makeRate('gpt-4o-mini', 'GPT-4o mini', 'standard', 600, 1200, 200),
    makeRate('claude-3.5-sonnet', 'Claude 3.5 Sonnet', 'standard', 1500, 3000, 300),
    makeRate('mistral-large', 'Mistral Large', 'standard', 1200, 2400, 300),
    makeRate('gpt-3.5-turbo', 'GPT-3.5 Turbo', 'economy', 250, 500, 100),
    makeRate('claude-3-haiku', 'Claude 3 Haiku', 'economy', 150, 400, 100),
    makeRate('llama-3.1-groq', 'Llama 3.1 (via Groq)', 'economy', 100, 150, 50),
  ].map((rate) => Object.freeze(rate)),
);

/** The rate for `model` (matched case-insensitively, ignoring surrounding spaces). */
export function findRate(card: readonly ModelRate[], model: string): ModelRate {
  const wanted = String(model).trim().toLowerCase();
  const found = card.find((rate) => rate.model === wanted);
  if (found) return found;
  const known = card.map((rate) => rate.model).join(', ');
  const guess = didYouMean(
    String(model),
    card.map((rate) => rate.model),
  );
  throw new CreditsError('MODEL_NOT_FOUND', `unknown model "${String(model).trim()}"${guess.suffix}; known models: ${known === '' ? '(none)' : known}`, {
    hint: guess.hint === '' ? 'use one of the model ids listed' : guess.hint.trim(),
    details: { model: String(model).trim(), known: card.map((rate) => rate.model) },
  });
}

function parseOneOf<T extends string>(allowed: readonly T[], text: string, field: string): T {
  // Already one of them exactly (the usual case): no trimming or lower-casing to do.
  if (allowed.includes(text as T)) return text as T;
  const value = String(text).trim().toLowerCase();
  const found = allowed.find((option) => option === value);
  if (found !== undefined) return found;
  throw new CreditsError('INVALID_VALUE', `${field} must be one of ${allowed.join(', ')}, got "${String(text).trim()}"`);
}

export function parseTier(text: string, field = '--tier'): Tier {
  return parseOneOf(TIERS, text, field);
}

export function parseFeature(text: string, field = '--feature'): Feature {
  return parseOneOf(FEATURES, text, field);
}

export function parseImageSize(text: string, field = '--image-size'): ImageSize {
  return parseOneOf(IMAGE_SIZES, text, field);
}
