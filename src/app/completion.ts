import type { Config } from '../config.js';
import { isCompletionNameKind, readCompletionNames } from '../store/completionNames.js';

/**
 * The names shell completion offers for KIND (departments, accounts, users, models, purchases):
 * read from a local ledger only; through a server it offers none. The caller is the ledger's own
 * machine, so there is no department scope to apply. Kept free of the command registry: it runs
 * on every Tab press.
 */
export async function completionCandidates(config: Config, kind: string): Promise<string[]> {
  if (!isCompletionNameKind(kind) || config.server !== undefined) return [];
  return readCompletionNames(config.ledgerLocation, kind);
}
