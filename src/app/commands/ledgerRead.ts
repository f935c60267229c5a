import { CreditsError } from '../../core/errors.js';
import { parseEmail } from '../../core/names.js';
import { parseInstantInput } from '../../core/time.js';
import { heldByAccount } from '../../store/holdRepo.js';
import { auditLog, balancesAsOf, currentBalances, history, historyCount, withPercentLeft } from '../../store/ledgerQueries.js';
import { requireAccount, requireUser } from '../../store/orgRepo.js';
import { parseId, parseLimit, stringOption } from '../parse.js';
import { defineCommand, type CommandSpec } from '../spec.js';
import { departmentOrScope } from '../scopeDefaults.js';

/**
 * `history --kind` takes the words of the commands: `transfer` is what `credits transfer` made,
 * whether the ledger calls it an allocation (out of the org pool) or a transfer (between
 * departments); `buy` is a purchase. The ledger's own words still work.
 */
const KIND_WORDS = {
  transfer: ['allocation', 'transfer'],
  buy: ['purchase'],
  usage: ['usage'],
  recharge: ['recharge'],
  reversal: ['reversal'],
  adjustment: ['adjustment'],
  purchase: ['purchase'],
  allocation: ['allocation'],
} as const satisfies Record<string, readonly string[]>;
export type HistoryKind = keyof typeof KIND_WORDS;
const KINDS = Object.keys(KIND_WORDS) as HistoryKind[];

function historyKind(text: string | undefined): HistoryKind | undefined {
  if (text !== undefined && !(KINDS as readonly string[]).includes(text)) {
    throw new CreditsError('INVALID_VALUE', `--kind "${text}" is not a transaction kind`, { hint: `--kind takes one of ${KINDS.join(', ')}` });
  }
  return text as HistoryKind | undefined;
}

/** --as-of is read in the organisation's time zone, so it stays text. */
export type BalanceRequest = { account: string | undefined; asOf: string | undefined };

/**
 * What `history` was given: --kind is checked at once; the rest stays text, read in the order the
 * command always read it (names in the ledger first, then the dates in the organisation's time
 * zone, then --before and --limit).
 */
export type HistoryRequest = {
  kind: HistoryKind | undefined;
  user: string | undefined;
  dept: string | undefined;
  model: string | undefined;
  since: string | undefined;
  until: string | undefined;
  before: string | undefined;
  limit: string | undefined;
};

/** --since is read in the organisation's time zone before --limit is checked, so both stay text. */
export type AuditRequest = { since: string | undefined; limit: string | undefined };

export const ledgerReadCommands: CommandSpec[] = [
  defineCommand({
    name: 'balance',
    summary: "credits left in the org pool and each department, with the percentage left of this month's credits (opening balance plus what came in)",
    ledger: 'existing',
    arguments: [{ name: 'account', description: 'only this department (or org)', required: false, dynamic: 'accounts' }],
    options: [{ flags: '--as-of <date>', description: 'balances at the start of this date (YYYY-MM-DD, local) or instant (ISO 8601)' }],
    examples: ['credits balance', 'credits balance Engineering --json', 'credits balance --as-of 2026-10-01'],
    request: (input): BalanceRequest => ({ account: input.args[0], asOf: stringOption(input, 'asOf') }),
    async run(input, context) {
      const settings = await context.settings();
      const db = await context.db();
      const asOfText = input.asOf;
      const asOfMs = asOfText === undefined ? undefined : parseInstantInput(asOfText, '--as-of', settings.timeZone);
      const accountName = departmentOrScope(context, input.account);
      const only = accountName === undefined ? undefined : await requireAccount(db, accountName, 'ACCOUNT');
      const rows = asOfMs === undefined ? await currentBalances(db) : await balancesAsOf(db, asOfMs);
      // As of an instant means before it: the month's movements stop just short of it too.
      const measured = await withPercentLeft(db, rows, asOfMs === undefined ? context.nowMs : asOfMs - 1, settings.timeZone);
      // Credits open holds keep for calls in progress: counted out of what others may spend.
      const held = await heldByAccount(db, asOfMs === undefined ? context.nowMs : asOfMs - 1, context.nowMs);
      const accounts = measured.accounts
        .filter((row) => only === undefined || row.account === only.name)
        .map((row) => ({
          account: row.account,
          kind: row.kind,
          costCenter: row.costCenter,
          millicredits: row.balanceMillicredits,
          credits: row.balanceMillicredits / 1000,
          heldMillicredits: held.get(row.id) ?? 0,
          availableMillicredits: row.balanceMillicredits - (held.get(row.id) ?? 0),
          percentLeft: row.percentLeft,
          percentBaseMillicredits: row.percentBaseMillicredits,
        }));
      const totalMillicredits = accounts.reduce((sum, row) => sum + row.millicredits, 0);
      const totalHeldMillicredits = accounts.reduce((sum, row) => sum + row.heldMillicredits, 0);
      const { organisation } = measured;
      return {
        view: 'balances',
        data: {
          asOfMs: asOfMs ?? null,
          accounts,
          totalMillicredits,
          totalCredits: totalMillicredits / 1000,
          totalHeldMillicredits,
          organisation: {
            millicredits: organisation.balanceMillicredits,
            percentLeft: organisation.percentLeft,
            percentBaseMillicredits: organisation.percentBaseMillicredits,
          },
        },
      };
    },
  }),
  defineCommand({
    name: 'history',
    summary: 'ledger transactions, newest first',
    ledger: 'existing',
    options: [
      { flags: '--dept <name>', description: 'only transactions touching this department (or org)', dynamic: 'accounts' },
      { flags: '--user <email>', description: 'only usage of this user', dynamic: 'users' },
      { flags: '--model <id>', description: 'only usage of this model', dynamic: 'models' },
      { flags: '--kind <kind>', description: 'only this kind (transfer: allocations from org and transfers between departments)', choices: KINDS },
      { flags: '--since <date>', description: 'from this date or instant on' },
      { flags: '--until <date>', description: 'up to the end of this date, or before this instant' },
      { flags: '--limit <n>', description: 'at most this many', defaultValue: '50' },
      { flags: '--before <id>', description: 'only transactions older than this id (the next page: the last id shown)' },
    ],
    examples: [
      'credits history --dept Engineering --since 2026-11-01',
      'credits history --kind transfer --limit 20 --before 1155',
      'credits history --kind purchase --json',
      'credits history --user ada@example.com --model gpt-4o',
    ],
    request: (input): HistoryRequest => ({
      kind: historyKind(stringOption(input, 'kind')),
      user: stringOption(input, 'user'),
      dept: stringOption(input, 'dept'),
      model: stringOption(input, 'model'),
      since: stringOption(input, 'since'),
      until: stringOption(input, 'until'),
      before: stringOption(input, 'before'),
      limit: stringOption(input, 'limit'),
    }),
    async run(input, context) {
      const settings = await context.settings();
      const db = await context.db();
      const kind = input.kind;
      const userEmail = input.user;
      // A bound principal sees its department's share of each transaction (or its user's).
      const dept = userEmail === undefined ? departmentOrScope(context, input.dept) : input.dept;
      const since = input.since;
      const until = input.until;
      const beforeText = input.before;
      const filter = {
        accountId: dept === undefined ? undefined : (await requireAccount(db, dept, '--dept')).id,
        userId: userEmail === undefined ? undefined : (await requireUser(db, parseEmail(userEmail, '--user'), '--user')).id,
        model: input.model,
        kinds: kind === undefined ? undefined : KIND_WORDS[kind],
        sinceMs: since === undefined ? undefined : parseInstantInput(since, '--since', settings.timeZone),
        untilMs: until === undefined ? undefined : parseInstantInput(until, '--until', settings.timeZone, { endOfDay: true }),
        beforeId: beforeText === undefined ? undefined : parseId(beforeText, '--before'),
        limit: parseLimit(input.limit),
      };
      const items = await history(db, filter);
      // A first page shorter than --limit is the whole list: nothing to count.
      const whole = filter.beforeId === undefined && items.length < filter.limit;
      const total = whole ? items.length : await historyCount(db, { ...filter, beforeId: undefined });
      const older = filter.beforeId === undefined ? 0 : await historyCount(db, filter);
      // What a cut list leaves out: the rows after this page, for the "50 of 1,204 shown" line.
      const more = (filter.beforeId === undefined ? total : older) - items.length;
      return { view: 'history', data: { transactions: items, total, more, nextBefore: more > 0 ? (items[items.length - 1]?.id ?? null) : null } };
    },
  }),
  defineCommand({
    name: 'audit',
    summary: 'who ran which command that changed the ledger, when, with which arguments',
    ledger: 'existing',
    options: [
      { flags: '--since <date>', description: 'from this date or instant on' },
      { flags: '--limit <n>', description: 'at most this many', defaultValue: '50' },
    ],
    examples: ['credits audit --since 2026-11-01', 'credits audit --json --limit 500'],
    request: (input): AuditRequest => ({ since: stringOption(input, 'since'), limit: stringOption(input, 'limit') }),
    async run(input, context) {
      const settings = await context.settings();
      const since = input.since;
      const items = await auditLog(await context.db(), {
        sinceMs: since === undefined ? undefined : parseInstantInput(since, '--since', settings.timeZone),
        limit: parseLimit(input.limit),
      });
      return { view: 'audit', data: { entries: items } };
    },
  }),
];
