import { assert, CreditsError } from './errors.js';
import {
  DB_ACCESS_SURCHARGE_PERCENT,
  IMAGE_PRICE_MILLICREDITS,
  parseFeature,
  parseImageSize,
  type Feature,
  type ImageSize,
  type ModelRate,
  type Tier,
} from './rateCard.js';

/**
 * Pure pricing of one usage event against one model rate. Every part is priced separately and
 * rounded UP to the whole millicredit, in exact integer arithmetic (BigInt for the products, so
 * no float error and no silent overflow); the total is the sum of the parts.
 */

export type UsageInput = {
  model: string;
  inputTokens: number;
  outputTokens: number;
  toolCalls: number;
  feature: Feature;
  images: number;
  imageSize: ImageSize;
  dbAccess: boolean;
};

export type PriceLine = {
  kind: 'input' | 'output' | 'tool' | 'image' | 'surcharge';
  label: string;
  /** Tokens, tool calls or images; for the surcharge line, the percentage (50). */
  quantity: number;
  millicredits: number;
};

export type PricedUsage = {
  model: string;
  tier: Tier;
  lines: PriceLine[];
  totalMillicredits: number;
};

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function toSafeNumber(value: bigint, what: string): number {
  if (value > MAX_SAFE) {
    throw new CreditsError('INVALID_VALUE', `${what} is too large to price`, {
      hint: `the price must stay below ${Number.MAX_SAFE_INTEGER} millicredits`,
    });
  }
  return Number(value);
}

/** ceil(a * b / divisor) for non-negative safe integers a, b and a positive divisor, exactly. */
function ceilMulDiv(a: number, b: number, divisor: number, what: string): number {
  const fast = a * b;
  if (fast <= Number.MAX_SAFE_INTEGER) {
    // Exact in doubles: the product is a safe integer, and (n - n % d) / d divides exactly.
    const remainder = fast % divisor;
    return (fast - remainder) / divisor + (remainder > 0 ? 1 : 0);
  }
  const product = BigInt(a) * BigInt(b);
  const d = BigInt(divisor);
  return toSafeNumber((product + d - 1n) / d, what);
}

/** Millicredits for `count` units at `per1kMillicredits` per 1,000 units, rounded up. */
export function per1kCost(count: number, per1kMillicredits: number): number {
  assert(Number.isSafeInteger(count) && count >= 0, 'count is a non-negative safe integer');
  assert(Number.isSafeInteger(per1kMillicredits) && per1kMillicredits >= 0, 'rate is a non-negative safe integer');
  return ceilMulDiv(count, per1kMillicredits, 1000, 'the token cost');
}

/** `percent` percent of `base` millicredits, rounded up to the whole millicredit. */
export function surchargeOf(base: number, percent: number): number {
  assert(Number.isSafeInteger(base) && base >= 0, 'base is a non-negative safe integer');
  assert(Number.isSafeInteger(percent) && percent >= 0, 'percent is a non-negative safe integer');
  return ceilMulDiv(base, percent, 100, 'the surcharge');
}

function checkCount(value: number, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new CreditsError('INVALID_VALUE', `${field} must be a whole number of 0 or more, got ${String(value)}`);
  }
  return value;
}

/** The millicredits of all lines, exactly (BigInt when the sum leaves the safe range). */
function sumOfLines(lines: readonly PriceLine[], what: string): number {
  let total = 0;
  for (const line of lines) total += line.millicredits;
  if (Number.isSafeInteger(total)) return total;
  let exact = 0n;
  for (const line of lines) exact += BigInt(line.millicredits);
  return toSafeNumber(exact, what);
}

export function priceUsage(rate: ModelRate, input: UsageInput): PricedUsage {
  // The message is built only when the check fails: this runs once per imported event.
  if (input.model !== rate.model && input.model.trim().toLowerCase() !== rate.model)
    assert(false, `usage for "${input.model}" priced with the rate of "${rate.model}"`);
  const feature = parseFeature(input.feature);
  const inputTokens = checkCount(input.inputTokens, '--input-tokens');
  const outputTokens = checkCount(input.outputTokens, '--output-tokens');
  const toolCalls = checkCount(input.toolCalls, '--tool-calls');
  const images = checkCount(input.images, '--images');
  const imageSize = parseImageSize(input.imageSize);
  if (images > 0 && feature !== 'image') {
    throw new CreditsError('INVALID_VALUE', `--images applies only to the image feature, not to ${feature}`, {
      hint: 'use --feature image, or leave out --images',
    });
  }
  if (input.dbAccess && feature !== 'workflow') {
    throw new CreditsError('INVALID_VALUE', `--db-access applies only to the workflow feature, not to ${feature}`, {
      hint: 'use --feature workflow, or leave out --db-access',
    });
  }

  const lines: PriceLine[] = [
    { kind: 'input', label: 'Input tokens', quantity: inputTokens, millicredits: per1kCost(inputTokens, rate.inputPer1kMillicredits) },
    { kind: 'output', label: 'Output tokens', quantity: outputTokens, millicredits: per1kCost(outputTokens, rate.outputPer1kMillicredits) },
  ];
  if (toolCalls > 0) {
    lines.push({
      kind: 'tool',
      label: 'Tool usage',
      quantity: toolCalls,
      millicredits: ceilMulDiv(toolCalls, rate.toolCallMillicredits, 1, 'the tool usage cost'),
    });
  }
  if (images > 0) {
    lines.push({
      kind: 'image',
      label: `Images (${imageSize})`,
      quantity: images,
      millicredits: ceilMulDiv(images, IMAGE_PRICE_MILLICREDITS[imageSize], 1, 'the image cost'),
    });
  }
  if (input.dbAccess) {
    const base = sumOfLines(lines, 'the usage cost');
    lines.push({
      kind: 'surcharge',
      label: `Database access surcharge (+${DB_ACCESS_SURCHARGE_PERCENT}%)`,
      quantity: DB_ACCESS_SURCHARGE_PERCENT,
      millicredits: surchargeOf(base, DB_ACCESS_SURCHARGE_PERCENT),
    });
  }
  const totalMillicredits = sumOfLines(lines, 'the usage cost');
  return { model: rate.model, tier: rate.tier, lines, totalMillicredits };
}
