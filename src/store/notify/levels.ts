import { formatCreditsText } from '../../core/amountText.js';
import { ALERT_LEVELS_SETTING, alertLevelsFromSetting, baseMillicredits, isBelowLevel, percentLeft, type PercentBase } from '../../core/percentLeft.js';
import { SETTING_KEYS } from '../../core/org.js';
import { DEFAULT_TIME_ZONE } from '../../core/time.js';
import { queuedRead, type SqlReader, type WriteTx } from '../driver.js';
import type { LedgerWriter } from '../ledgerWriter.js';
import { ORG_ACCOUNT_ID } from '../orgRepo.js';
import { OPENINGS_SQL, percentBases, type OpeningRow } from '../percentBase.js';
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

/**
 * The reads fireBalanceAlerts needs that no later step of the write changes, queued together so
 * that a remote ledger sends them in one round trip (see queuedRead): the two settings, the
 * stored balances, the alerts fired, the month openings kept.
 */
export type AlertReads = {
  settings: () => Promise<{ key: string; value: string }[]>;
  balances: () => Promise<{ id: number; balance: number }[]>;
  fired: () => Promise<{ accountId: number; levelPercent: number }[]>;
  openings: () => Promise<OpeningRow[]>;
};

export function queueAlertReads(tx: WriteTx): AlertReads {
  return {
    settings: queuedRead(tx, 'SELECT key, value FROM settings WHERE key IN (?, ?)', [SETTING_KEYS.timeZone, ALERT_LEVELS_SETTING]),
    balances: queuedRead(tx, "SELECT id, balance_millicredits AS balance FROM accounts WHERE kind <> 'world'"),
    fired: queuedRead(tx, 'SELECT account_id AS accountId, level_percent AS levelPercent FROM balance_alerts'),
    openings: queuedRead(tx, OPENINGS_SQL),
  };
}

/** The accounts a write changed, and the organisation as a whole (its alerts are kept under org's id). */
async function subjectsOf(ledger: LedgerWriter, tx: WriteTx, reads: AlertReads, nowMs: number, timeZone: string): Promise<Subject[]> {
  const touched = ledger.touched();
  const stored = await reads.balances();
  const balances = new Map(stored.map((row) => [row.id, row.balance]));
  for (const account of touched) balances.set(account.id, account.balanceMillicredits);
  const bases = await percentBases(tx, balances, nowMs, timeZone, await reads.openings());
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
export async function fireBalanceAlerts(tx: WriteTx, ledger: LedgerWriter, nowMs: number, reads: AlertReads = queueAlertReads(tx)): Promise<void> {
  const settings = await reads.settings();
  const setting = (key: string) => settings.find((row) => row.key === key)?.value;
  const levels = alertLevelsFromSetting(setting(ALERT_LEVELS_SETTING));
  const subjects = await subjectsOf(ledger, tx, reads, nowMs, setting(SETTING_KEYS.timeZone) ?? DEFAULT_TIME_ZONE);
  const fired = await reads.fired();
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
