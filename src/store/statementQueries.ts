import { assert } from '../core/errors.js';
import { footStatement, footUsageRows, type StatementCents } from '../core/statementFooting.js';
import { localDateKey, monthBounds } from '../core/time.js';
import type { SqlReader } from './driver.js';
import { listAccounts } from './orgRepo.js';

/** A line of a usage breakdown; `cents` is its euro value, footed to the breakdown's total (the usage rounded once). */
export type UsageGroupRow = { label: string; events: number; millicredits: number; cents: number };

export type StatementFacts = {
  monthKey: string;
  department: { name: string; costCenter: string | null } | null;
  openingMillicredits: number;
  purchases: {
    dayKey: string;
    reference: string;
    description: string;
    method: 'card' | 'paypal' | 'sepa' | 'invoice';
    /** Credits credited. */
    millicredits: number;
    /** The price paid. */
    priceCents: number;
    /** The credits' list value above the price paid, footed (0 without a discount). */
    discountCents: number;
  }[];
  transfers: { dayKey: string; direction: 'in' | 'out'; counterparty: string; memo: string; millicredits: number; cents: number }[];
  /** All usage in scope, in full: for a department, what its overdraft drew from org included. */
  usageMillicredits: number;
  usageEvents: number;
  /**
   * Of the usage of a department, what its overdraft rule drew from org: a line of its own that
   * adds back to the department's balance, so that opening + lines = closing.
   */
  usageDrawnFromOrgMillicredits: number;
  /**
   * Usage given back by reversals booked in the month (`usage reverse`), as it reached the scope:
   * a line of its own after the usage, whatever month the reversed events were used in.
   */
  reversalsMillicredits: number;
  /** The events those reversals reversed (of the scope's department, for a department's statement). */
  reversalEvents: number;
  /** Corrections (`credits adjust`) in the month, signed: the total of `adjustments`. */
  adjustmentsMillicredits: number;
  /** Each correction on its own line, with its reason. */
  adjustments: { dayKey: string; reason: string; millicredits: number; cents: number }[];
  closingMillicredits: number;
  openingCents: number;
  usageCents: number;
  usageDrawnFromOrgCents: number;
  reversalsCents: number;
  adjustmentsCents: number;
  closingCents: number;
  usageByDepartment: (UsageGroupRow & { costCenter: string | null })[];
  usageByUser: (UsageGroupRow & { department: string })[];
  usageByModel: UsageGroupRow[];
  usageByFeature: UsageGroupRow[];
};

type PurchaseLine = Omit<StatementFacts['purchases'][number], 'discountCents'>;
type TransferLine = Omit<StatementFacts['transfers'][number], 'cents'>;
type AdjustmentLine = Omit<StatementFacts['adjustments'][number], 'cents'>;
type UsageLine = Omit<UsageGroupRow, 'cents'>;
type UsageBreakdown = {
  usageByDepartment: (UsageLine & { costCenter: string | null })[];
  usageByUser: (UsageLine & { department: string })[];
  usageByModel: UsageLine[];
  usageByFeature: UsageLine[];
};
/** A statement's facts in millicredits, before its euro figures are footed. */
type StatementAmountsFacts = Omit<
  StatementFacts,
  | 'purchases'
  | 'transfers'
  | 'adjustments'
  | keyof UsageBreakdown
  | 'openingCents'
  | 'usageCents'
  | 'usageDrawnFromOrgCents'
  | 'reversalsCents'
  | 'adjustmentsCents'
  | 'closingCents'
> &
  UsageBreakdown & { purchases: PurchaseLine[]; transfers: TransferLine[]; adjustments: AdjustmentLine[] };

/** The first transaction posted at or after `instantMs` (or the next id to come). */
async function firstTransactionFrom(db: SqlReader, instantMs: number): Promise<number> {
  const row = await db.get<{ id: number | null }>('SELECT min(id) AS id FROM ledger_transactions WHERE created_at_ms >= ?', [instantMs]);
  if (row?.id != null) return row.id;
  const last = await db.get<{ id: number | null }>('SELECT max(id) AS id FROM ledger_transactions');
  return (last?.id ?? 0) + 1;
}

/** The month as transaction ids: from `startId` (inclusive) to `endId` (exclusive). */
type TransactionRange = { startId: number; endId: number };

/** One entry of a transaction other than usage, with its transaction's kind, memo and time. */
type MoveRow = { id: number; kind: string; memo: string; createdAtMs: number; accountId: number; amount: number };

type MonthPurchaseRow = {
  id: number;
  transactionId: number;
  packageName: string;
  quantity: number;
  method: StatementFacts['purchases'][number]['method'];
  millicredits: number;
  priceCents: number;
  discountBasisPoints: number;
};

/** Usage of one department, user, model and feature in the month. */
type UsageGroup = { departmentId: number; userId: number; model: string; feature: string; events: number; millicredits: number; drawn: number };

/** The balance of the accounts in scope (`scopeList`: their ids, comma-separated) before a transaction. */
async function balanceBefore(db: SqlReader, scopeList: string, transactionId: number): Promise<number> {
  return (
    (
      await db.get<{ total: number | null }>(
        `SELECT sum(amount_millicredits) AS total FROM entries WHERE account_id IN (${scopeList}) AND transaction_id < ?`,
        [transactionId],
      )
    )?.total ?? 0
  );
}

/**
 * Purchases, transfers, reversals and adjustments as seen from the scope: a move inside it nets
 * to zero and is left out. A reversal is what it gave back to the scope; any other kind (an
 * adjustment) is a correction listed on its own line with its memo, the reason.
 */
function classifyMoves(
  moves: MoveRow[],
  purchaseByTransaction: Map<number, MonthPurchaseRow>,
  inScope: ReadonlySet<number>,
  names: ReadonlyMap<number, string>,
  timeZone: string,
): Pick<StatementAmountsFacts, 'purchases' | 'transfers' | 'reversalsMillicredits' | 'adjustmentsMillicredits' | 'adjustments'> {
  const byTransaction = new Map<number, MoveRow[]>();
  for (const move of moves) {
    const list = byTransaction.get(move.id) ?? [];
    list.push(move);
    byTransaction.set(move.id, list);
  }
  const purchases: PurchaseLine[] = [];
  const transfers: TransferLine[] = [];
  const adjustments: AdjustmentLine[] = [];
  let reversalsMillicredits = 0;
  let adjustmentsMillicredits = 0;
  for (const [transactionId, list] of byTransaction) {
    const first = list[0]!;
    const net = list.filter((move) => inScope.has(move.accountId)).reduce((sum, move) => sum + move.amount, 0);
    if (net === 0) continue; // a move inside the scope, like an allocation from org to a department in an org statement
    const dayKey = localDateKey(first.createdAtMs, timeZone);
    const purchase = purchaseByTransaction.get(transactionId);
    if ((first.kind === 'purchase' || first.kind === 'recharge') && purchase) {
      const name = purchase.packageName.charAt(0).toUpperCase() + purchase.packageName.slice(1);
      purchases.push({
        dayKey,
        reference: `#${purchase.id}`,
        description: `${name}${purchase.quantity > 1 ? ` × ${purchase.quantity}` : ''}${first.kind === 'recharge' ? ' (automatic recharge)' : ''}`,
        method: purchase.method,
        millicredits: net,
        priceCents: purchase.priceCents,
      });
    } else if (first.kind === 'allocation' || first.kind === 'transfer') {
      const other = list.find((move) => !inScope.has(move.accountId));
      transfers.push({
        dayKey,
        direction: net > 0 ? 'in' : 'out',
        counterparty: other ? (names.get(other.accountId) ?? 'org') : 'org',
        memo: first.memo,
        millicredits: Math.abs(net),
      });
    } else if (first.kind === 'reversal') {
      reversalsMillicredits += net;
    } else {
      adjustmentsMillicredits += net;
      adjustments.push({ dayKey, reason: first.memo, millicredits: net });
    }
  }
  return { purchases, transfers, reversalsMillicredits, adjustmentsMillicredits, adjustments };
}

/** Usage batches of the month grouped by department, user, model and feature (one department's, or all). */
async function usageGroups(db: SqlReader, range: TransactionRange, departmentId: number | null): Promise<UsageGroup[]> {
  const usageRange = await db.get<{ first: number | null; last: number | null }>(
    `SELECT min(id) AS first, max(id) AS last FROM ledger_transactions WHERE id >= ? AND id < ? AND kind = 'usage'`,
    [range.startId, range.endId],
  );
  if (usageRange?.first == null) return [];
  return db.all<UsageGroup>(
    `SELECT department_id AS departmentId, user_id AS userId, model, feature, sum(event_count) AS events, sum(millicredits) AS millicredits, sum(drawn_from_org_millicredits) AS drawn
           FROM usage_batches WHERE transaction_id BETWEEN ? AND ?${departmentId === null ? '' : ' AND department_id = ?'}
           GROUP BY department_id, user_id, model, feature`,
    departmentId === null ? [usageRange.first, usageRange.last] : [usageRange.first, usageRange.last, departmentId],
  );
}

/** Groups added up by a key, biggest spend first, then by key; `sample` is one group of each. */
function sumGroupsBy<K>(groups: UsageGroup[], keyOf: (row: UsageGroup) => K): [K, { events: number; millicredits: number; sample: UsageGroup }][] {
  const totals = new Map<K, { events: number; millicredits: number; sample: UsageGroup }>();
  for (const row of groups) {
    const key = keyOf(row);
    const total = totals.get(key) ?? { events: 0, millicredits: 0, sample: row };
    total.events += row.events;
    total.millicredits += row.millicredits;
    totals.set(key, total);
  }
  return [...totals.entries()].sort((a, b) => b[1].millicredits - a[1].millicredits || String(a[0]).localeCompare(String(b[0])));
}

/** Usage by department (with its cost centre), user, model and feature. */
function usageBreakdown(
  groups: UsageGroup[],
  names: ReadonlyMap<number, string>,
  costCenters: ReadonlyMap<number, string | null>,
  emails: ReadonlyMap<number, string>,
): UsageBreakdown {
  return {
    usageByDepartment: sumGroupsBy(groups, (row) => row.departmentId).map(([id, total]) => ({
      label: names.get(id) ?? `#${id}`,
      costCenter: costCenters.get(id) ?? null,
      events: total.events,
      millicredits: total.millicredits,
    })),
    usageByUser: sumGroupsBy(groups, (row) => `${row.userId}|${row.departmentId}`).map(([, total]) => ({
      label: emails.get(total.sample.userId) ?? `#${total.sample.userId}`,
      department: names.get(total.sample.departmentId) ?? '',
      events: total.events,
      millicredits: total.millicredits,
    })),
    usageByModel: sumGroupsBy(groups, (row) => row.model).map(([model, total]) => ({ label: model, events: total.events, millicredits: total.millicredits })),
    usageByFeature: sumGroupsBy(groups, (row) => row.feature).map(([feature, total]) => ({
      label: feature,
      events: total.events,
      millicredits: total.millicredits,
    })),
  };
}

function assertReconciles(facts: StatementAmountsFacts): void {
  const {
    purchases,
    transfers,
    usageMillicredits,
    usageDrawnFromOrgMillicredits,
    reversalsMillicredits,
    adjustmentsMillicredits,
    openingMillicredits,
    closingMillicredits,
  } = facts;
  const moved =
    purchases.reduce((sum, row) => sum + row.millicredits, 0) +
    transfers.reduce((sum, row) => sum + (row.direction === 'in' ? row.millicredits : -row.millicredits), 0) -
    usageMillicredits +
    usageDrawnFromOrgMillicredits +
    reversalsMillicredits +
    adjustmentsMillicredits;
  assert(
    openingMillicredits + moved === closingMillicredits,
    `statement ${facts.monthKey}: opening ${openingMillicredits} + movements ${moved} = closing ${closingMillicredits}`,
  );
  for (const [name, rows] of Object.entries({
    department: facts.usageByDepartment,
    user: facts.usageByUser,
    model: facts.usageByModel,
    feature: facts.usageByFeature,
  })) {
    const breakdown = rows.reduce((sum, row) => sum + row.millicredits, 0);
    assert(breakdown === usageMillicredits, `statement ${facts.monthKey}: usage by ${name} sums to ${breakdown}, the usage is ${usageMillicredits}`);
  }
}

/** The euro figures, footed: the summary to the closing balance, each usage breakdown to the usage rounded once. */
function withCents(facts: StatementAmountsFacts): StatementFacts {
  const cents: StatementCents = footStatement(facts);
  return {
    ...facts,
    purchases: facts.purchases.map((purchase, index) => ({ ...purchase, discountCents: cents.purchaseDiscountCents[index] ?? 0 })),
    transfers: facts.transfers.map((transfer, index) => ({ ...transfer, cents: cents.transferCents[index] ?? 0 })),
    openingCents: cents.openingCents,
    usageCents: cents.usageCents,
    usageDrawnFromOrgCents: cents.usageDrawnFromOrgCents,
    reversalsCents: cents.reversalsCents,
    adjustments: facts.adjustments.map((adjustment, index) => ({ ...adjustment, cents: cents.adjustmentCents[index] ?? 0 })),
    adjustmentsCents: cents.adjustmentsCents,
    closingCents: cents.closingCents,
    usageByDepartment: footUsageRows(facts.usageByDepartment, cents.usageCents),
    usageByUser: footUsageRows(facts.usageByUser, cents.usageCents),
    usageByModel: footUsageRows(facts.usageByModel, cents.usageCents),
    usageByFeature: footUsageRows(facts.usageByFeature, cents.usageCents),
  };
}

/**
 * Everything a monthly statement shows, for the whole organisation (org pool and departments)
 * or one department. The month is cut by transaction number at its first and last instant in
 * the organisation's time zone, and opening, movements and closing all come from the same
 * entries, so opening + movements = closing holds by construction (and is asserted).
 */
export async function statementFacts(db: SqlReader, query: { monthKey: string; timeZone: string; departmentId: number | null }): Promise<StatementFacts> {
  const bounds = monthBounds(query.monthKey, query.timeZone);
  const [startId, endId] = [await firstTransactionFrom(db, bounds.startMs), await firstTransactionFrom(db, bounds.endMs)];
  const range: TransactionRange = { startId, endId };
  const accounts = (await listAccounts(db)).filter((account) => account.kind !== 'world');
  const names = new Map(accounts.map((account) => [account.id, account.name]));
  const scope = query.departmentId === null ? accounts.map((account) => account.id) : [query.departmentId];
  const inScope = new Set(scope);
  const scopeList = scope.join(',');
  const department = query.departmentId === null ? null : accounts.find((account) => account.id === query.departmentId);

  const openingMillicredits = await balanceBefore(db, scopeList, startId);
  const closingMillicredits = await balanceBefore(db, scopeList, endId);

  const moves = await db.all<MoveRow>(
    `SELECT t.id AS id, t.kind AS kind, t.memo AS memo, t.created_at_ms AS createdAtMs, e.account_id AS accountId, e.amount_millicredits AS amount
     FROM ledger_transactions t JOIN entries e ON e.transaction_id = t.id
     WHERE t.id >= ? AND t.id < ? AND t.kind <> 'usage' ORDER BY t.id, e.id`,
    [startId, endId],
  );
  const usage = await db.get<{ total: number | null }>(
    `SELECT sum(e.amount_millicredits) AS total FROM entries e JOIN ledger_transactions t ON t.id = e.transaction_id
     WHERE t.id >= ? AND t.id < ? AND t.kind = 'usage' AND e.account_id IN (${scopeList})`,
    [startId, endId],
  );
  // A department's usage in full: what left its own balance and what its overdraft drew from org.
  const usageLeftScopeMillicredits = -(usage?.total ?? 0);
  const purchaseRows = await db.all<MonthPurchaseRow>(
    `SELECT id, transaction_id AS transactionId, package_name AS packageName, quantity, method, millicredits, price_cents AS priceCents, discount_basis_points AS discountBasisPoints
     FROM purchases WHERE transaction_id >= ? AND transaction_id < ?`,
    [startId, endId],
  );
  const purchaseByTransaction = new Map(purchaseRows.map((row) => [row.transactionId, row]));
  const { purchases, transfers, reversalsMillicredits, adjustmentsMillicredits, adjustments } = classifyMoves(
    moves,
    purchaseByTransaction,
    inScope,
    names,
    query.timeZone,
  );

  const reversed = await db.get<{ events: number }>(
    `SELECT count(*) AS events FROM usage_reversals r JOIN usage_events e ON e.id = r.usage_event_id
     WHERE r.transaction_id >= ? AND r.transaction_id < ?${query.departmentId === null ? '' : ' AND e.department_id = ?'}`,
    query.departmentId === null ? [startId, endId] : [startId, endId, query.departmentId],
  );
  const groups = await usageGroups(db, range, query.departmentId);
  const emails = new Map((await db.all<{ id: number; email: string }>('SELECT id, email FROM users')).map((row) => [row.id, row.email]));
  const costCenters = new Map(accounts.map((account) => [account.id, account.costCenter]));
  const usageEvents = groups.reduce((sum, row) => sum + row.events, 0);
  const usageDrawnFromOrgMillicredits = query.departmentId === null ? 0 : groups.reduce((sum, row) => sum + row.drawn, 0);
  const usageMillicredits = usageLeftScopeMillicredits + usageDrawnFromOrgMillicredits;

  const facts: StatementAmountsFacts = {
    monthKey: query.monthKey,
    department: department ? { name: department.name, costCenter: department.costCenter } : null,
    openingMillicredits,
    purchases,
    transfers,
    usageMillicredits,
    usageEvents,
    usageDrawnFromOrgMillicredits,
    reversalsMillicredits,
    reversalEvents: Number(reversed?.events ?? 0),
    adjustmentsMillicredits,
    adjustments,
    closingMillicredits,
    ...usageBreakdown(groups, names, costCenters, emails),
  };
  assertReconciles(facts);
  return withCents(facts);
}

/** A purchase of the month with the tax of its invoice, when one was issued. */
export type DatevPurchaseRow = {
  id: number;
  invoiceNumber: number | null;
  taxCase: 'domestic' | 'reverseCharge' | 'notTaxable' | null;
  vatRateBasisPoints: number | null;
  grossCents: number | null;
};

/** What the DATEV export needs beyond the statement's facts. */
export type DatevFacts = {
  /** The month's usage by department (named as in the statement) and model tier. */
  usageByDepartmentTier: { department: string; tier: string; millicredits: number }[];
  purchases: DatevPurchaseRow[];
};

/**
 * The month's usage by department and model tier, from the same usage batches as the statement
 * (so each department's tiers add up to its line there), and the month's purchases with their
 * invoices. A model's tier is the rate card's at the end of the month: batches keep the model,
 * not its tier, and reading a month of single events for it would cost far more.
 */
export async function datevFacts(db: SqlReader, query: { monthKey: string; timeZone: string; departmentId: number | null }): Promise<DatevFacts> {
  const bounds = monthBounds(query.monthKey, query.timeZone);
  const range: TransactionRange = { startId: await firstTransactionFrom(db, bounds.startMs), endId: await firstTransactionFrom(db, bounds.endMs) };
  const names = new Map((await listAccounts(db)).map((account) => [account.id, account.name]));
  const rates = await db.all<{ model: string; tier: string }>(
    'SELECT model, tier FROM model_rates WHERE effective_from_ms < ? ORDER BY model, effective_from_ms, id',
    [bounds.endMs],
  );
  const tierOf = new Map(rates.map((rate) => [rate.model, rate.tier])); // the last one of each model wins
  const totals = new Map<string, { department: string; tier: string; millicredits: number }>();
  for (const group of await usageGroups(db, range, query.departmentId)) {
    const department = names.get(group.departmentId) ?? `#${group.departmentId}`;
    const tier = tierOf.get(group.model) ?? 'other';
    const key = `${group.departmentId}|${tier}`;
    const total = totals.get(key) ?? { department, tier, millicredits: 0 };
    total.millicredits += group.millicredits;
    totals.set(key, total);
  }
  const purchases = await db.all<DatevPurchaseRow>(
    `SELECT p.id AS id, i.number AS invoiceNumber, i.tax_case AS taxCase, i.vat_rate_basis_points AS vatRateBasisPoints, i.gross_cents AS grossCents
     FROM purchases p LEFT JOIN invoices i ON i.purchase_id = p.id AND i.cancelled = 0
     WHERE p.transaction_id >= ? AND p.transaction_id < ? ORDER BY p.id`,
    [range.startId, range.endId],
  );
  return { usageByDepartmentTier: [...totals.values()], purchases };
}
