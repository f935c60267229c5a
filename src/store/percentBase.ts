import { TOPUP_KINDS } from '../core/ledger.js';
import type { PercentBase } from '../core/percentLeft.js';
import { localMonthKey, monthBounds } from '../core/time.js';
import type { SqlReader, WriteTx } from './driver.js';

const TOPUP_KIND_LIST = TOPUP_KINDS.map((kind) => `'${kind}'`).join(',');

export type PercentBases = {
  /** By account id, for org's pool and every department. */
  byAccount: Map<number, PercentBase>;
  /** All of the organisation's credits: the pool and every department together. */
  organisation: PercentBase;
};

type Inflow = { accountId: number; inflowMillicredits: number; boughtMillicredits: number };

/** Credits that came in since the month began: few rows, found through the kind-and-time index. */
async function inflowsSince(db: SqlReader, startMs: number, instantMs: number): Promise<Map<number, Inflow>> {
  const rows = await db.all<Inflow>(
    `SELECT e.account_id AS accountId, sum(e.amount_millicredits) AS inflowMillicredits,
       sum(CASE WHEN t.kind IN ('purchase', 'recharge') THEN e.amount_millicredits ELSE 0 END) AS boughtMillicredits
     FROM ledger_transactions t JOIN entries e ON e.transaction_id = t.id
     WHERE t.kind IN (${TOPUP_KIND_LIST}) AND t.created_at_ms >= ? AND t.created_at_ms <= ? AND e.amount_millicredits > 0 GROUP BY e.account_id`,
    [startMs, instantMs],
  );
  return new Map(rows.map((row) => [row.accountId, row]));
}

/**
 * Each account's balance when the month began: from account_month_openings when a write of this
 * month stored it, else the balance less everything the month moved (every transaction of the
 * month: the one slow read, once a month). A write stores what it had to compute.
 */
export type OpeningRow = { accountId: number; monthKey: string; opening: number };

/** Every kept opening: only the month of the last write is kept, so these are few rows. */
export const OPENINGS_SQL = 'SELECT account_id AS accountId, month_key AS monthKey, opening_millicredits AS opening FROM account_month_openings';

async function openingsOf(
  db: SqlReader,
  balances: Map<number, number>,
  month: { key: string; startMs: number },
  instantMs: number,
  kept?: readonly OpeningRow[],
): Promise<Map<number, number>> {
  const monthKey = month.key;
  const startMs = month.startMs;
  const cached = kept ?? (await db.all<OpeningRow>(OPENINGS_SQL));
  const openings = new Map(cached.filter((row) => row.monthKey === monthKey).map((row) => [row.accountId, row.opening]));
  if ([...balances.keys()].every((id) => openings.has(id))) return openings;
  const moved = await db.all<{ accountId: number; net: number }>(
    `SELECT e.account_id AS accountId, sum(e.amount_millicredits) AS net FROM ledger_transactions t JOIN entries e ON e.transaction_id = t.id
     WHERE t.created_at_ms >= ? AND t.created_at_ms <= ? GROUP BY e.account_id`,
    [startMs, instantMs],
  );
  const net = new Map(moved.map((row) => [row.accountId, row.net]));
  const computed = new Map<number, number>();
  for (const [id, balance] of balances) computed.set(id, balance - (net.get(id) ?? 0));
  const tx = db as Partial<WriteTx>;
  if (tx.run !== undefined) {
    // Only the month being written is kept: a write dated in another month (a replay, a test clock) starts over.
    tx.run('DELETE FROM account_month_openings WHERE month_key <> ?', [monthKey]);
    tx.runMany!(
      'INSERT INTO account_month_openings (account_id, month_key, opening_millicredits) VALUES (?, ?, ?) ON CONFLICT (account_id, month_key) DO UPDATE SET opening_millicredits = excluded.opening_millicredits',
      [...computed].map(([id, opening]) => [id, monthKey, opening]),
    );
  }
  return computed;
}

/**
 * The figures "percentage left" is measured against (core/percentLeft.ts), for every account,
 * as of `instantMs` (by the time transactions were posted, like statements). `balances` are the
 * balances at that instant (by account id, world excluded); a write passes its own, not yet
 * stored, so the figures include what it just posted. Only a write stores openings; a read
 * that finds none computes them.
 */
export async function percentBases(
  db: SqlReader,
  balances: Map<number, number>,
  instantMs: number,
  timeZone: string,
  keptOpenings?: readonly OpeningRow[],
): Promise<PercentBases> {
  const monthKey = localMonthKey(instantMs, timeZone);
  const month = monthBounds(monthKey, timeZone);
  const openings = await openingsOf(db, balances, { key: monthKey, startMs: month.startMs }, instantMs, keptOpenings);
  const inflows = await inflowsSince(db, month.startMs, instantMs);
  const byAccount = new Map<number, PercentBase>();
  const organisation: PercentBase = { balanceMillicredits: 0, openingMillicredits: 0, inflowMillicredits: 0 };
  for (const [accountId, balanceMillicredits] of balances) {
    const openingMillicredits = openings.get(accountId) ?? 0;
    const inflow = inflows.get(accountId);
    byAccount.set(accountId, { balanceMillicredits, openingMillicredits, inflowMillicredits: inflow?.inflowMillicredits ?? 0 });
    organisation.balanceMillicredits += balanceMillicredits;
    organisation.openingMillicredits += openingMillicredits;
    // Moves between the pool and departments cancel out; only purchases and recharges come from outside.
    organisation.inflowMillicredits += inflow?.boughtMillicredits ?? 0;
  }
  return { byAccount, organisation };
}
