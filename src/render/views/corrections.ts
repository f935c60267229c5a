import { formatCredits } from '../format.js';
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

export const correctionViews = {
  adjusted(data: Adjusted, options: RenderOptions): string {
    const chalk = palette(options);
    const head = data.dryRun ? chalk.cyan('dry run, nothing written: ') : data.replayed ? chalk.dim('already done (same idempotency key): ') : '';
    const what = `${data.account} ${signed(data.millicredits)} credits`;
    return `${head}${data.dryRun ? `would adjust ${what}` : `Adjusted ${what} (transaction ${data.transactionId})`}, ${data.dryRun ? 'leaving' : 'now'} ${formatCredits(data.balanceMillicredits)} credits.\n${chalk.dim(`Reason: ${data.reason}`)}`;
  },
};
