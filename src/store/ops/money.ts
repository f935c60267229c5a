import { CreditsError } from '../../core/errors.js';
import { moveEntries } from '../../core/ledger.js';
import type { PurchaseQuote } from '../../core/packages.js';
import { formatMillicreditsPlain } from '../../core/amountText.js';
import type { Database } from '../driver.js';
import { runMutation, type MutationRequest } from '../mutation.js';
import { requireAccount } from '../orgRepo.js';
import { markCancelled, markSettled, requirePurchase, type PurchaseRow } from '../purchaseRepo.js';
import { creditPurchase, recordPurchase } from '../purchasePosting.js';

export type PurchaseResult = {
  purchaseId: number;
  packageName: string;
  quantity: number;
  millicredits: number;
  priceCents: number;
  discountBasisPoints: number;
  method: string;
  status: 'pending' | 'settled';
  account: string;
  transactionId: number | null;
  balanceMillicredits: number;
};

export async function buyCredits(
  db: Database,
  request: MutationRequest,
  input: { quote: PurchaseQuote; accountName: string },
): Promise<PurchaseResult & { dryRun: boolean; replayed: boolean }> {
  return runMutation(db, request, async ({ tx, ledger }) => {
    const account = await requireAccount(tx, input.accountName, '--for');
    const { quote } = input;
    const { id, transactionId } = await recordPurchase(tx, ledger, request, { quote, accountId: account.id, origin: 'manual' });
    await ledger.load([account.id]);
    return {
      purchaseId: id,
      packageName: quote.packageName,
      quantity: quote.quantity,
      millicredits: quote.millicredits,
      priceCents: quote.priceCents,
      discountBasisPoints: quote.discountBasisPoints,
      method: quote.method,
      status: quote.instant ? ('settled' as const) : ('pending' as const),
      account: account.name,
      transactionId,
      balanceMillicredits: ledger.balanceOf(account.id),
    };
  });
}

function requirePending(purchase: PurchaseRow, action: string): void {
  if (purchase.status !== 'pending') {
    throw new CreditsError('NOT_PENDING', `purchase ${purchase.id} is ${purchase.status}; only a pending purchase can be ${action}`, {
      hint: 'purchased credits are never refunded; correct a mistake with a transfer',
    });
  }
}

export async function settlePurchase(db: Database, request: MutationRequest, purchaseId: number) {
  return runMutation(db, request, async ({ tx, ledger }) => {
    const purchase = await requirePurchase(tx, purchaseId);
    requirePending(purchase, 'settled');
    const posted = await creditPurchase(ledger, request, purchase, purchase.origin === 'recharge' ? 'recharge' : 'purchase');
    markSettled(tx, purchase.id, request.nowMs, posted.transactionId);
    return {
      purchaseId: purchase.id,
      status: 'settled' as const,
      account: purchase.account,
      millicredits: purchase.millicredits,
      transactionId: posted.transactionId,
      balanceMillicredits: ledger.balanceOf(purchase.accountId),
    };
  });
}

export async function cancelPurchase(db: Database, request: MutationRequest, purchaseId: number) {
  return runMutation(db, request, async ({ tx }) => {
    const purchase = await requirePurchase(tx, purchaseId);
    requirePending(purchase, 'cancelled');
    markCancelled(tx, purchase.id, request.nowMs);
    return { purchaseId: purchase.id, status: 'cancelled' as const, account: purchase.account, millicredits: purchase.millicredits };
  });
}

export type TransferResult = {
  transactionId: number;
  from: string;
  to: string;
  millicredits: number;
  fromBalanceMillicredits: number;
  toBalanceMillicredits: number;
};

export async function transferCredits(db: Database, request: MutationRequest, input: { from: string; to: string; millicredits: number; reason: string }) {
  return runMutation(db, request, async ({ tx, ledger }): Promise<TransferResult> => {
    const from = await requireAccount(tx, input.from, '--from');
    // A department-bound caller may give credits back to the org pool, and reach no other department.
    const to = await requireAccount(tx, input.to, '--to', true);
    if (from.id === to.id) {
      throw new CreditsError('SAME_ACCOUNT', `--from and --to are both "${from.name}"`, { hint: 'name two different accounts' });
    }
    await ledger.load([from.id, to.id]);
    // Credits open holds keep are not the account's to give away (see `usage hold`).
    if (ledger.availableOf(from.id) < input.millicredits) {
      const held = ledger.heldOf(from.id);
      throw new CreditsError(
        'INSUFFICIENT_CREDITS',
        `${from.name} has ${formatMillicreditsPlain(ledger.balanceOf(from.id))} credits${held > 0 ? ` (${formatMillicreditsPlain(held)} of them held for calls in progress)` : ''}, cannot transfer ${formatMillicreditsPlain(input.millicredits)}`,
        {
          hint: from.kind === 'org' ? 'buy a package first (`credits buy`)' : `transfer less, or move credits into ${from.name} first`,
          details: { account: from.name, balanceMillicredits: ledger.balanceOf(from.id), heldMillicredits: held, neededMillicredits: input.millicredits },
        },
      );
    }
    const posted = ledger.postLoaded({
      kind: from.kind === 'org' ? 'allocation' : 'transfer',
      actor: request.actor,
      memo: input.reason,
      createdAtMs: request.nowMs,
      idempotencyKey: request.idempotencyKey ?? null,
      reversesTransactionId: null,
      entries: moveEntries(from.id, to.id, input.millicredits),
    });
    return {
      transactionId: posted.transactionId,
      from: from.name,
      to: to.name,
      millicredits: input.millicredits,
      fromBalanceMillicredits: ledger.balanceOf(from.id),
      toBalanceMillicredits: ledger.balanceOf(to.id),
    };
  });
}
