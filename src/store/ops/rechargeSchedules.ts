import { formatCreditsText, formatEurosText } from '../../core/amountText.js';
import { CreditsError } from '../../core/errors.js';
import { moveEntries } from '../../core/ledger.js';
import { quotePackage, type PaymentMethod } from '../../core/packages.js';
import { scheduleDue, servedMonthAtCreation } from '../../core/rechargeSchedule.js';
import { DEFAULT_TIME_ZONE, localDateKey } from '../../core/time.js';
import type { Database, SqlReader, WriteTx } from '../driver.js';
import type { LedgerWriter } from '../ledgerWriter.js';
import { runMutation, type MutationRequest } from '../mutation.js';
import { queueEvent } from '../notify/outbox.js';
import { requireAccount, WORLD_ACCOUNT_ID } from '../orgRepo.js';
import { recordPurchase } from '../purchasePosting.js';
import { outsideScope, scopeOf } from '../scope.js';

/** A bound on rows, like every list here: more schedules than this is a mistake, not a plan. */
export const MAX_SCHEDULES = 200;

export type RechargeScheduleInput = { accountName: string; dayOfMonth: number; packageName: string; method: Exclude<PaymentMethod, 'invoice'> };

export type RechargeSchedule = {
  id: number;
  account: string;
  accountId: number;
  dayOfMonth: number;
  packageName: string;
  method: PaymentMethod;
  /** The last month ('YYYY-MM') it bought in (or that counted as bought when it was made). */
  servedMonth: string | null;
};

const SCHEDULE_COLUMNS = `s.id AS id, a.name AS account, s.account_id AS accountId, s.day_of_month AS dayOfMonth, s.package_name AS packageName,
  s.method AS method, s.served_month AS servedMonth`;

async function localToday(reader: SqlReader, nowMs: number): Promise<string> {
  const timeZone = (await reader.get<{ value: string }>("SELECT value FROM settings WHERE key = 'org.time_zone'"))?.value ?? DEFAULT_TIME_ZONE;
  return localDateKey(nowMs, timeZone);
}

export async function addRechargeSchedule(db: Database, request: MutationRequest, input: RechargeScheduleInput) {
  return runMutation(db, request, async ({ tx }) => {
    const account = await requireAccount(tx, input.accountName, '--for');
    const row = await tx.get<{ id: number | null; count: number }>('SELECT max(id) AS id, count(*) AS count FROM recharge_schedules');
    if ((row?.count ?? 0) >= MAX_SCHEDULES) {
      throw new CreditsError('INVALID_VALUE', `there are ${MAX_SCHEDULES} schedules already`, {
        hint: 'remove one first (`credits recharge schedule remove ID`)',
      });
    }
    const id = (row?.id ?? 0) + 1;
    const servedMonth = servedMonthAtCreation(await localToday(tx, request.nowMs), input.dayOfMonth);
    tx.run('INSERT INTO recharge_schedules (id, account_id, day_of_month, package_name, method, served_month, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      id,
      account.id,
      input.dayOfMonth,
      input.packageName,
      input.method,
      servedMonth,
      request.nowMs,
    ]);
    return { id, account: account.name, dayOfMonth: input.dayOfMonth, packageName: input.packageName, method: input.method, servedMonth };
  });
}

export async function removeRechargeSchedule(db: Database, request: MutationRequest, scheduleId: number) {
  return runMutation(db, request, async ({ tx }) => {
    const schedule = await tx.get<RechargeSchedule>(
      `SELECT ${SCHEDULE_COLUMNS} FROM recharge_schedules s JOIN accounts a ON a.id = s.account_id WHERE s.id = ?`,
      [scheduleId],
    );
    // A department-bound caller hears the same of another department's schedule as of none at all.
    const scope = scopeOf(tx);
    if (scope !== null && schedule?.accountId !== scope.departmentId) throw outsideScope(scope, `schedule ${scheduleId}`);
    if (!schedule) {
      throw new CreditsError('SCHEDULE_NOT_FOUND', `no recharge schedule ${scheduleId}`, { hint: 'see `credits recharge` for the schedules and their ids' });
    }
    tx.run('DELETE FROM recharge_schedules WHERE id = ?', [scheduleId]);
    return { id: scheduleId, account: schedule.account, removed: true };
  });
}

export async function listRechargeSchedules(db: SqlReader): Promise<RechargeSchedule[]> {
  return db.all<RechargeSchedule>(`SELECT ${SCHEDULE_COLUMNS} FROM recharge_schedules s JOIN accounts a ON a.id = s.account_id ORDER BY s.id`);
}

/**
 * `recharge run`: buys the package of every schedule due today, in the run's write transaction.
 * The month is marked served in the same transaction as the purchase, so a second run (or one
 * after a crash, which rolled both back) buys once. Months a run missed are not bought later.
 */
export async function runDueSchedules(tx: WriteTx, ledger: LedgerWriter, context: { nowMs: number; actor: string }): Promise<number> {
  const today = await localToday(tx, context.nowMs);
  const schedules = await listRechargeSchedules(tx);
  const due = schedules.filter((schedule) => scheduleDue(today, schedule.dayOfMonth, schedule.servedMonth));
  if (due.length === 0) return schedules.length;
  await ledger.load(due.map((schedule) => schedule.accountId));
  for (const schedule of due) {
    const quote = quotePackage(schedule.packageName, schedule.method);
    tx.run('UPDATE recharge_schedules SET served_month = ? WHERE id = ?', [today.slice(0, 7), schedule.id]);
    const data = { account: schedule.account, scheduleId: schedule.id, packageName: quote.packageName, method: quote.method, priceCents: quote.priceCents };
    // Past the ledger's bound the month is refused and notified once, and the other schedules still run.
    const bound = await ledger.boundRefusal(moveEntries(WORLD_ACCOUNT_ID, schedule.accountId, quote.millicredits));
    if (bound !== null) {
      queueEvent(tx, { type: 'recharge.refused', text: `Scheduled top-up of ${schedule.account} refused: ${bound.message}.`, data, nowMs: context.nowMs });
      continue;
    }
    const { id } = await recordPurchase(tx, ledger, context, { quote, accountId: schedule.accountId, origin: 'recharge', scheduleId: schedule.id });
    queueEvent(tx, {
      type: 'recharge.done',
      text: `Scheduled top-up of ${schedule.account}: ${quote.packageName} package, ${formatCreditsText(quote.millicredits)} credits for ${formatEurosText(quote.priceCents)} by ${quote.method}${quote.instant ? '' : ' (pending until settled)'}.`,
      data: { ...data, purchaseId: id, millicredits: quote.millicredits, status: quote.instant ? 'settled' : 'pending' },
      nowMs: context.nowMs,
    });
  }
  return schedules.length;
}
