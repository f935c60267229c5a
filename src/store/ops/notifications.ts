import { CreditsError } from '../../core/errors.js';
import type { RechargeRuleRow } from '../notify/watchers.js';
import type { Database } from '../driver.js';
import { runMutation, type MutationRequest } from '../mutation.js';
import { requireAccount, writeSetting } from '../orgRepo.js';
import { ALERT_LEVELS_SETTING } from '../../core/percentLeft.js';
import { runDueSchedules } from './rechargeSchedules.js';

export async function addChannel(
  db: Database,
  request: MutationRequest,
  channel: { kind: 'webhook' | 'email' | 'command'; target: string; secret: string | null },
) {
  return runMutation(db, request, async ({ tx }) => {
    const row = await tx.get<{ id: number | null }>('SELECT max(id) AS id FROM notification_channels');
    const channelId = (row?.id ?? 0) + 1;
    tx.run('INSERT INTO notification_channels (id, kind, target, secret, created_at_ms) VALUES (?, ?, ?, ?, ?)', [
      channelId,
      channel.kind,
      channel.target,
      channel.secret,
      request.nowMs,
    ]);
    return { channelId, kind: channel.kind, target: channel.target, signed: channel.secret !== null };
  });
}

/** A webhook channel's signing secret: null when it signs nothing (a channel added before secrets were generated). */
export async function channelSecret(db: Database, channelId: number): Promise<{ channelId: number; secret: string | null }> {
  const row = await db.get<{ kind: string; secret: string | null }>('SELECT kind, secret FROM notification_channels WHERE id = ? AND removed_at_ms IS NULL', [
    channelId,
  ]);
  if (!row) throw new CreditsError('CHANNEL_NOT_FOUND', `no notification channel ${channelId}`, { hint: 'see `credits notify channels` for the ids' });
  if (row.kind !== 'webhook')
    throw new CreditsError('INVALID_VALUE', `channel ${channelId} is ${row.kind === 'email' ? 'an email' : 'a command'} channel: only webhooks are signed`);
  return { channelId, secret: row.secret };
}

/** Replaces a webhook channel's secret; deliveries signed from then on use the new one. */
export async function rotateChannelSecret(db: Database, request: MutationRequest, channelId: number, secret: string) {
  return runMutation(db, request, async ({ tx }) => {
    const row = await tx.get<{ kind: string }>('SELECT kind FROM notification_channels WHERE id = ? AND removed_at_ms IS NULL', [channelId]);
    if (!row) throw new CreditsError('CHANNEL_NOT_FOUND', `no notification channel ${channelId}`, { hint: 'see `credits notify channels` for the ids' });
    if (row.kind !== 'webhook') throw new CreditsError('INVALID_VALUE', `channel ${channelId} is not a webhook: only webhooks are signed`);
    tx.run('UPDATE notification_channels SET secret = ? WHERE id = ?', [secret, channelId]);
    return { channelId, secret };
  });
}

/** Stores the alert levels as a setting, in a mutation like every setting (audited, idempotent). */
export async function setAlertLevels(db: Database, request: MutationRequest, levelsPercent: number[]) {
  return runMutation(db, request, async ({ tx }) => {
    writeSetting(tx, ALERT_LEVELS_SETTING, levelsPercent.join(','));
    // Alerts of levels no longer set are dropped by the next write that looks at the account.
    return { levelsPercent };
  });
}

export async function removeChannel(db: Database, request: MutationRequest, channelId: number) {
  return runMutation(db, request, async ({ tx }) => {
    const row = await tx.get<{ id: number }>('SELECT id FROM notification_channels WHERE id = ? AND removed_at_ms IS NULL', [channelId]);
    if (!row) throw new CreditsError('CHANNEL_NOT_FOUND', `no notification channel ${channelId}`, { hint: 'see `credits notify channels` for the ids' });
    tx.run('UPDATE notification_channels SET removed_at_ms = ? WHERE id = ?', [request.nowMs, channelId]);
    tx.run("DELETE FROM deliveries WHERE channel_id = ? AND status = 'pending'", [channelId]);
    return { channelId, removed: true };
  });
}

/** Either `packageName` (bought at each crossing) or `targetMillicredits` (buy up to it), never both. */
export type RechargeRuleInput = Omit<RechargeRuleRow, 'accountId' | 'armed' | 'refusedInMonth'> & { accountName: string };

export async function setRechargeRule(db: Database, request: MutationRequest, input: RechargeRuleInput) {
  return runMutation(db, request, async ({ tx, ledger }) => {
    const account = await requireAccount(tx, input.accountName, '--for');
    tx.run(
      `INSERT INTO recharge_rules (account_id, threshold_millicredits, package_name, target_millicredits, custom_discount_basis_points, method, monthly_cap_cents, armed, created_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)
       ON CONFLICT (account_id) DO UPDATE SET threshold_millicredits = excluded.threshold_millicredits, package_name = excluded.package_name,
         target_millicredits = excluded.target_millicredits, custom_discount_basis_points = excluded.custom_discount_basis_points, method = excluded.method,
         monthly_cap_cents = excluded.monthly_cap_cents, armed = 1`,
      [
        account.id,
        input.thresholdMillicredits,
        input.packageName,
        input.targetMillicredits,
        input.customDiscountBasisPoints,
        input.method,
        input.monthlyCapCents,
        request.nowMs,
      ],
    );
    // A rule set on an account already below its threshold acts at once, like any later write.
    await ledger.load([account.id]);
    ledger.watch([account.id]);
    return { account: account.name, ...input };
  });
}

export async function removeRechargeRule(db: Database, request: MutationRequest, accountName: string) {
  return runMutation(db, request, async ({ tx }) => {
    const account = await requireAccount(tx, accountName, '--for');
    const existing = await tx.get('SELECT 1 AS found FROM recharge_rules WHERE account_id = ?', [account.id]);
    tx.run('DELETE FROM recharge_rules WHERE account_id = ?', [account.id]);
    return { account: account.name, removed: existing !== undefined };
  });
}

/**
 * `recharge run`: the schedules due today buy first, then every account with a rule is looked at
 * again, as if it had just changed (so a rule sees the balance a scheduled top-up left).
 */
export async function recheckRecharges(db: Database, request: MutationRequest) {
  return runMutation(db, { ...request, audit: false }, async ({ tx, ledger }) => {
    const before = await tx.get<{ id: number | null }>("SELECT max(id) AS id FROM purchases WHERE origin = 'recharge'");
    const schedules = await runDueSchedules(tx, ledger, { nowMs: request.nowMs, actor: request.actor });
    const rows = await tx.all<{ accountId: number }>('SELECT account_id AS accountId FROM recharge_rules');
    await ledger.load(rows.map((row) => row.accountId));
    ledger.watch(rows.map((row) => row.accountId));
    return { rules: rows.length, schedules, previousRechargeId: before?.id ?? 0 };
  });
}

export type RechargeStatus = {
  account: string;
  thresholdMillicredits: number;
  packageName: string | null;
  targetMillicredits: number | null;
  customDiscountBasisPoints: number | null;
  method: string;
  monthlyCapCents: number;
  armed: boolean;
  balanceMillicredits: number;
  monthSpentCents: number;
  monthRecharges: number;
};

export async function rechargeStatuses(db: Database, month: { startMs: number; endMs: number }): Promise<RechargeStatus[]> {
  const rows = await db.all<Omit<RechargeStatus, 'armed'> & { armed: number }>(
    `SELECT a.name AS account, r.threshold_millicredits AS thresholdMillicredits, r.package_name AS packageName, r.target_millicredits AS targetMillicredits,
       r.custom_discount_basis_points AS customDiscountBasisPoints, r.method AS method, r.monthly_cap_cents AS monthlyCapCents,
       r.armed AS armed, a.balance_millicredits AS balanceMillicredits,
       (SELECT coalesce(sum(price_cents), 0) FROM purchases p WHERE p.account_id = r.account_id AND p.origin = 'recharge' AND p.schedule_id IS NULL AND p.status <> 'cancelled' AND p.created_at_ms >= ? AND p.created_at_ms < ?) AS monthSpentCents,
       (SELECT count(*) FROM purchases p WHERE p.account_id = r.account_id AND p.origin = 'recharge' AND p.schedule_id IS NULL AND p.status <> 'cancelled' AND p.created_at_ms >= ? AND p.created_at_ms < ?) AS monthRecharges
     FROM recharge_rules r JOIN accounts a ON a.id = r.account_id ORDER BY a.id`,
    [month.startMs, month.endMs, month.startMs, month.endMs],
  );
  return rows.map((row) => ({ ...row, armed: row.armed === 1 || row.balanceMillicredits >= row.thresholdMillicredits }));
}
