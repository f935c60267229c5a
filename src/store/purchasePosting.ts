import { moveEntries } from '../core/ledger.js';
import type { PurchaseQuote } from '../core/packages.js';
import type { WriteTx } from './driver.js';
import type { LedgerWriter, PostedTransaction } from './ledgerWriter.js';
import { WORLD_ACCOUNT_ID } from './orgRepo.js';
import { insertPurchase, nextPurchaseId } from './purchaseRepo.js';

export type PurchaseActor = { actor: string; nowMs: number; idempotencyKey?: string | null | undefined };

/** Credits a purchase: world -> the account, hashed with the purchase id. */
export async function creditPurchase(
  ledger: LedgerWriter,
  who: PurchaseActor,
  purchase: { id: number; accountId: number; millicredits: number; packageName: string },
  kind: 'purchase' | 'recharge',
): Promise<PostedTransaction> {
  return ledger.post(
    {
      kind,
      actor: who.actor,
      memo: `purchase ${purchase.id}: ${purchase.packageName}${kind === 'recharge' ? ' (automatic recharge)' : ''}`,
      createdAtMs: who.nowMs,
      idempotencyKey: who.idempotencyKey ?? null,
      reversesTransactionId: null,
      entries: moveEntries(WORLD_ACCOUNT_ID, purchase.accountId, purchase.millicredits),
    },
    `purchase:${purchase.id}`,
  );
}

/**
 * Records a purchase, by hand or by a recharge rule: card and PayPal credit the account at once,
 * SEPA and invoice wait as pending until settled.
 */
export async function recordPurchase(
  tx: WriteTx,
  ledger: LedgerWriter,
  who: PurchaseActor,
  input: { quote: PurchaseQuote; accountId: number; origin: 'manual' | 'recharge'; scheduleId?: number | null },
): Promise<{ id: number; transactionId: number | null }> {
  const { quote } = input;
  // A pending purchase is refused now, not at settlement, when crediting it would pass the bound.
  const refusal = await ledger.boundRefusal(moveEntries(WORLD_ACCOUNT_ID, input.accountId, quote.millicredits));
  if (refusal !== null) throw refusal;
  const id = await nextPurchaseId(tx);
  const kind = input.origin === 'recharge' ? 'recharge' : 'purchase';
  const posted = quote.instant
    ? await creditPurchase(ledger, who, { id, accountId: input.accountId, millicredits: quote.millicredits, packageName: quote.packageName }, kind)
    : null;
  insertPurchase(
    tx,
    {
      id,
      packageName: quote.packageName,
      quantity: quote.quantity,
      millicredits: quote.millicredits,
      discountBasisPoints: quote.discountBasisPoints,
      priceCents: quote.priceCents,
      method: quote.method,
      status: quote.instant ? 'settled' : 'pending',
      accountId: input.accountId,
      actor: who.actor,
      createdAtMs: who.nowMs,
      settledAtMs: quote.instant ? who.nowMs : null,
      cancelledAtMs: null,
      transactionId: posted?.transactionId ?? null,
      origin: input.origin,
    },
    input.scheduleId ?? null,
  );
  return { id, transactionId: posted?.transactionId ?? null };
}
