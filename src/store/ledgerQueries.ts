import { scopeOf } from './scope.js';
import { accountShare, type Leg, type ShownLeg, userShare } from '../core/historyShare.js';
import type { AccountKind } from '../core/ledger.js';
import { baseMillicredits, percentLeft, type PercentBase } from '../core/percentLeft.js';
import { percentBases } from './percentBase.js';
import type { SqlReader, SqlValue } from './driver.js';
import { listAccounts, ORG_ACCOUNT_ID } from './orgRepo.js';

export type AccountBalance = { id: number; account: string; kind: AccountKind; costCenter: string | null; balanceMillicredits: number };

/** Every account but the outside world, from the materialised balances (one indexed read). */
export async function currentBalances(db: SqlReader): Promise<AccountBalance[]> {
  return (await listAccounts(db))
    .filter((row) => row.kind !== 'world')
    .map((row) => ({ id: row.id, account: row.name, kind: row.kind, costCenter: row.costCenter, balanceMillicredits: row.balanceMillicredits }));
}

/** Balances recomputed from the entries posted before `instantMs`. */
export async function balancesAsOf(db: SqlReader, instantMs: number): Promise<AccountBalance[]> {
  const accounts = (await listAccounts(db)).filter((row) => row.kind !== 'world');
  const sums = await db.all<{ accountId: number; balance: number }>(
    `SELECT e.account_id AS accountId, sum(e.amount_millicredits) AS balance FROM entries e
     JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.created_at_ms < ? GROUP BY e.account_id`,
    [instantMs],
  );
  const balanceById = new Map(sums.map((row) => [row.accountId, row.balance]));
  return accounts.map((row) => ({
    id: row.id,
    account: row.name,
    kind: row.kind,
    costCenter: row.costCenter,
    balanceMillicredits: balanceById.get(row.id) ?? 0,
  }));
}

export type BalanceWithPercent = AccountBalance & { percentLeft: number | null; percentBaseMillicredits: number; base: PercentBase | null };
export type OrganisationPercent = PercentBase & { percentLeft: number | null; percentBaseMillicredits: number };

/**
 * Every account's balance (all of them: the organisation's figure needs them) with its percentage
 * left (core/percentLeft.ts) as of `instantMs`, the instant the balances are of. The org pool's percentage is the organisation's: the pool is there to be
 * handed to departments, and handing it out spends nothing.
 */
export async function withPercentLeft(
  db: SqlReader,
  balances: AccountBalance[],
  instantMs: number,
  timeZone: string,
): Promise<{ accounts: BalanceWithPercent[]; organisation: OrganisationPercent }> {
  const bases = await percentBases(db, new Map(balances.map((row) => [row.id, row.balanceMillicredits])), instantMs, timeZone);
  const organisation = { ...bases.organisation, percentLeft: percentLeft(bases.organisation), percentBaseMillicredits: baseMillicredits(bases.organisation) };
  const accounts = balances.map((row) => {
    const base = row.kind === 'org' ? bases.organisation : bases.byAccount.get(row.id);
    return base === undefined
      ? { ...row, percentLeft: null, percentBaseMillicredits: 0, base: null }
      : { ...row, percentLeft: percentLeft(base), percentBaseMillicredits: baseMillicredits(base), base };
  });
  return { accounts, organisation };
}

export type HistoryFilter = {
  accountId?: number | undefined;
  userId?: number | undefined;
  model?: string | undefined;
  /** Transaction kinds to list (any of them); none or empty: every kind. */
  kinds?: readonly string[] | undefined;
  sinceMs?: number | undefined;
  untilMs?: number | undefined;
  /** Only transactions older than this one (the last id of the previous page). */
  beforeId?: number | undefined;
  limit: number;
};

/** A listed leg; `summary: true` (account "other accounts") stands for the legs a scoped reader does not see. */
export type HistoryEntry = ShownLeg;
export type HistoryItem = {
  id: number;
  kind: string;
  actor: string;
  memo: string;
  createdAtMs: number;
  idempotencyKey: string | null;
  reversesTransactionId: number | null;
  entries: HistoryEntry[];
};

/**
 * Newest first. Usage filters (user, model) select the usage transactions of those events. With
 * a user, each transaction shows that user's share; with an account (--dept), that account's
 * share (see core/historyShare.ts); with neither, whole transactions.
 */
/** The WHERE clause of a history filter, shared by the page and its count. */
function historyWhere(filter: HistoryFilter): { sql: string; args: SqlValue[] } {
  const where: string[] = [];
  const args: SqlValue[] = [];
  if (filter.kinds && filter.kinds.length > 0) {
    where.push(`t.kind IN (${filter.kinds.map(() => '?').join(', ')})`);
    args.push(...filter.kinds);
  }
  if (filter.sinceMs !== undefined) {
    where.push('t.created_at_ms >= ?');
    args.push(filter.sinceMs);
  }
  if (filter.untilMs !== undefined) {
    where.push('t.created_at_ms < ?');
    args.push(filter.untilMs);
  }
  if (filter.accountId !== undefined) {
    where.push('t.id IN (SELECT transaction_id FROM entries WHERE account_id = ?)');
    args.push(filter.accountId);
  }
  if (filter.userId !== undefined) {
    where.push('t.id IN (SELECT transaction_id FROM usage_events WHERE user_id = ?)');
    args.push(filter.userId);
  }
  if (filter.model !== undefined) {
    where.push('t.id IN (SELECT transaction_id FROM usage_events WHERE model = ?)');
    args.push(filter.model);
  }
  if (filter.beforeId !== undefined) {
    where.push('t.id < ?');
    args.push(filter.beforeId);
  }
  return { sql: where.length ? `WHERE ${where.join(' AND ')}` : '', args };
}

/** How many transactions the filter selects (before --limit cuts them). */
export async function historyCount(db: SqlReader, filter: HistoryFilter): Promise<number> {
  const { sql, args } = historyWhere(filter);
  const row = await db.get<{ total: number }>(`SELECT count(*) AS total FROM ledger_transactions t ${sql}`, args);
  return Number(row?.total ?? 0);
}

export async function history(db: SqlReader, filter: HistoryFilter): Promise<HistoryItem[]> {
  const matched = historyWhere(filter);
  const where = matched.sql === '' ? [] : [matched.sql.slice('WHERE '.length)];
  const args = [...matched.args];
  const rows = await db.all<{
    id: number;
    kind: string;
    actor: string;
    memo: string;
    createdAtMs: number;
    idempotencyKey: string | null;
    reversesTransactionId: number | null;
  }>(
    `SELECT t.id AS id, t.kind AS kind, t.actor AS actor, t.memo AS memo, t.created_at_ms AS createdAtMs, t.idempotency_key AS idempotencyKey,
       t.reverses_transaction_id AS reversesTransactionId
     FROM ledger_transactions t ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY t.id DESC LIMIT ?`,
    [...args, filter.limit],
  );
  if (rows.length === 0) return [];
  const firstId = rows[rows.length - 1]!.id;
  const lastId = rows[0]!.id;
  const legs = await legsBetween(db, firstId, lastId);
  const shares = filter.userId === undefined ? undefined : await userSharesBetween(db, filter.userId, firstId, lastId);
  const show = (id: number): HistoryEntry[] => {
    const own = legs.get(id) ?? [];
    if (shares) return userShare(own, shares.get(id) ?? new Map(), scopeOf(db)?.departmentId ?? null);
    if (filter.accountId !== undefined) return accountShare(own, filter.accountId);
    return own.map((leg) => ({ account: leg.account, millicredits: leg.millicredits }));
  };
  return rows.map((row) => ({ ...row, entries: show(row.id) }));
}

/** The legs of the transactions firstId..lastId, by transaction, each in entry id order. */
async function legsBetween(db: SqlReader, firstId: number, lastId: number): Promise<Map<number, Leg[]>> {
  const entries = await db.all<{ transactionId: number; accountId: number; account: string; accountKind: AccountKind; millicredits: number }>(
    `SELECT e.transaction_id AS transactionId, e.account_id AS accountId, a.name AS account, a.kind AS accountKind, e.amount_millicredits AS millicredits
     FROM entries e JOIN accounts a ON a.id = e.account_id WHERE e.transaction_id BETWEEN ? AND ? ORDER BY e.id`,
    [firstId, lastId],
  );
  const byTransaction = new Map<number, Leg[]>();
  for (const { transactionId, ...leg } of entries) {
    const list = byTransaction.get(transactionId) ?? [];
    list.push(leg);
    byTransaction.set(transactionId, list);
  }
  return byTransaction;
}

/**
 * A user's amount per account in each usage transaction firstId..lastId, from the per-transaction
 * usage totals (usage_batches, kept equal to the events by `verify`): their department pays the
 * cost less what it drew from org on its overdraft, org pays that draw.
 */
async function userSharesBetween(db: SqlReader, userId: number, firstId: number, lastId: number): Promise<Map<number, Map<number, number>>> {
  const rows = await db.all<{ transactionId: number; departmentId: number; costMillicredits: number; drawnMillicredits: number }>(
    `SELECT transaction_id AS transactionId, department_id AS departmentId, sum(millicredits) AS costMillicredits, sum(drawn_from_org_millicredits) AS drawnMillicredits
     FROM usage_batches WHERE transaction_id BETWEEN ? AND ? AND user_id = ? GROUP BY transaction_id, department_id`,
    [firstId, lastId, userId],
  );
  const shares = new Map<number, Map<number, number>>();
  for (const row of rows) {
    const share = shares.get(row.transactionId) ?? new Map<number, number>();
    share.set(row.departmentId, (share.get(row.departmentId) ?? 0) - (row.costMillicredits - row.drawnMillicredits));
    share.set(ORG_ACCOUNT_ID, (share.get(ORG_ACCOUNT_ID) ?? 0) - row.drawnMillicredits);
    shares.set(row.transactionId, share);
  }
  return shares;
}

export type AuditItem = {
  id: number;
  atMs: number;
  actor: string;
  command: string;
  args: unknown;
  outcome: string;
  transactionId: number | null;
  /** The API request that caused the row (x-request-id); null on the command line. */
  requestId: string | null;
};

export async function auditLog(db: SqlReader, filter: { sinceMs?: number | undefined; limit: number }): Promise<AuditItem[]> {
  const rows = await db.all<Omit<AuditItem, 'args'> & { argsJson: string }>(
    `SELECT id, at_ms AS atMs, actor, command, args_json AS argsJson, outcome, transaction_id AS transactionId, request_id AS requestId FROM audit_log
     ${filter.sinceMs !== undefined ? 'WHERE at_ms >= ?' : ''} ORDER BY id DESC LIMIT ?`,
    filter.sinceMs !== undefined ? [filter.sinceMs, filter.limit] : [filter.limit],
  );
  return rows.map(({ argsJson, ...row }) => ({ ...row, args: JSON.parse(argsJson) as unknown }));
}
