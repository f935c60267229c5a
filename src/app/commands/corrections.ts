import { formatCreditsText } from '../../core/amountText.js';
import { parseSignedCreditsInput } from '../../core/amounts.js';
import { CreditsError } from '../../core/errors.js';
import { parseFreeText } from '../../core/names.js';
import { adjustAccount, reverseUsage } from '../../store/ops/corrections.js';
import { parseId, stringOption } from '../parse.js';
import { defineCommand, mutatingRequest, type CommandSpec, type MutatingRequest } from '../spec.js';

/** What `adjust` was given: the account and the signed amount, checked once the ledger is open; the reason is required. */
export type AdjustRequest = MutatingRequest & { account: string; amount: string; reason: string | undefined };

/** What `usage reverse` was given: one event, or a usage batch by --import-id (never both), and the required reason. */
export type UsageReverseRequest = MutatingRequest & { event: string | undefined; importId: number | undefined; reason: string | undefined };

/** A reason is what makes a correction auditable: refused when empty, as when missing. */
function requiredReason(text: string): string {
  const reason = parseFreeText(text, '--reason');
  if (reason.trim() === '')
    throw new CreditsError('MISSING_FLAG', '--reason is required: say why the books are corrected', { hint: 'for example --reason "credit note 2026-114"' });
  return reason;
}

export const correctionCommands: CommandSpec[] = [
  defineCommand({
    name: 'adjust',
    summary: 'book a correction of an account against the outside world, up or down, with a mandatory reason',
    ledger: 'existing',
    mutating: true,
    arguments: [
      { name: 'account', description: 'org or a department', required: true, dynamic: 'accounts' },
      { name: 'amount', description: 'credits to add, or to take away with a minus sign (-2.5)', required: true },
    ],
    options: [{ flags: '--reason <text>', description: 'why (required): shown in history, statements and the audit log' }],
    examples: [
      'credits adjust Engineering 250 --reason "credit note 2026-114: outage on 12 Nov"',
      'credits adjust org -1000 --reason "duplicate SEPA booking, bank ref 7781" --json',
    ],
    request: (input): AdjustRequest => ({
      ...mutatingRequest(input),
      account: input.args[0] ?? '',
      amount: input.args[1] ?? '',
      reason: stringOption(input, 'reason'),
    }),
    async run(input, context) {
      await context.settings();
      const db = await context.db();
      const millicredits = parseSignedCreditsInput(input.amount, 'AMOUNT');
      const reason = requiredReason(await context.need(input.reason, { flag: '--reason', message: 'Reason (kept in the ledger)' }));
      const args = { account: input.account, millicredits, reason };
      if (context.canAsk && !input.dryRun) {
        // The account and its balance are checked before anyone is asked to agree.
        const preview = await adjustAccount(db, { ...context.mutation(input, args), dryRun: true }, args);
        const sign = millicredits > 0 ? '+' : '';
        await context.confirm(
          `Adjust ${preview.account} by ${sign}${formatCreditsText(millicredits)} credits to ${formatCreditsText(preview.balanceMillicredits)} ("${reason}")`,
          'Book the adjustment?',
        );
      }
      const result = await adjustAccount(db, context.mutation(input, args), args);
      return { view: 'adjusted', data: { ...result, credits: result.millicredits / 1000 } };
    },
  }),
  defineCommand({
    name: 'usage reverse',
    summary: 'reverse one usage event, or every event of a usage batch (--import-id): its cost goes back, booked now',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'event', description: 'the event id the platform sent, or #N from `usage list`', required: false }],
    options: [
      { flags: '--import-id <id>', description: 'every event of this usage batch: the usage transaction an import batch was posted in' },
      { flags: '--reason <text>', description: 'why (required): shown in history, statements and the audit log' },
    ],
    examples: [
      'credits usage reverse evt-981 --reason "gateway retried, charged twice"',
      'credits usage reverse --import-id 412 --reason "october.csv imported into the wrong ledger" --dry-run',
    ],
    request: (input): UsageReverseRequest => {
      const importId = stringOption(input, 'importId');
      return {
        ...mutatingRequest(input),
        event: input.args[0],
        importId: importId === undefined ? undefined : parseId(importId, '--import-id'),
        reason: stringOption(input, 'reason'),
      };
    },
    async run(input, context) {
      await context.settings();
      const db = await context.db();
      if (input.event !== undefined && input.importId !== undefined)
        throw new CreditsError('USAGE', 'give one event or --import-id, not both', { hint: 'reverse the event, or the whole batch it was posted in' });
      if (input.event === undefined && input.importId === undefined)
        throw new CreditsError('MISSING_FLAG', 'EVENT_ID or --import-id is required', { hint: 'for example `credits usage reverse evt-981 --reason "..."`' });
      const reason = requiredReason(await context.need(input.reason, { flag: '--reason', message: 'Reason (kept in the ledger)' }));
      const args = { event: input.event ?? null, importId: input.importId ?? null, reason };
      const target = { event: input.event, importId: input.importId, reason };
      if (context.canAsk && !input.dryRun) {
        // Everything is checked (the event, a reversal before, the bound) before anyone is asked to agree.
        const preview = await reverseUsage(db, { ...context.mutation(input, args), dryRun: true }, target);
        await context.confirm(
          `Reverse ${preview.events} event${preview.events === 1 ? '' : 's'} of usage transaction ${preview.reversesTransactionId}: ${formatCreditsText(preview.millicredits)} credits go back ("${reason}")`,
          'Book the reversal?',
        );
      }
      const result = await reverseUsage(db, context.mutation(input, args), target);
      return { view: 'reversed', data: { ...result, credits: result.millicredits / 1000 } };
    },
  }),
];
