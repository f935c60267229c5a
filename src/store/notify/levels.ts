import { formatCreditsText } from '../../core/amountText.js';
import { ALERT_LEVELS_SETTING, alertLevelsFromSetting, baseMillicredits, isBelowLevel, percentLeft, type PercentBase } from '../../core/percentLeft.js';
import { SETTING_KEYS } from '../../core/org.js';
import { DEFAULT_TIME_ZONE } from '../../core/time.js';
import type { SqlReader, WriteTx } from '../driver.js';
import type { LedgerWriter } from '../ledgerWriter.js';
import { ORG_ACCOUNT_ID } from '../orgRepo.js';
import { percentBases } from '../percentBase.js';
import { queueEvent } from './outbox.js';

/**
 * The row of balance_alerts that says "usage of this account was refused for want of credits
 * and its owners were told": a level no percentage can be, so it shares the once-per-crossing
 * table with the levels. It is cleared when credits come in.
 */
export const PAUSED_MARKER_LEVEL = -1;

type Subject = { id: number; name: string; base: PercentBase; receivedCredits: boolean };

/** The levels set with `notify levels set`, or the seed's 20/10/0. */
export async function alertLevels(db: SqlReader): Promise<number[]> {
  const row = await db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [ALERT_LEVELS_SETTING]);
  return alertLevelsFromSetting(row?.value);
}

/** The accounts a write changed, and the organisation as a whole (its alerts are kept under org's id). */
async function subjectsOf(tx: WriteTx, ledger: LedgerWriter, nowMs: number, timeZone: string): Promise<Subject[]> {
  const touched = ledger.touched();
  const stored = await tx.all<{ id: number; balance: number }>("SELECT id, balance_millicredits AS balance FROM accounts WHERE kind <> 'world'");
  const balances = new Map(stored.map((row) => [row.id, row.balance]));
  for (const account of touched) balances.set(account.id, account.balanceMillicredits);
  const bases = await percentBases(tx, balances, nowMs, timeZone);
  const subjects: Subject[] = touched
    .filter((account) => account.kind === 'department')
    .map((account) => ({ id: account.id, name: account.name, base: bases.byAccount.get(account.id)!, receivedCredits: account.toppedUp }));
  subjects.push({ id: ORG_ACCOUNT_ID, name: 'The organisation', base: bases.organisation, receivedCredits: touched.some((account) => account.toppedUp) });
  return subjects;
}

function describe(subject: Subject): { left: string; of: string; percent: string; data: Record<string, unknown> } {
  const percent = percentLeft(subject.base);
  return {
    left: formatCreditsText(Math.max(0, subject.base.balanceMillicredits)),
    of: formatCreditsText(baseMillicredits(subject.base)),
    percent: percent === null ? 'n/a' : `${percent.toFixed(1)}%`,
    data: {
      account: subject.id === ORG_ACCOUNT_ID ? 'organisation' : subject.name,
      balanceMillicredits: subject.base.balanceMillicredits,
      openingMillicredits: subject.base.openingMillicredits,
      inflowMillicredits: subject.base.inflowMillicredits,
      percentLeft: percent,
    },
  };
}

/**
 * Runs in the write transaction of every ledger change, after its postings: each configured
 * level speaks once when the account falls below it (several levels crossed at once each
 * speak), and once more ("recovered") when credits coming in lift it back above, which re-arms
 * the level. A level left behind without credits coming in (a new month starts at 100%) is
 * re-armed silently. The pause marker is cleared when credits come in.
 */
export async function fireBalanceAlerts(tx: WriteTx, ledger: LedgerWriter, nowMs: number): Promise<void> {
  // One read for both settings: on a remote ledger every read is a round trip.
  const settings = await tx.all<{ key: string; value: string }>('SELECT key, value FROM settings WHERE key IN (?, ?)', [
    SETTING_KEYS.timeZone,
    ALERT_LEVELS_SETTING,
  ]);
  const setting = (key: string) => settings.find((row) => row.key === key)?.value;
  const levels = alertLevelsFromSetting(setting(ALERT_LEVELS_SETTING));
  const subjects = await subjectsOf(tx, ledger, nowMs, setting(SETTING_KEYS.timeZone) ?? DEFAULT_TIME_ZONE);
  const fired = await tx.all<{ accountId: number; levelPercent: number }>(
    `SELECT account_id AS accountId, level_percent AS levelPercent FROM balance_alerts WHERE account_id IN (${subjects.map((subject) => subject.id).join(',')})`,
  );
  for (const subject of subjects) {
    const already = new Set(fired.filter((row) => row.accountId === subject.id).map((row) => row.levelPercent));
    if (already.has(PAUSED_MARKER_LEVEL) && subject.receivedCredits && !ledger.pausedInThisWrite(subject.id)) {
      tx.run('DELETE FROM balance_alerts WHERE account_id = ? AND level_percent = ?', [subject.id, PAUSED_MARKER_LEVEL]);
    }
    const text = describe(subject);
    const recovered: number[] = [];
    for (const level of already) {
      if (level === PAUSED_MARKER_LEVEL || (levels.includes(level) && isBelowLevel(subject.base, level))) continue;
      tx.run('DELETE FROM balance_alerts WHERE account_id = ? AND level_percent = ?', [subject.id, level]);
      if (subject.receivedCredits && levels.includes(level)) recovered.push(level);
    }
    if (recovered.length > 0) {
      const level = Math.max(...recovered);
      queueEvent(tx, {
        type: 'balance.recovered',
        text: `${subject.name} is back above ${level === 0 ? 'zero' : `${level}%`}: ${text.left} credits left of ${text.of} this month (${text.percent}).`,
        data: { ...text.data, levelPercent: level, levelsPercent: recovered.sort((a, b) => b - a) },
        nowMs,
      });
    }
    for (const level of levels) {
      if (already.has(level) || !isBelowLevel(subject.base, level)) continue;
      tx.run('INSERT INTO balance_alerts (account_id, level_percent, fired_at_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [subject.id, level, nowMs]);
      queueEvent(tx, {
        type: level === 0 ? 'balance.depleted' : 'balance.low',
        text:
          level === 0
            ? `${subject.name} has no credits left: ${subject.id === ORG_ACCOUNT_ID ? 'AI features are' : 'its AI features are'} paused until new credits are loaded.`
            : `${subject.name} is below ${level}% of this month's credits: ${text.left} credits left of ${text.of} (${text.percent}).`,
        data: { ...text.data, levelPercent: level },
        nowMs,
      });
    }
  }
}
