import { CreditsError } from './errors.js';

/**
 * Webhook secrets. A Standard Webhooks secret is `whsec_` + base64 of 24-64 random bytes, and its
 * HMAC key is those bytes. Secrets given before that (8-200 characters of any kind) still sign:
 * their key is the text's UTF-8 bytes, what the `standardwebhooks` package's `{ format: 'raw' }`
 * takes for ASCII text.
 */
export const STANDARD_SECRET_PREFIX = 'whsec_';
export const STANDARD_SECRET_BYTES = { min: 24, max: 64, generated: 32 } as const;
const LEGACY_SECRET_LENGTH = { min: 8, max: 200 } as const;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export type WebhookSecretKind = 'standard' | 'legacy';

export function webhookSecretKind(secret: string): WebhookSecretKind {
  return secret.startsWith(STANDARD_SECRET_PREFIX) ? 'standard' : 'legacy';
}

/** The HMAC key of a secret: the decoded bytes of a `whsec_` secret, else the text's UTF-8 bytes. */
export function webhookKeyBytes(secret: string): Uint8Array {
  if (webhookSecretKind(secret) === 'legacy') return new TextEncoder().encode(secret);
  return Uint8Array.from(Buffer.from(secret.slice(STANDARD_SECRET_PREFIX.length), 'base64'));
}

/** `whsec_` + base64 of the given random bytes (the caller draws them: core does no I/O). */
export function formatStandardSecret(randomBytes: Uint8Array): string {
  if (randomBytes.length < STANDARD_SECRET_BYTES.min || randomBytes.length > STANDARD_SECRET_BYTES.max)
    throw new Error(`a webhook secret needs ${STANDARD_SECRET_BYTES.min}-${STANDARD_SECRET_BYTES.max} bytes, got ${randomBytes.length}`);
  return `${STANDARD_SECRET_PREFIX}${Buffer.from(randomBytes).toString('base64')}`;
}

/** Checks a secret given on the command line: a well-formed `whsec_` secret, or an old-style one. */
export function parseWebhookSecret(text: string, flag: string): string {
  if (webhookSecretKind(text) === 'legacy') {
    if (text.length < LEGACY_SECRET_LENGTH.min || text.length > LEGACY_SECRET_LENGTH.max)
      throw new CreditsError('INVALID_VALUE', `${flag} must be 8-200 characters`, { hint: 'or leave it out: a whsec_ secret is generated and shown' });
    return text;
  }
  const encoded = text.slice(STANDARD_SECRET_PREFIX.length);
  const bytes = BASE64.test(encoded) && encoded.length % 4 === 0 ? Buffer.from(encoded, 'base64').length : 0;
  if (bytes < STANDARD_SECRET_BYTES.min || bytes > STANDARD_SECRET_BYTES.max)
    throw new CreditsError('INVALID_VALUE', `${flag}: a whsec_ secret is whsec_ followed by base64 of 24-64 bytes`, {
      hint: 'leave --secret out and one is generated, like whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    });
  return text;
}
