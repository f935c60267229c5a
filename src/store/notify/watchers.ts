import { formatMillicreditsPlain } from '../../core/amountText.js';
import { moveEntries } from '../../core/ledger.js';
import { quotePackage, type PaymentMethod } from '../../core/packages.js';
import { DEFAULT_TIME_ZONE, monthBounds, localMonthKey } from '../../core/time.js';
import type { WriteTx } from '../driver.js';
import type { LedgerWriter, TouchedAccount } from '../ledgerWriter.js';
import { WORLD_ACCOUNT_ID } from '../orgRepo.js';
import { recordPurchase } from '../purchasePosting.js';
import { queueEvent } from './outbox.js';

/** Low-balance levels, in percent of the last top-up; 0 means depleted. */
export const ALERT_LEVELS_PERCENT = [20, 10, 0] as const;

export type RechargeRuleRow = {
  accountId: number;
  thresholdMillicredits: number;
  packageName: string;
  method: PaymentMethod;
  monthlyCapCents: number;
  armed: number;
  refusedInMonth: string | null;
};

function isBelow(account: TouchedAccount, levelPercent: number): boolean {
  if (levelPercent === 0) return account.balanceMillicredits <= 0;
  return account.balanceMillicredits * 100 < levelPercent * account.topupReferenceMillicredits;
}

/**
 * Runs in the write transaction of every ledger change, after its postings and before the
 * balances are written: fires the low-balance notifications once per crossing (re-armed by a
 * top-up) and the automatic recharges, so neither can be lost or doubled by a crash.
 */
export async function watchBalances(tx: WriteTx, ledger: LedgerWriter, context: { nowMs: number; actor: string }): Promise<void> {
  const touched = ledger.touched();
  ledger.markWatched();
  if (touched.length === 0) return;
  const ids = touched.map((account) => account.id).join(',');
  const rules = await tx.all<RechargeRuleRow>(
    `SELECT account_id AS accountId, threshold_millicredits AS thresholdMillicredits, package_name AS packageName, method, monthly_cap_cents AS monthlyCapCents, armed,
       refused_in_month AS refusedInMonth FROM recharge_rules WHERE account_id IN (${ids})`,
  );
  let monthKey: string | null = null;
  for (const rule of rules) {
    const account = touched.find((candidate) => candidate.id === rule.accountId)!;
    if (account.balanceMillicredits >= rule.thresholdMillicredits) {
      if (!rule.armed) tx.run('UPDATE recharge_rules SET armed = 1, refused_in_month = NULL WHERE account_id = ?', [rule.accountId]);
      continue;
    }
    if (!rule.armed) {
      // Refused by last month's cap and still low: a new month brings a new cap.
      if (rule.refusedInMonth === null) continue;
      monthKey ??= await currentMonthKey(tx, context.nowMs);
      if (rule.refusedInMonth === monthKey) continue;
    }
    await recharge(tx, ledger, rule, account, context);
  }
  await fireBalanceAlerts(tx, ledger.touched(), context.nowMs);
}

async function currentMonthKey(tx: WriteTx, nowMs: number): Promise<string> {
  const timeZone = (await tx.get<{ value: string }>("SELECT value FROM settings WHERE key = 'org.time_zone'"))?.value ?? DEFAULT_TIME_ZONE;
  return localMonthKey(nowMs, timeZone);
}

async function fireBalanceAlerts(tx: WriteTx, touched: TouchedAccount[], nowMs: number): Promise<void> {
  const toppedUp = touched.filter((account) => account.toppedUp);
  if (toppedUp.length > 0) tx.run(`DELETE FROM balance_alerts WHERE account_id IN (${toppedUp.map((account) => account.id).join(',')})`);
  const watched = touched.filter((account) => account.topupReferenceMillicredits > 0);
  if (watched.length === 0) return;
  const fired = await tx.all<{ accountId: number; levelPercent: number }>(
    `SELECT account_id AS accountId, level_percent AS levelPercent FROM balance_alerts WHERE account_id IN (${watched.map((account) => account.id).join(',')})`,
  );
  for (const account of watched) {
    const already = new Set(fired.filter((row) => row.accountId === account.id && !account.toppedUp).map((row) => row.levelPercent));
    // Each level crossed speaks once, even when one write crosses several.
    const crossed = ALERT_LEVELS_PERCENT.filter((level) => isBelow(account, level) && !already.has(level));
    if (crossed.length === 0) continue;
    const left = formatMillicreditsPlain(Math.max(0, account.balanceMillicredits));
    const percentLeft = Math.max(0, Math.round((account.balanceMillicredits * 1000) / account.topupReferenceMillicredits) / 10);
    for (const level of crossed) {
      tx.run('INSERT INTO balance_alerts (account_id, level_percent, fired_at_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [account.id, level, nowMs]);
      queueEvent(tx, {
        type: level === 0 ? 'balance.depleted' : 'balance.low',
        text:
          level === 0
            ? `${account.name} has no credits left: its AI features are paused until new credits are loaded.`
            : `${account.name} is below ${level}% of its last top-up: ${left} credits left (${percentLeft}%).`,
        data: {
          account: account.name,
          levelPercent: level,
          balanceMillicredits: account.balanceMillicredits,
          percentLeft,
          topupReferenceMillicredits: account.topupReferenceMillicredits,
        },
        nowMs,
      });
    }
  }
}

async function recharge(
  tx: WriteTx,
  ledger: LedgerWriter,
  rule: RechargeRuleRow,
  account: TouchedAccount,
  context: { nowMs: number; actor: string },
): Promise<void> {
  const timeZone = (await tx.get<{ value: string }>("SELECT value FROM settings WHERE key = 'org.time_zone'"))?.value ?? DEFAULT_TIME_ZONE;
  const monthKey = localMonthKey(context.nowMs, timeZone);
  const month = monthBounds(monthKey, timeZone);
  const spent = await tx.get<{ cents: number | null }>(
    "SELECT sum(price_cents) AS cents FROM purchases WHERE origin = 'recharge' AND account_id = ? AND status <> 'cancelled' AND created_at_ms >= ? AND created_at_ms < ?",
    [rule.accountId, month.startMs, month.endMs],
  );
  const spentCents = spent?.cents ?? 0;
  const quote = quotePackage(rule.packageName, rule.method);
  const data = {
    account: account.name,
    packageName: quote.packageName,
    method: quote.method,
    priceCents: quote.priceCents,
    millicredits: quote.millicredits,
    monthSpentCents: spentCents,
    monthlyCapCents: rule.monthlyCapCents,
    balanceMillicredits: account.balanceMillicredits,
  };
  // Past the ledger's bound the recharge is refused like one past the cap: the write that
  // triggered it (a usage event) still goes through.
  const bound = await ledger.boundRefusal(moveEntries(WORLD_ACCOUNT_ID, rule.accountId, quote.millicredits));
  const why =
    bound !== null
      ? `${bound.message}.`
      : spentCents + quote.priceCents > rule.monthlyCapCents
        ? `${quote.packageName} (€${(quote.priceCents / 100).toFixed(2)}) would pass this month's cap of €${(rule.monthlyCapCents / 100).toFixed(2)} (€${(spentCents / 100).toFixed(2)} spent).`
        : null;
  if (why !== null) {
    tx.run('UPDATE recharge_rules SET armed = 0, refused_in_month = ? WHERE account_id = ?', [monthKey, rule.accountId]);
    queueEvent(tx, { type: 'recharge.refused', text: `Automatic recharge of ${account.name} refused: ${why}`, data, nowMs: context.nowMs });
    return;
  }
  const { id } = await recordPurchase(tx, ledger, context, { quote, accountId: rule.accountId, origin: 'recharge' });
  // One recharge per crossing: the rule waits until the balance is back at the threshold. A card
  // recharge that already got it there leaves the rule armed for the next crossing.
  const recovered = ledger.balanceOf(rule.accountId) >= rule.thresholdMillicredits;
  tx.run('UPDATE recharge_rules SET armed = ?, refused_in_month = NULL WHERE account_id = ?', [recovered ? 1 : 0, rule.accountId]);
  queueEvent(tx, {
    type: 'recharge.done',
    text: `Automatic recharge of ${account.name}: ${quote.packageName} package, ${formatMillicreditsPlain(quote.millicredits)} credits for €${(quote.priceCents / 100).toFixed(2)} by ${quote.method}${quote.instant ? '' : ' (pending until settled)'}.`,
    data: { ...data, purchaseId: id, status: quote.instant ? 'settled' : 'pending', monthSpentCents: spentCents + quote.priceCents },
    nowMs: context.nowMs,
  });
}
