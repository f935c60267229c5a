import { CreditsError } from '../../src/core/errors.js';

/** The CreditsError that `run` throws; fails the test when it throws nothing or something else. */
export function refusal(run: () => unknown): CreditsError {
  try {
    run();
  } catch (error) {
    if (error instanceof CreditsError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}
