import { formatCreditsText, formatEurosText } from '../../core/amountText.js';
import { moveEntries } from '../../core/ledger.js';
import { quotePackage, type PaymentMethod } from '../../core/packages.js';
import { DEFAULT_TIME_ZONE, monthBounds, localMonthKey } from '../../core/time.js';
import type { WriteTx } from '../driver.js';
import type { LedgerWriter, TouchedAccount } from '../ledgerWriter.js';
import { WORLD_ACCOUNT_ID } from '../orgRepo.js';
import { recordPurchase } from '../purchasePosting.js';
import { queueEvent } from './outbox.js';
import { fireBalanceAlerts } from './levels.js';

export type RechargeRuleRow = {
  accountId: number;
  thresholdMillicredits: number;
  packageName: string;
  method: PaymentMethod;
  monthlyCapCents: number;
  armed: number;
  refusedInMonth: string | null;
};

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
    await rechargeAccount(tx, ledger, rule, account, context);
  }
  await fireBalanceAlerts(tx, ledger, context.nowMs);
}

async function currentMonthKey(tx: WriteTx, nowMs: number): Promise<string> {
  const timeZone = (await tx.get<{ value: string }>("SELECT value FROM settings WHERE key = 'org.time_zone'"))?.value ?? DEFAULT_TIME_ZONE;
  return localMonthKey(nowMs, timeZone);
}

/** The department's recharge rule when it may act now: armed, or refused by an earlier month's cap. */
export async function armedRechargeRule(tx: WriteTx, accountId: number, nowMs: number): Promise<RechargeRuleRow | null> {
  const rule = await tx.get<RechargeRuleRow>(
    `SELECT account_id AS accountId, threshold_millicredits AS thresholdMillicredits, package_name AS packageName, method, monthly_cap_cents AS monthlyCapCents, armed,
       refused_in_month AS refusedInMonth FROM recharge_rules WHERE account_id = ?`,
    [accountId],
  );
  if (!rule) return null;
  if (rule.armed) return rule;
  if (rule.refusedInMonth === null || rule.refusedInMonth === (await currentMonthKey(tx, nowMs))) return null;
  return rule;
}

export type RechargeOutcome = 'credited' | 'pending' | 'capped';

/** Buys the rule's package for the account (or refuses it by the monthly cap), and notifies either way. */
export async function rechargeAccount(
  tx: WriteTx,
  ledger: LedgerWriter,
  rule: RechargeRuleRow,
  account: Pick<TouchedAccount, 'name' | 'balanceMillicredits'>,
  context: { nowMs: number; actor: string },
): Promise<RechargeOutcome> {
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
        ? `${quote.packageName} (${formatEurosText(quote.priceCents)}) would pass this month's cap of ${formatEurosText(rule.monthlyCapCents)} (${formatEurosText(spentCents)} spent).`
        : null;
  if (why !== null) {
    tx.run('UPDATE recharge_rules SET armed = 0, refused_in_month = ? WHERE account_id = ?', [monthKey, rule.accountId]);
    queueEvent(tx, { type: 'recharge.refused', text: `Automatic recharge of ${account.name} refused: ${why}`, data, nowMs: context.nowMs });
    return 'capped';
  }
  const { id } = await recordPurchase(tx, ledger, context, { quote, accountId: rule.accountId, origin: 'recharge' });
  // One recharge per crossing: the rule waits until the balance is back at the threshold. A card
  // recharge that already got it there leaves the rule armed for the next crossing.
  const recovered = ledger.balanceOf(rule.accountId) >= rule.thresholdMillicredits;
  tx.run('UPDATE recharge_rules SET armed = ?, refused_in_month = NULL WHERE account_id = ?', [recovered ? 1 : 0, rule.accountId]);
  queueEvent(tx, {
    type: 'recharge.done',
    text: `Automatic recharge of ${account.name}: ${quote.packageName} package, ${formatCreditsText(quote.millicredits)} credits for ${formatEurosText(quote.priceCents)} by ${quote.method}${quote.instant ? '' : ' (pending until settled)'}.`,
    data: { ...data, purchaseId: id, status: quote.instant ? 'settled' : 'pending', monthSpentCents: spentCents + quote.priceCents },
    nowMs: context.nowMs,
  });
  return quote.instant ? 'credited' : 'pending';
}
