import { CreditsError } from '../core/errors.js';

const SAFE_WORD = /^[A-Za-z0-9_./:=@%+,-]+$/;

/** One word of a command line as a POSIX shell reads it back. */
export function shellWord(word: string): string {
  return SAFE_WORD.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function givenKey(argv: readonly string[]): boolean {
  return argv.some((word) => word === '--idempotency-key' || word.startsWith('--idempotency-key='));
}

/**
 * An "outcome unknown" error says exactly what is safe to run: the same command with the key the
 * write carried, which the ledger applies at most once.
 */
export function withRetryCommand(failure: CreditsError, argv: readonly string[], automaticKey: string | undefined): CreditsError {
  const sentKey = typeof failure.details?.idempotencyKey === 'string' ? failure.details.idempotencyKey : automaticKey;
  if (!givenKey(argv) && sentKey === undefined) return failure;
  const words = givenKey(argv) ? [...argv] : [...argv, '--idempotency-key', sentKey as string];
  const retryCommand = ['credits', ...words].map(shellWord).join(' ');
  return new CreditsError(failure.code, failure.message, {
    hint: `run exactly this to finish it; it is applied at most once: ${retryCommand}`,
    details: { ...failure.details, ...(sentKey === undefined ? {} : { idempotencyKey: sentKey }), retryCommand },
    cause: failure,
  });
}
