import { canonicalTransactionContent, usageHashDetail, type TransactionDraft, type TransactionKind, type UsageHashFacts } from '../core/ledger.js';
import type { SqlReader } from './driver.js';
import { GENESIS_HASH, chainHash } from './ledgerWriter.js';

export type VerifyProblem = { check: 'chain' | 'balanced' | 'balance' | 'overdraft' | 'rollup' | 'sequence'; transactionId: number | null; account?: string; message: string };

export type VerifyReport = {
  ok: boolean;
  transactions: number;
  entries: number;
  accounts: number;
  firstBrokenTransactionId: number | null;
  problems: VerifyProblem[];
};

const PAGE_SIZE = 5000;
const MAX_PROBLEMS = 50;

type TransactionRow = { id: number; kind: TransactionKind; actor: string; memo: string; createdAtMs: number; idempotencyKey: string | null; reversesTransactionId: number | null; hash: string; purchaseId: number | null };

/**
 * Recomputes everything the ledger stores twice: the hash chain, each transaction's zero sum,
 * the materialised balances, the usage rollups. Reads in pages so memory stays flat.
 */
export async function verifyLedger(db: SqlReader): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const note = (problem: VerifyProblem): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(problem);
  };
  const recomputed = new Map<number, number>();
  let previousHash = GENESIS_HASH;
  let expectedId = 1;
  let transactionCount = 0;
  let entryCount = 0;
  let lastId = 0;

  for (;;) {
    const transactions = await db.all<TransactionRow>(
      `SELECT t.id AS id, t.kind AS kind, t.actor AS actor, t.memo AS memo, t.created_at_ms AS createdAtMs, t.idempotency_key AS idempotencyKey,
         t.reverses_transaction_id AS reversesTransactionId, t.hash AS hash, p.id AS purchaseId
       FROM ledger_transactions t LEFT JOIN purchases p ON p.transaction_id = t.id WHERE t.id > ? ORDER BY t.id LIMIT ?`,
      [lastId, PAGE_SIZE],
    );
    if (transactions.length === 0) break;
    const firstId = transactions[0]!.id;
    const pageLastId = transactions[transactions.length - 1]!.id;
    const entries = await db.all<{ transactionId: number; accountId: number; amount: number }>(
      'SELECT transaction_id AS transactionId, account_id AS accountId, amount_millicredits AS amount FROM entries WHERE transaction_id BETWEEN ? AND ? ORDER BY transaction_id, id',
      [firstId, pageLastId],
    );
    const usage = await db.all<UsageHashFacts & { transactionId: number }>(
      `SELECT transaction_id AS transactionId, event_id AS eventId, occurred_at_ms AS occurredAtMs, user_id AS userId, model, feature, input_tokens AS inputTokens,
         output_tokens AS outputTokens, tool_calls AS toolCalls, images, image_size AS imageSize, db_access AS dbAccess, cost_millicredits AS costMillicredits
       FROM usage_events WHERE transaction_id BETWEEN ? AND ?`,
      [firstId, pageLastId],
    );
    const usageByTransaction = new Map(usage.map((row) => [row.transactionId, row]));
    let entryIndex = 0;
    for (const transaction of transactions) {
      if (transaction.id !== expectedId) {
        note({ check: 'sequence', transactionId: transaction.id, message: `transaction ${expectedId} is missing before ${transaction.id}` });
      }
      expectedId = transaction.id + 1;
      const own: { accountId: number; amountMillicredits: number }[] = [];
      while (entryIndex < entries.length && entries[entryIndex]!.transactionId === transaction.id) {
        const entry = entries[entryIndex]!;
        own.push({ accountId: entry.accountId, amountMillicredits: entry.amount });
        recomputed.set(entry.accountId, (recomputed.get(entry.accountId) ?? 0) + entry.amount);
        entryIndex += 1;
      }
      entryCount += own.length;
      const sum = own.reduce((total, entry) => total + entry.amountMillicredits, 0);
      if (own.length < 2 || sum !== 0) {
        note({ check: 'balanced', transactionId: transaction.id, message: `transaction ${transaction.id} has ${own.length} entries summing to ${sum}, not zero` });
      }
      const facts = usageByTransaction.get(transaction.id);
      const detail = facts ? usageHashDetail(facts) : transaction.purchaseId !== null ? `purchase:${transaction.purchaseId}` : '';
      const draft: TransactionDraft = { ...transaction, entries: own };
      const expectedHash = chainHash(previousHash, canonicalTransactionContent(transaction.id, draft, detail));
      if (expectedHash !== transaction.hash) {
        note({ check: 'chain', transactionId: transaction.id, message: `transaction ${transaction.id} does not match its hash: it or an earlier one was altered` });
      }
      previousHash = transaction.hash;
      transactionCount += 1;
    }
    lastId = pageLastId;
  }

  const accounts = await db.all<{ id: number; name: string; kind: string; balance: number }>('SELECT id, name, kind, balance_millicredits AS balance FROM accounts ORDER BY id');
  for (const account of accounts) {
    const fromEntries = recomputed.get(account.id) ?? 0;
    if (fromEntries !== account.balance) {
      note({ check: 'balance', transactionId: null, account: account.name, message: `${account.name} shows ${account.balance} millicredits but its entries sum to ${fromEntries}` });
    }
    if (account.kind !== 'world' && fromEntries < 0) {
      note({ check: 'overdraft', transactionId: null, account: account.name, message: `${account.name} is below zero (${fromEntries} millicredits)` });
    }
  }

  const rollupMismatch = await db.all<{ userId: number; model: string; feature: string }>(
    `SELECT coalesce(r.user_id, u.user_id) AS userId, coalesce(r.model, u.model) AS model, coalesce(r.feature, u.feature) AS feature
     FROM (SELECT user_id, department_id, model, feature, sum(event_count) AS n, sum(millicredits) AS total FROM usage_daily GROUP BY 1, 2, 3, 4) r
     FULL OUTER JOIN (SELECT user_id, department_id, model, feature, count(*) AS n, sum(cost_millicredits) AS total FROM usage_events GROUP BY 1, 2, 3, 4) u
       ON u.user_id = r.user_id AND u.department_id = r.department_id AND u.model = r.model AND u.feature = r.feature
     WHERE r.n IS NOT u.n OR r.total IS NOT u.total LIMIT 5`,
  );
  for (const row of rollupMismatch) {
    note({ check: 'rollup', transactionId: null, message: `usage totals for user ${row.userId}, ${row.model}, ${row.feature} do not match the events` });
  }

  const firstBroken = problems.find((problem) => problem.transactionId !== null)?.transactionId ?? null;
  return { ok: problems.length === 0, transactions: transactionCount, entries: entryCount, accounts: accounts.length, firstBrokenTransactionId: firstBroken, problems };
}
