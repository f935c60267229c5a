import { MILLICREDITS_PER_CREDIT } from '../../core/amounts.js';
import { formatCreditsText, formatEurosText } from '../../core/amountText.js';
import { moveEntries } from '../../core/ledger.js';
import { quoteCustom, quotePackage, type PaymentMethod, type PurchaseQuote } from '../../core/packages.js';
import { describePlan, planRecharge } from '../../core/rechargePlan.js';
import { DEFAULT_TIME_ZONE, monthBounds, localMonthKey } from '../../core/time.js';
import type { WriteTx } from '../driver.js';
import type { LedgerWriter, TouchedAccount } from '../ledgerWriter.js';
import { WORLD_ACCOUNT_ID } from '../orgRepo.js';
import { recordPurchase } from '../purchasePosting.js';
import { queueEvent } from './outbox.js';
import { fireBalanceAlerts, queueAlertReads } from './levels.js';

export type RechargeRuleRow = {
  accountId: number;
  thresholdMillicredits: number;
  /** Null for a rule that buys up to `targetMillicredits` instead. */
  packageName: string | null;
  targetMillicredits: number | null;
  customDiscountBasisPoints: number | null;
  method: PaymentMethod;
  monthlyCapCents: number;
  armed: number;
  refusedInMonth: string | null;
};

const RULE_COLUMNS = `account_id AS accountId, threshold_millicredits AS thresholdMillicredits, package_name AS packageName, target_millicredits AS targetMillicredits,
  custom_discount_basis_points AS customDiscountBasisPoints, method, monthly_cap_cents AS monthlyCapCents, armed, refused_in_month AS refusedInMonth`;

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
  // What the balance alerts read travels with the rules' read: on a remote ledger one round trip, not five.
  const alertReads = queueAlertReads(tx);
  const rules = await tx.all<RechargeRuleRow>(`SELECT ${RULE_COLUMNS} FROM recharge_rules WHERE account_id IN (${ids})`);
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
  await fireBalanceAlerts(tx, ledger, context.nowMs, alertReads);
}

async function currentMonthKey(tx: WriteTx, nowMs: number): Promise<string> {
  const timeZone = (await tx.get<{ value: string }>("SELECT value FROM settings WHERE key = 'org.time_zone'"))?.value ?? DEFAULT_TIME_ZONE;
  return localMonthKey(nowMs, timeZone);
}

/** The department's recharge rule when it may act now: armed, or refused by an earlier month's cap. */
export async function armedRechargeRule(tx: WriteTx, accountId: number, nowMs: number): Promise<RechargeRuleRow | null> {
  const rule = await tx.get<RechargeRuleRow>(`SELECT ${RULE_COLUMNS} FROM recharge_rules WHERE account_id = ?`, [accountId]);
  if (!rule) return null;
  if (rule.armed) return rule;
  if (rule.refusedInMonth === null || rule.refusedInMonth === (await currentMonthKey(tx, nowMs))) return null;
  return rule;
}

export type RechargeOutcome = 'credited' | 'pending' | 'capped' | 'none';

/**
 * What a rule buys now: its package, or the cheapest packages that lift the balance to its target
 * (and to `neededMillicredits`, the cost of a usage event refused for want of credits).
 */
export function rechargeQuotes(rule: RechargeRuleRow, balanceMillicredits: number, neededMillicredits = 0): PurchaseQuote[] {
  if (rule.targetMillicredits === null) return [quotePackage(rule.packageName!, rule.method)];
  const plan = planRecharge(balanceMillicredits, Math.max(rule.targetMillicredits, neededMillicredits), rule.customDiscountBasisPoints);
  return plan.lines.map((line) =>
    line.packageName === 'custom'
      ? quoteCustom(line.credits, line.discountBasisPoints, rule.method)
      : quotePackage(line.packageName, rule.method, line.quantity),
  );
}

/** "basic" for a package rule's one purchase (as before targets), "Enterprise × 2 + Standard" for a plan. */
function quotesName(rule: RechargeRuleRow, quotes: PurchaseQuote[]): string {
  if (rule.targetMillicredits === null) return quotes[0]!.packageName;
  return describePlan(
    quotes.map((quote) => ({ packageName: quote.packageName, quantity: quote.quantity, credits: quote.millicredits / MILLICREDITS_PER_CREDIT })),
  );
}

/** Buys the rule's package (or its plan up to the target) for the account, or refuses it by the monthly cap; notifies either way. */
export async function rechargeAccount(
  tx: WriteTx,
  ledger: LedgerWriter,
  rule: RechargeRuleRow,
  account: Pick<TouchedAccount, 'name' | 'balanceMillicredits'>,
  context: { nowMs: number; actor: string; neededMillicredits?: number },
): Promise<RechargeOutcome> {
  const timeZone = (await tx.get<{ value: string }>("SELECT value FROM settings WHERE key = 'org.time_zone'"))?.value ?? DEFAULT_TIME_ZONE;
  const monthKey = localMonthKey(context.nowMs, timeZone);
  const month = monthBounds(monthKey, timeZone);
  // Scheduled top-ups are planned spending, not this rule's: its cap counts its own recharges only.
  const spent = await tx.get<{ cents: number | null }>(
    "SELECT sum(price_cents) AS cents FROM purchases WHERE origin = 'recharge' AND schedule_id IS NULL AND account_id = ? AND status <> 'cancelled' AND created_at_ms >= ? AND created_at_ms < ?",
    [rule.accountId, month.startMs, month.endMs],
  );
  const spentCents = spent?.cents ?? 0;
  const quotes = rechargeQuotes(rule, account.balanceMillicredits, context.neededMillicredits);
  if (quotes.length === 0) return 'none';
  const priceCents = quotes.reduce((sum, quote) => sum + quote.priceCents, 0);
  const millicredits = quotes.reduce((sum, quote) => sum + quote.millicredits, 0);
  const packageName = quotesName(rule, quotes);
  const data = {
    account: account.name,
    packageName,
    method: rule.method,
    priceCents,
    millicredits,
    targetMillicredits: rule.targetMillicredits,
    monthSpentCents: spentCents,
    monthlyCapCents: rule.monthlyCapCents,
    balanceMillicredits: account.balanceMillicredits,
  };
  // Past the ledger's bound the recharge is refused like one past the cap: the write that
  // triggered it (a usage event) still goes through.
  const bound = await ledger.boundRefusal(moveEntries(WORLD_ACCOUNT_ID, rule.accountId, millicredits));
  const why =
    bound !== null
      ? `${bound.message}.`
      : spentCents + priceCents > rule.monthlyCapCents
        ? `${packageName} (${formatEurosText(priceCents)}) would pass this month's cap of ${formatEurosText(rule.monthlyCapCents)} (${formatEurosText(spentCents)} spent).`
        : null;
  if (why !== null) {
    tx.run('UPDATE recharge_rules SET armed = 0, refused_in_month = ? WHERE account_id = ?', [monthKey, rule.accountId]);
    queueEvent(tx, { type: 'recharge.refused', text: `Automatic recharge of ${account.name} refused: ${why}`, data, nowMs: context.nowMs });
    return 'capped';
  }
  const purchaseIds: number[] = [];
  for (const quote of quotes) purchaseIds.push((await recordPurchase(tx, ledger, context, { quote, accountId: rule.accountId, origin: 'recharge' })).id);
  // One recharge per crossing: the rule waits until the balance is back at the threshold. A card
  // recharge that already got it there leaves the rule armed for the next crossing.
  const recovered = ledger.balanceOf(rule.accountId) >= rule.thresholdMillicredits;
  tx.run('UPDATE recharge_rules SET armed = ?, refused_in_month = NULL WHERE account_id = ?', [recovered ? 1 : 0, rule.accountId]);
  const instant = quotes[0]!.instant;
  const what = rule.targetMillicredits === null ? `${packageName} package` : `${packageName} up to ${formatCreditsText(rule.targetMillicredits)} credits`;
  queueEvent(tx, {
    type: 'recharge.done',
    text: `Automatic recharge of ${account.name}: ${what}, ${formatCreditsText(millicredits)} credits for ${formatEurosText(priceCents)} by ${rule.method}${instant ? '' : ' (pending until settled)'}.`,
    data: { ...data, purchaseId: purchaseIds[0], purchaseIds, status: instant ? 'settled' : 'pending', monthSpentCents: spentCents + priceCents },
    nowMs: context.nowMs,
  });
  return instant ? 'credited' : 'pending';
}
