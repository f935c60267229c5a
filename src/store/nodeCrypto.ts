import type * as Crypto from 'node:crypto';
import { createRequire } from 'node:module';

let loaded: typeof Crypto | undefined;

/**
 * node:crypto, loaded on first use: loading it costs 5-9 ms, a tenth of a cold start, and the
 * commands CI runs most (balance, check) never hash anything.
 */
export function nodeCrypto(): typeof Crypto {
  loaded ??= createRequire(import.meta.url)('node:crypto') as typeof Crypto;
  return loaded;
}
