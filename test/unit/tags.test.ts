import { describe, expect, it } from 'vitest';
import { MAX_TAGS, parseTagFlags, parseTagKey, parseTagsField, tagsFromJson, tagsJson, tagsText } from '../../src/core/tags.js';
import { parseUsageRecord } from '../../src/core/usageRecord.js';
import { refusal } from '../helpers/refusal.js';

describe('tags on usage events', () => {
  it('reads --tag key=value: keys folded to lower case and sorted, values trimmed with their case, = allowed in a value', () => {
    expect(parseTagFlags(['Team=ML', ' project = Apollo ', 'query=a=b'])).toEqual({ project: 'Apollo', query: 'a=b', team: 'ML' });
    expect(Object.keys(parseTagFlags(['z=1', 'a.b=2', 'm-n=3'])!)).toEqual(['a.b', 'm-n', 'z']);
    expect(parseTagFlags([])).toBeNull();
    // Composed and decomposed accents are one value.
    expect(parseTagFlags(['client=Cafe\u0301'])).toEqual(parseTagFlags(['client=Caf\u00e9']));
  });

  it('refuses bad keys, values, repeats and more than the maximum, naming the flag or field', () => {
    const cases: [() => unknown, string][] = [
      [() => parseTagFlags(['no-equals']), 'is not key=value'],
      [() => parseTagFlags(['=x']), 'is not a tag key'],
      [() => parseTagFlags(['cost center=x']), 'is not a tag key'],
      [() => parseTagFlags([`${'k'.repeat(33)}=x`]), 'is not a tag key'],
      [() => parseTagFlags(['__proto__=x']), 'is reserved'],
      [() => parseTagsField(JSON.parse('{"__proto__": "x"}')), 'is reserved'],
      [() => parseTagFlags(['k=']), 'must be 1-128 characters'],
      [() => parseTagFlags([`k=${'v'.repeat(129)}`]), 'must be 1-128 characters'],
      [() => parseTagFlags(['k=a;b']), 'control character or ";"'],
      [() => parseTagFlags(['k=a\u001b[2J']), 'control character'],
      [() => parseTagFlags(['k=\ud800']), 'control character'],
      [() => parseTagFlags(['k=1', 'K=2']), 'given twice'],
      [() => parseTagFlags(Array.from({ length: MAX_TAGS + 1 }, (_, index) => `k${index}=v`)), `at most ${MAX_TAGS} tags`],
      [() => parseTagsField({ project: 7 }), 'must be text'],
      [() => parseTagsField(['project']), 'must be an object'],
    ];
    for (const [parse, message] of cases) {
      const error = refusal(parse);
      expect([error.code, error.message], message).toEqual(['INVALID_VALUE', expect.stringContaining(message)]);
    }
    expect(refusal(() => parseTagFlags(['bad key=1'])).message).toMatch(/^--tag: /);
    expect(refusal(() => parseTagsField({ 'bad key': '1' })).message).toMatch(/^tags: /);
    expect(parseTagFlags(Array.from({ length: MAX_TAGS }, (_, index) => `k${index}=${'v'.repeat(128)}`))).not.toBeNull();
    expect(parseTagKey(' Project ', '--by')).toBe('project');
  });

  it('takes the field as a JSON object or as the text form of a CSV cell; stores one text per tag set', () => {
    const fromObject = parseTagsField({ team: 'ml', Project: 'apollo' });
    const fromText = parseTagsField('project=apollo;team=ml;');
    expect(fromObject).toEqual(fromText);
    expect(tagsJson(fromObject)).toBe('{"project":"apollo","team":"ml"}');
    expect(tagsJson(fromObject)).toBe(tagsJson(fromText));
    expect(tagsText(tagsFromJson(tagsJson(fromObject)))).toBe('project=apollo;team=ml');
    for (const none of [undefined, null, '', {}]) expect(parseTagsField(none)).toBeNull();
    expect(tagsFromJson(null)).toEqual({});
  });

  it('is a field of a usage record, named by flag or field', () => {
    const options = { timeZone: 'Europe/Berlin', nowMs: Date.UTC(2026, 10, 20), requireEventId: false };
    const raw = { user: 'ada@example.com', model: 'gpt-4o', inputTokens: 1 };
    expect(parseUsageRecord({ ...raw, tags: { project: 'apollo' } }, options).tags).toEqual({ project: 'apollo' });
    expect(parseUsageRecord(raw, options).tags).toBeNull();
    expect(refusal(() => parseUsageRecord({ ...raw, tags: 'x' }, { ...options, fieldNames: 'flags' })).message).toMatch(/^--tag: /);
  });
});
