import { describe, expect, it } from 'vitest';
import { formatStandardSecret, parseWebhookSecret, webhookKeyBytes } from '../../src/core/webhookSecret.js';

describe('webhook secrets', () => {
  it('a whsec_ secret keys with its decoded bytes, an old-style one with its UTF-8 text', () => {
    const bytes = Uint8Array.from({ length: 32 }, (_, index) => index);
    const secret = formatStandardSecret(bytes);
    expect(secret).toBe(`whsec_${Buffer.from(bytes).toString('base64')}`);
    expect(webhookKeyBytes(secret)).toEqual(bytes);
    expect(webhookKeyBytes('s3cret-old')).toEqual(new TextEncoder().encode('s3cret-old'));
    expect(() => formatStandardSecret(new Uint8Array(16))).toThrow(/24-64 bytes/);
  });

  it('--secret takes whsec_ with 24-64 bytes of base64, or 8-200 characters of old-style text', () => {
    const of = (length: number) => `whsec_${Buffer.alloc(length, 7).toString('base64')}`;
    expect(parseWebhookSecret(of(24), '--secret')).toBe(of(24));
    expect(parseWebhookSecret(of(64), '--secret')).toBe(of(64));
    expect(parseWebhookSecret('legacy-secret', '--secret')).toBe('legacy-secret');
    for (const bad of [of(23), of(65), 'whsec_not base64!', 'whsec_', 'short']) {
      expect(() => parseWebhookSecret(bad, '--secret'), bad).toThrow(/--secret/);
    }
  });
});
