import type { ReversalResult } from '../../app/documentTypes.js';
import { formatCount, formatCredits } from '../format.js';
import { palette, type RenderOptions } from '../style.js';

type Adjusted = {
  transactionId: number;
  account: string;
  millicredits: number;
  reason: string;
  balanceMillicredits: number;
  dryRun: boolean;
  replayed: boolean;
};

function signed(millicredits: number): string {
  return millicredits > 0 ? `+${formatCredits(millicredits)}` : formatCredits(millicredits);
}

type Reversed = ReversalResult & { dryRun: boolean; replayed: boolean };

export const correctionViews = {
  adjusted(data: Adjusted, options: RenderOptions): string {
    const chalk = palette(options);
    const head = data.dryRun ? chalk.cyan('dry run, nothing written: ') : data.replayed ? chalk.dim('already done (same idempotency key): ') : '';
    const what = `${data.account} ${signed(data.millicredits)} credits`;
    return `${head}${data.dryRun ? `would adjust ${what}` : `Adjusted ${what} (transaction ${data.transactionId})`}, ${data.dryRun ? 'leaving' : 'now'} ${formatCredits(data.balanceMillicredits)} credits.\n${chalk.dim(`Reason: ${data.reason}`)}`;
  },

  reversed(data: Reversed, options: RenderOptions): string {
    const chalk = palette(options);
    const head = data.dryRun
      ? chalk.cyan('dry run, nothing written: would reverse')
      : data.replayed
        ? chalk.dim('already done (same idempotency key): reversed')
        : 'Reversed';
    const what =
      data.event === null
        ? `${formatCount(data.events)} event${data.events === 1 ? '' : 's'} of usage transaction ${data.reversesTransactionId}${data.alreadyReversed > 0 ? ` (${formatCount(data.alreadyReversed)} reversed before, left alone)` : ''}`
        : `event ${data.event} of usage transaction ${data.reversesTransactionId}`;
    const back = [
      ...data.departments.map((row) => `${row.department} ${signed(row.millicredits)}`),
      ...(data.drawnFromOrgMillicredits !== 0 ? [`org ${signed(data.drawnFromOrgMillicredits)} (overdraft)`] : []),
    ];
    return `${head} ${what}${data.dryRun ? '' : ` in transaction ${data.transactionId}`}: ${formatCredits(data.millicredits)} credits back (${back.join(', ')}).\n${chalk.dim(`Reason: ${data.reason}`)}`;
  },
};
