import { formatCreditsText } from '../../core/amountText.js';
import type { WriteTx } from '../driver.js';
import { PAUSED_MARKER_LEVEL } from './levels.js';
import { queueEvent } from './outbox.js';

export type PausedNotice = {
  accountId: number;
  account: string;
  balanceMillicredits: number;
  neededMillicredits: number;
  user: string;
  model: string;
  nowMs: number;
};

/**
 * The seed's "AI features are paused until new credits are loaded", said at the moment usage is
 * refused for want of credits (the balance may still be above zero: the event costs more). Once
 * per crossing: the marker stays until credits come in (levels.ts clears it), so a stream of
 * refused events sends one notice, in the same write that refused the first.
 */
export async function queuePausedNotice(tx: WriteTx, notice: PausedNotice): Promise<void> {
  const marked = await tx.get('SELECT 1 AS found FROM balance_alerts WHERE account_id = ? AND level_percent = ?', [notice.accountId, PAUSED_MARKER_LEVEL]);
  if (marked) return;
  tx.run('INSERT INTO balance_alerts (account_id, level_percent, fired_at_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [
    notice.accountId,
    PAUSED_MARKER_LEVEL,
    notice.nowMs,
  ]);
  const { nowMs, accountId: _accountId, ...data } = notice;
  queueEvent(tx, {
    type: 'usage.paused',
    text: `AI features of ${notice.account} are paused: ${notice.user} was refused a ${notice.model} request of ${formatCreditsText(notice.neededMillicredits)} credits with ${formatCreditsText(notice.balanceMillicredits)} left. They resume when credits are loaded.`,
    data,
    nowMs,
  });
}
