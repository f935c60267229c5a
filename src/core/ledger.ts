import { assert } from './errors.js';

export type TransactionKind = 'purchase' | 'allocation' | 'transfer' | 'usage' | 'recharge' | 'reversal' | 'adjustment';
export type AccountKind = 'world' | 'org' | 'department';

export type Entry = { accountId: number; amountMillicredits: number };

export type TransactionDraft = {
  kind: TransactionKind;
  actor: string;
  memo: string;
  createdAtMs: number;
  idempotencyKey: string | null;
  reversesTransactionId: number | null;
  entries: Entry[];
};

/** Double entry: two or more entries, whole millicredits, summing to zero. */
export function assertBalanced(entries: readonly Entry[]): void {
  assert(entries.length >= 2, 'a transaction has at least two entries');
  let sum = 0;
  for (const entry of entries) {
    assert(Number.isSafeInteger(entry.amountMillicredits), 'entry amounts are whole millicredits');
    assert(entry.amountMillicredits !== 0, 'entries move a non-zero amount');
    sum += entry.amountMillicredits;
  }
  assert(sum === 0, `entries sum to zero, got ${sum}`);
}

export function moveEntries(fromAccountId: number, toAccountId: number, amountMillicredits: number): Entry[] {
  assert(fromAccountId !== toAccountId, 'a move has two different accounts');
  assert(amountMillicredits > 0, 'a move is positive');
  return [
    { accountId: fromAccountId, amountMillicredits: -amountMillicredits },
    { accountId: toAccountId, amountMillicredits },
  ];
}

/**
 * The text that is hashed for a transaction. Field order is fixed and every value is spelled
 * out, so the same transaction always gives the same hash on any machine.
 */
export function canonicalTransactionContent(id: number, draft: TransactionDraft, detail: string): string {
  const entries = draft.entries.map((entry) => `${entry.accountId}:${entry.amountMillicredits}`).join(',');
  return JSON.stringify([id, draft.kind, draft.actor, draft.memo, draft.createdAtMs, draft.idempotencyKey, draft.reversesTransactionId, entries, detail]);
}

/** Kinds that count as a top-up: they reset the base of "percentage left" for the receiver. */
export const TOPUP_KINDS: readonly TransactionKind[] = ['purchase', 'allocation', 'transfer', 'recharge'];
