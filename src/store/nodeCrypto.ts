import type * as Crypto from 'node:crypto';

let loaded: typeof Crypto | undefined;

/**
 * node:crypto, loaded on first use: loading it costs 5-9 ms, a tenth of a cold start, and the
 * commands CI runs most (balance, check) never hash anything.
 */
export function nodeCrypto(): typeof Crypto {
  // process.getBuiltinModule, not createRequire: node:module itself costs 16 ms to load on Node 22.
  loaded ??= process.getBuiltinModule('node:crypto');
  return loaded;
}
