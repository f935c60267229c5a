import { TOPUP_KINDS } from '../core/ledger.js';
import type { PercentBase } from '../core/percentLeft.js';
import { localMonthKey, monthBounds } from '../core/time.js';
import type { SqlReader } from './driver.js';

const TOPUP_KIND_LIST = TOPUP_KINDS.map((kind) => `'${kind}'`).join(',');

export type PercentBases = {
  /** By account id, for org's pool and every department. */
  byAccount: Map<number, PercentBase>;
  /** All of the organisation's credits: the pool and every department together. */
  organisation: PercentBase;
};

/**
 * The figures "percentage left" is measured against (core/percentLeft.ts), for every account,
 * as of `instantMs`: one read of the month's transactions (by the time they were posted, like
 * statements), which the time index keeps to this month however long the ledger is.
 * `balances` are the balances at that instant (by account id, world excluded); a write passes
 * its own, not yet stored, so the figures include what it just posted.
 */
export async function percentBases(db: SqlReader, balances: Map<number, number>, instantMs: number, timeZone: string): Promise<PercentBases> {
  const month = monthBounds(localMonthKey(instantMs, timeZone), timeZone);
  const rows = await db.all<{ accountId: number; netMillicredits: number; inflowMillicredits: number; boughtMillicredits: number }>(
    `SELECT e.account_id AS accountId, sum(e.amount_millicredits) AS netMillicredits,
       sum(CASE WHEN e.amount_millicredits > 0 AND t.kind IN (${TOPUP_KIND_LIST}) THEN e.amount_millicredits ELSE 0 END) AS inflowMillicredits,
       sum(CASE WHEN e.amount_millicredits > 0 AND t.kind IN ('purchase', 'recharge') THEN e.amount_millicredits ELSE 0 END) AS boughtMillicredits
     FROM ledger_transactions t JOIN entries e ON e.transaction_id = t.id
     WHERE t.created_at_ms >= ? AND t.created_at_ms <= ? GROUP BY e.account_id`,
    [month.startMs, instantMs],
  );
  const moved = new Map(rows.map((row) => [row.accountId, row]));
  const byAccount = new Map<number, PercentBase>();
  const organisation: PercentBase = { balanceMillicredits: 0, openingMillicredits: 0, inflowMillicredits: 0 };
  for (const [accountId, balanceMillicredits] of balances) {
    const row = moved.get(accountId);
    const openingMillicredits = balanceMillicredits - (row?.netMillicredits ?? 0);
    byAccount.set(accountId, { balanceMillicredits, openingMillicredits, inflowMillicredits: row?.inflowMillicredits ?? 0 });
    organisation.balanceMillicredits += balanceMillicredits;
    organisation.openingMillicredits += openingMillicredits;
    // Moves between the pool and departments cancel out; only purchases and recharges come from outside.
    organisation.inflowMillicredits += row?.boughtMillicredits ?? 0;
  }
  return { byAccount, organisation };
}
