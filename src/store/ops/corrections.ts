import { formatMillicreditsPlain } from '../../core/amountText.js';
import { CreditsError } from '../../core/errors.js';
import type { Database, WriteTx } from '../driver.js';
import { runMutation, type MutationRequest } from '../mutation.js';
import { ORG_ACCOUNT_ID, WORLD_ACCOUNT_ID, listAccounts, requireAccount } from '../orgRepo.js';
import { reversalDetail, reversalEntries, type ReversedEvent } from '../reversals.js';
import { requireUsageEvent } from '../usageEventQueries.js';

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

export type ReversalResult = {
  transactionId: number;
  /** The usage transaction (batch) whose events were reversed. */
  reversesTransactionId: number;
  /** The event reversed, as it was named (one event), or null (a whole batch). */
  event: string | null;
  /** Events reversed now, and events of the batch reversed before (left alone). */
  events: number;
  alreadyReversed: number;
  /** The usage given back: what the events cost. */
  millicredits: number;
  /** What each department got back (the cost less what its overdraft drew from org). */
  departments: { department: string; millicredits: number }[];
  /** What went back to the org pool for overdraft draws. */
  drawnFromOrgMillicredits: number;
  reason: string;
};

type BatchEvent = ReversedEvent & { reversedBy: number | null };

function alreadyReversed(what: string, by: number, atMs: number): CreditsError {
  return new CreditsError('ALREADY_REVERSED', `${what} was reversed already, by transaction ${by} (${new Date(atMs).toISOString()})`, {
    hint: 'an event is reversed at most once; see `credits usage show` and `credits history --kind reversal`',
    details: { reversalTransactionId: by },
  });
}

/** The events to reverse: one named event, or every event of a usage batch not reversed yet. */
async function eventsToReverse(
  tx: WriteTx,
  input: { event?: string | undefined; importId?: number | undefined },
): Promise<{ events: ReversedEvent[]; original: number; before: number }> {
  if (input.event !== undefined) {
    const event = await requireUsageEvent(tx, input.event, 'EVENT_ID');
    const prior = await tx.get<{ transactionId: number; atMs: number }>(
      'SELECT r.transaction_id AS transactionId, t.created_at_ms AS atMs FROM usage_reversals r JOIN ledger_transactions t ON t.id = r.transaction_id WHERE r.usage_event_id = ?',
      [event.id],
    );
    if (prior) throw alreadyReversed(`event "${input.event.trim()}"`, prior.transactionId, prior.atMs);
    return { events: [event], original: event.transactionId, before: 0 };
  }
  const importId = input.importId!;
  const batch = await tx.get<{ kind: string }>('SELECT kind FROM ledger_transactions WHERE id = ?', [importId]);
  if (batch?.kind !== 'usage') {
    throw new CreditsError(
      'IMPORT_NOT_FOUND',
      `--import-id ${importId} is not a usage batch${batch ? ` (transaction ${importId} is of kind ${batch.kind})` : ''}`,
      {
        hint: "`usage import` prints the usage transactions it posted; `usage list` shows each event's, and `history --kind usage` lists them",
      },
    );
  }
  // No index leads from a batch to its events (each one costs every imported row): one pass over the table.
  const rows = await tx.all<BatchEvent>(
    `SELECT e.id AS id, e.department_id AS departmentId, e.cost_millicredits AS costMillicredits, e.drawn_from_org_millicredits AS drawnFromOrgMillicredits,
       r.transaction_id AS reversedBy
     FROM usage_events e LEFT JOIN usage_reversals r ON r.usage_event_id = e.id WHERE e.transaction_id = ? ORDER BY e.id`,
    [importId],
  );
  const events = rows.filter((row) => row.reversedBy === null);
  if (rows.length === 0) {
    throw new CreditsError('IMPORT_NOT_FOUND', `usage batch ${importId} holds no events to reverse`, {
      hint: "`usage list` shows each event's usage transaction",
    });
  }
  if (events.length === 0) {
    const by = Math.max(...rows.map((row) => row.reversedBy ?? 0));
    const at = await tx.get<{ atMs: number }>('SELECT created_at_ms AS atMs FROM ledger_transactions WHERE id = ?', [by]);
    throw alreadyReversed(`every event of usage batch ${importId}`, by, at?.atMs ?? 0);
  }
  return { events, original: importId, before: rows.length - events.length };
}

/**
 * Reverses usage (`credits usage reverse`): one event, or every event of a usage batch (an
 * import's batch of up to 5,000 events, an API batch) not reversed yet. One transaction of kind
 * `reversal`, referring to the batch, gives each department back what it paid and the org pool
 * what its overdraft drew, and is booked now: its month's reports and statements show it. The
 * reversed events are rows of usage_reversals, whose key makes a second reversal impossible, and
 * whose numbers the transaction's hash covers. The day totals (`usage_daily`) keep the usage as it
 * happened: a reversal does not free room under a limit.
 */
export async function reverseUsage(
  db: Database,
  request: MutationRequest,
  input: { event?: string | undefined; importId?: number | undefined; reason: string },
) {
  return runMutation(db, request, async ({ tx, ledger }): Promise<ReversalResult> => {
    const { events, original, before } = await eventsToReverse(tx, input);
    const entries = reversalEntries(events);
    if (entries.length < 2) {
      throw new CreditsError('INVALID_VALUE', 'nothing to reverse: the usage cost nothing', { hint: 'an event priced at 0 credits has nothing to give back' });
    }
    await ledger.load(entries.map((entry) => entry.accountId));
    const ids = events.map((event) => event.id);
    const posted = ledger.postLoaded(
      {
        kind: 'reversal',
        actor: request.actor,
        memo: input.reason,
        createdAtMs: request.nowMs,
        idempotencyKey: request.idempotencyKey ?? null,
        reversesTransactionId: original,
        entries,
      },
      reversalDetail(ids),
    );
    tx.runMany(
      'INSERT INTO usage_reversals (usage_event_id, transaction_id) VALUES (?, ?)',
      ids.map((id) => [id, posted.transactionId]),
    );
    const names = new Map((await listAccounts(tx)).map((account) => [account.id, account.name]));
    return {
      transactionId: posted.transactionId,
      reversesTransactionId: original,
      event: input.event === undefined ? null : input.event.trim(),
      events: events.length,
      alreadyReversed: before,
      millicredits: -(entries.find((entry) => entry.accountId === WORLD_ACCOUNT_ID)?.amountMillicredits ?? 0),
      departments: entries
        .filter((entry) => entry.accountId !== WORLD_ACCOUNT_ID && entry.accountId !== ORG_ACCOUNT_ID)
        .map((entry) => ({ department: names.get(entry.accountId) ?? `#${entry.accountId}`, millicredits: entry.amountMillicredits })),
      drawnFromOrgMillicredits: entries.find((entry) => entry.accountId === ORG_ACCOUNT_ID)?.amountMillicredits ?? 0,
      reason: input.reason,
    };
  });
}
