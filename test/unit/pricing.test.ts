import { describe, it, expect } from 'vitest';
import { CreditsError } from '../../src/core/errors.js';
import { priceUsage, per1kCost, surchargeOf, type UsageInput } from '../../src/core/pricing.js';
import {
  DEFAULT_RATE_CARD,
  DB_ACCESS_SURCHARGE_PERCENT,
  FEATURES,
  IMAGE_PRICE_MILLICREDITS,
  TIERS,
  findRate,
  makeRate,
  parseFeature,
  parseTier,
  type ModelRate,
} from '../../src/core/rateCard.js';

function usage(overrides: Partial<UsageInput> = {}): UsageInput {
  return {
    model: 'gpt-4o',
    inputTokens: 0,
    outputTokens: 0,
    toolCalls: 0,
    feature: 'chat',
    images: 0,
    imageSize: 'standard',
    dbAccess: false,
    ...overrides,
  };
}

function caught(fn: () => unknown): CreditsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CreditsError);
    return error as CreditsError;
  }
  throw new Error('expected a CreditsError');
}

describe('the seed example', () => {
  it('prices GPT-4o chat with 523 in, 1,247 out and 2 tool calls at exactly 8.0 credits', () => {
    const rate = findRate(DEFAULT_RATE_CARD, 'gpt-4o');
    const priced = priceUsage(rate, usage({ inputTokens: 523, outputTokens: 1247, toolCalls: 2 }));
    expect(priced.model).toBe('gpt-4o');
    expect(priced.tier).toBe('premium');
    expect(priced.lines).toEqual([
      { kind: 'input', label: 'Input tokens', quantity: 523, millicredits: 2100 },
      { kind: 'output', label: 'Output tokens', quantity: 1247, millicredits: 4900 },
      { kind: 'tool', label: 'Tool usage', quantity: 2, millicredits: 1000 },
    ]);
    expect(priced.totalMillicredits).toBe(8000);
  });
});

describe('the default rate card', () => {
  it('has the nine seed models with the right ids, names and tiers', () => {
    expect(DEFAULT_RATE_CARD.map((r) => [r.model, r.displayName, r.tier])).toEqual([
      ['gpt-4o', 'GPT-4o', 'premium'],
      ['claude-3-opus', 'Claude 3 Opus', 'premium'],
      ['gemini-1.5-pro', 'Gemini 1.5 Pro', 'premium'],
      ['gpt-4o-mini', 'GPT-4o mini', 'standard'],
      ['claude-3.5-sonnet', 'Claude 3.5 Sonnet', 'standard'],
      ['mistral-large', 'Mistral Large', 'standard'],
      ['gpt-3.5-turbo', 'GPT-3.5 Turbo', 'economy'],
      ['claude-3-haiku', 'Claude 3 Haiku', 'economy'],
      ['llama-3.1-groq', 'Llama 3.1 (via Groq)', 'economy'],
    ]);
    for (const rate of DEFAULT_RATE_CARD) {
      expect(makeRate(rate.model, rate.displayName, rate.tier, rate.inputPer1kMillicredits, rate.outputPer1kMillicredits, rate.toolCallMillicredits)).toEqual(
        rate,
      );
    }
  });

  it('orders every premium above every standard above every economy model', () => {
    const byTier = (tier: string): ModelRate[] => DEFAULT_RATE_CARD.filter((r) => r.tier === tier);
    const cost = (r: ModelRate): number => priceUsage(r, usage({ model: r.model, inputTokens: 1000, outputTokens: 1000 })).totalMillicredits;
    for (let i = 0; i + 1 < TIERS.length; i++) {
      const higher = byTier(TIERS[i]!);
      const lower = byTier(TIERS[i + 1]!);
      expect(higher.length).toBe(3);
      expect(lower.length).toBe(3);
      for (const h of higher) {
        for (const l of lower) {
          expect(cost(h)).toBeGreaterThan(cost(l));
          expect(h.inputPer1kMillicredits).toBeGreaterThan(l.inputPer1kMillicredits);
          expect(h.outputPer1kMillicredits).toBeGreaterThan(l.outputPer1kMillicredits);
          expect(h.toolCallMillicredits).toBeGreaterThan(l.toolCallMillicredits);
        }
      }
    }
  });

  it('is frozen', () => {
    expect(Object.isFrozen(DEFAULT_RATE_CARD)).toBe(true);
    expect(Object.isFrozen(DEFAULT_RATE_CARD[0])).toBe(true);
  });
});

describe('rounding', () => {
  it('rounds each part up to the whole millicredit', () => {
    const rate = findRate(DEFAULT_RATE_CARD, 'gpt-4o');
    const one = priceUsage(rate, usage({ inputTokens: 1 }));
    expect(one.lines[0]!.millicredits).toBe(5); // ceil(4015 / 1000)
    expect(one.totalMillicredits).toBe(5);
    expect(priceUsage(rate, usage({ outputTokens: 1 })).totalMillicredits).toBe(4); // ceil(3929 / 1000)
    expect(priceUsage(rate, usage({ inputTokens: 1, outputTokens: 1 })).totalMillicredits).toBe(9);
    expect(per1kCost(1000, 4015)).toBe(4015);
    expect(per1kCost(2, 500)).toBe(1);
    expect(per1kCost(0, 4015)).toBe(0);
  });

  it('stays exact where floating point would not', () => {
    expect(per1kCost(3, 1100)).toBe(4);
    expect(per1kCost(1000, 1100)).toBe(1100);
    // Products beyond 2^53 lose precision as floats; these are still computed exactly.
    expect(per1kCost(1_000_000_000_000, 7500)).toBe(7_500_000_000_000);
    // 999_999_999_999 x 15000 = 14_999_999_999_985_000 (> 2^53): exactly 14_999_999_999_985.
    expect(per1kCost(999_999_999_999, 15000)).toBe(14_999_999_999_985);
    // 999_999_999_999 x 9_007 = 9_006_999_999_990_993 (> 2^53): ceil is 9_006_999_999_991.
    expect(per1kCost(999_999_999_999, 9007)).toBe(9_006_999_999_991);
  });

  it('refuses a price that no longer fits a safe integer', () => {
    const huge = makeRate('huge', 'Huge', 'premium', Number.MAX_SAFE_INTEGER, 0, 0);
    const error = caught(() => priceUsage(huge, usage({ model: 'huge', inputTokens: 2000 })));
    expect(error.code).toBe('INVALID_VALUE');
  });
});

describe('images', () => {
  const rate = findRate(DEFAULT_RATE_CARD, 'gpt-4o');

  it('prices standard images at 25 credits each', () => {
    const priced = priceUsage(rate, usage({ feature: 'image', images: 1, imageSize: 'standard' }));
    expect(priced.lines).toContainEqual({ kind: 'image', label: 'Images (standard)', quantity: 1, millicredits: 25_000 });
    expect(priced.totalMillicredits).toBe(IMAGE_PRICE_MILLICREDITS.standard);
  });

  it('prices high resolution images at 50 credits each, variants add up', () => {
    const priced = priceUsage(rate, usage({ feature: 'image', images: 3, imageSize: 'hd', inputTokens: 523 }));
    expect(priced.lines).toContainEqual({ kind: 'image', label: 'Images (hd)', quantity: 3, millicredits: 150_000 });
    expect(priced.totalMillicredits).toBe(2100 + 150_000);
  });

  it('refuses images outside the image feature, naming --images', () => {
    const error = caught(() => priceUsage(rate, usage({ feature: 'chat', images: 1 })));
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.message).toContain('--images');
  });

  it('refuses an unknown image size', () => {
    const error = caught(() => priceUsage(rate, usage({ feature: 'image', images: 1, imageSize: 'huge' as 'hd' })));
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.message).toContain('--image-size');
  });
});

describe('database access surcharge', () => {
  const rate = findRate(DEFAULT_RATE_CARD, 'gpt-4o');

  it('adds 50% to a workflow', () => {
    const priced = priceUsage(rate, usage({ feature: 'workflow', inputTokens: 523, outputTokens: 1247, toolCalls: 2, dbAccess: true }));
    expect(DB_ACCESS_SURCHARGE_PERCENT).toBe(50);
    expect(priced.lines.at(-1)).toEqual({
      kind: 'surcharge',
      label: 'Database access surcharge (+50%)',
      quantity: 50,
      millicredits: 4000,
    });
    expect(priced.totalMillicredits).toBe(12_000);
  });

  it('rounds the surcharge up', () => {
    const priced = priceUsage(rate, usage({ feature: 'workflow', inputTokens: 1, dbAccess: true }));
    expect(priced.lines.at(-1)!.millicredits).toBe(3); // ceil(5 * 50 / 100)
    expect(priced.totalMillicredits).toBe(8);
    expect(surchargeOf(5, 50)).toBe(3);
  });

  it('adds nothing to a workflow without database access', () => {
    const priced = priceUsage(rate, usage({ feature: 'workflow', inputTokens: 523 }));
    expect(priced.lines.map((l) => l.kind)).toEqual(['input', 'output']);
    expect(priced.totalMillicredits).toBe(2100);
  });

  it('is refused on chat, naming --db-access', () => {
    const error = caught(() => priceUsage(rate, usage({ feature: 'chat', inputTokens: 10, dbAccess: true })));
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.message).toContain('--db-access');
  });
});

describe('unknown model', () => {
  it('fails with MODEL_NOT_FOUND naming the model and the known ids', () => {
    const error = caught(() => findRate(DEFAULT_RATE_CARD, 'gpt-5'));
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.exitCode).toBe(4);
    expect(error.message).toContain('"gpt-5"');
    for (const rate of DEFAULT_RATE_CARD) expect(error.message).toContain(rate.model);
  });

  it('finds a model regardless of case and spaces', () => {
    expect(findRate(DEFAULT_RATE_CARD, ' GPT-4o ').model).toBe('gpt-4o');
  });
});

describe('zero usage', () => {
  it('costs nothing and still shows input and output lines', () => {
    for (const rate of DEFAULT_RATE_CARD) {
      const priced = priceUsage(rate, usage({ model: rate.model }));
      expect(priced.totalMillicredits).toBe(0);
      expect(priced.lines).toEqual([
        { kind: 'input', label: 'Input tokens', quantity: 0, millicredits: 0 },
        { kind: 'output', label: 'Output tokens', quantity: 0, millicredits: 0 },
      ]);
    }
  });
});

describe('validation', () => {
  const rate = findRate(DEFAULT_RATE_CARD, 'gpt-4o');

  it.each([
    ['inputTokens', '--input-tokens', -1],
    ['outputTokens', '--output-tokens', 1.5],
    ['toolCalls', '--tool-calls', Number.NaN],
    ['images', '--images', Number.MAX_SAFE_INTEGER + 1],
  ] as const)('refuses a bad %s naming %s', (key, field, value) => {
    const error = caught(() => priceUsage(rate, usage({ [key]: value, feature: 'image' })));
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.message).toContain(field);
  });

  it('refuses pricing a usage with another model rate as a bug', () => {
    expect(caught(() => priceUsage(rate, usage({ model: 'claude-3-opus' }))).code).toBe('INTERNAL');
  });

  it('checks model ids and rates in makeRate', () => {
    const badId = caught(() => makeRate('GPT 4', 'x', 'premium', 1, 1, 1));
    expect(badId.code).toBe('INVALID_VALUE');
    expect(badId.message).toContain('MODEL');
    expect(caught(() => makeRate('-x', 'x', 'premium', 1, 1, 1)).code).toBe('INVALID_VALUE');
    expect(caught(() => makeRate('a'.repeat(65), 'x', 'premium', 1, 1, 1)).code).toBe('INVALID_VALUE');
    expect(makeRate('a'.repeat(64), 'x', 'premium', 0, 0, 0).model).toHaveLength(64);
    expect(caught(() => makeRate('m', 'x', 'premium', -1, 1, 1)).code).toBe('INVALID_VALUE');
    expect(caught(() => makeRate('m', 'x', 'premium', 1, 0.5, 1)).code).toBe('INVALID_VALUE');
    expect(caught(() => makeRate('m', 'x', 'premium', 1, 1, Number.MAX_SAFE_INTEGER + 1)).code).toBe('INVALID_VALUE');
    expect(caught(() => makeRate('m', ' ', 'premium', 1, 1, 1)).code).toBe('INVALID_VALUE');
    expect(caught(() => makeRate('m', 'x', 'luxury' as 'premium', 1, 1, 1)).code).toBe('INVALID_VALUE');
  });

  it('parses tiers and features, naming the field and the allowed values', () => {
    expect(parseTier(' Premium ')).toBe('premium');
    expect(parseFeature('workflow')).toBe('workflow');
    const tier = caught(() => parseTier('gold'));
    expect(tier.code).toBe('INVALID_VALUE');
    expect(tier.message).toContain('--tier');
    for (const t of TIERS) expect(tier.message).toContain(t);
    const feature = caught(() => parseFeature('video', '--kind'));
    expect(feature.message).toContain('--kind');
    for (const f of FEATURES) expect(feature.message).toContain(f);
  });
});
