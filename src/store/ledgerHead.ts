import type { SqlReader } from './driver.js';
import { chainHash } from './ledgerWriter.js';

/**
 * Where the ledger's two chains end: the ledger transactions (id, hash) and the state log (seq,
 * hash), and one hash over both, which is what a checkpoint signs.
 */
export type LedgerHead = {
  transactionId: number;
  transactionHash: string;
  stateSeq: number;
  stateHash: string;
  hash: string;
};

export function combinedHead(parts: Omit<LedgerHead, 'hash'>): LedgerHead {
  const content = `credits-head-v1\n${parts.transactionId}\n${parts.transactionHash}\n${parts.stateSeq}\n${parts.stateHash}`;
  return { ...parts, hash: chainHash('', content) };
}

/**
 * Why today's chains do not extend `earlier` (null when they do). Both chains were checked from
 * their start by verify, so the same hash at the same position proves everything before it.
 */
export async function whyNotExtending(db: SqlReader, earlier: LedgerHead, now: LedgerHead): Promise<string | null> {
  if (combinedHead(earlier).hash !== earlier.hash) return 'the checkpoint head does not add up to its own hash';
  if (now.transactionId < earlier.transactionId) {
    return `the ledger was cut back: the checkpoint saw transaction ${earlier.transactionId}, the ledger now ends at ${now.transactionId}`;
  }
  if (now.stateSeq < earlier.stateSeq) {
    return `the state log was cut back: the checkpoint saw record ${earlier.stateSeq}, the log now ends at ${now.stateSeq}`;
  }
  if (earlier.transactionId > 0) {
    const row = await db.get<{ hash: string }>('SELECT hash FROM ledger_transactions WHERE id = ?', [earlier.transactionId]);
    if (row?.hash !== earlier.transactionHash) return `the ledger forked from the checkpoint: transaction ${earlier.transactionId} has another hash`;
  }
  if (earlier.stateSeq > 0) {
    const row = await db.get<{ hash: string | null }>('SELECT hash FROM state_log WHERE seq = ?', [earlier.stateSeq]);
    if (row?.hash !== earlier.stateHash) return `the state log forked from the checkpoint: record ${earlier.stateSeq} has another hash`;
  }
  return null;
}
