import { formatMillicreditsPlain } from '../../core/amountText.js';
import { CreditsError } from '../../core/errors.js';
import type { Database } from '../driver.js';
import { runMutation, type MutationRequest } from '../mutation.js';
import { WORLD_ACCOUNT_ID, requireAccount } from '../orgRepo.js';

export type AdjustmentResult = {
  transactionId: number;
  account: string;
  /** Signed: positive adds credits to the account, negative takes them away. */
  millicredits: number;
  reason: string;
  balanceMillicredits: number;
};

/**
 * A correction of one account against the outside world (`credits adjust`): its own transaction
 * of kind `adjustment`, with the reason as its memo, chained and audited like every other. An
 * adjustment down is refused when the account does not hold that much (nothing is written).
 */
export async function adjustAccount(db: Database, request: MutationRequest, input: { account: string; millicredits: number; reason: string }) {
  return runMutation(db, request, async ({ tx, ledger }): Promise<AdjustmentResult> => {
    const account = await requireAccount(tx, input.account, 'ACCOUNT');
    await ledger.load([WORLD_ACCOUNT_ID, account.id]);
    const balance = ledger.balanceOf(account.id);
    if (balance + input.millicredits < 0) {
      throw new CreditsError(
        'INSUFFICIENT_CREDITS',
        `${account.name} has ${formatMillicreditsPlain(balance)} credits: an adjustment of -${formatMillicreditsPlain(-input.millicredits)} would take it below zero`,
        {
          hint: `adjust by at most -${formatMillicreditsPlain(balance)}, or move credits into ${account.name} first`,
          details: { account: account.name, balanceMillicredits: balance, neededMillicredits: -input.millicredits },
        },
      );
    }
    const posted = ledger.postLoaded({
      kind: 'adjustment',
      actor: request.actor,
      memo: input.reason,
      createdAtMs: request.nowMs,
      idempotencyKey: request.idempotencyKey ?? null,
      reversesTransactionId: null,
      entries: [
        { accountId: WORLD_ACCOUNT_ID, amountMillicredits: -input.millicredits },
        { accountId: account.id, amountMillicredits: input.millicredits },
      ],
    });
    return {
      transactionId: posted.transactionId,
      account: account.name,
      millicredits: input.millicredits,
      reason: input.reason,
      balanceMillicredits: ledger.balanceOf(account.id),
    };
  });
}
