import type * as Crypto from 'node:crypto';

/** node:crypto on first use: every command loads this module, and loading crypto costs 5-9 ms. */
const crypto = (): typeof Crypto => process.getBuiltinModule('node:crypto');

/**
 * A write to a remote ledger can lose its answer after it committed. So that running it again
 * cannot post it twice, every remote write carries an idempotency key; when the caller gave none,
 * one is made from the command and its arguments and a nonce of this invocation. The key is
 * printed with an "outcome unknown" error, in the exact command that is safe to run again.
 */
export function automaticIdempotencyKey(command: string, request: unknown, nonce: string): string {
  const digest = crypto()
    .createHash('sha256')
    .update(`${command}\n${JSON.stringify(request)}`)
    .digest('hex')
    .slice(0, 16);
  return `auto-${command.replace(/\s+/g, '-')}-${digest}-${nonce}`;
}

/** One per invocation: two runs of the same command are two writes unless the key is given again. */
export function invocationNonce(): string {
  return crypto().randomBytes(6).toString('hex');
}
