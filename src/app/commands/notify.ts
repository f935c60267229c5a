import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseCreditsInput, parseEuroInput } from '../../core/amounts.js';
import { configuredSigningKey, signCheckpoint } from '../checkpoint.js';
import { CreditsError } from '../../core/errors.js';
import { parseEmail, parseFreeText } from '../../core/names.js';
import { findPackage, parseDiscountPercent, parsePaymentMethod, type PaymentMethod } from '../../core/packages.js';
import { parseDayOfMonth } from '../../core/rechargeSchedule.js';
import { localMonthKey, monthBounds } from '../../core/time.js';
import { parseAlertLevels } from '../../core/percentLeft.js';
import { formatStandardSecret, parseWebhookSecret, STANDARD_SECRET_BYTES } from '../../core/webhookSecret.js';
import { nodeCrypto } from '../../store/nodeCrypto.js';
import { closeExpiredHolds } from '../../store/holdRepo.js';
import { alertLevels } from '../../store/notify/levels.js';
import { listChannels, pendingCounts } from '../../store/notify/outbox.js';
import {
  addChannel,
  channelSecret,
  rotateChannelSecret,
  setAlertLevels,
  rechargeStatuses,
  recheckRecharges,
  removeChannel,
  removeRechargeRule,
  setRechargeRule,
} from '../../store/ops/notifications.js';
import { addRechargeSchedule, listRechargeSchedules, removeRechargeSchedule } from '../../store/ops/rechargeSchedules.js';
import { parseId, stringOption } from '../parse.js';
import { defineCommand, mutatingRequest, type CommandSpec, type CommandInput, type MutatingRequest } from '../spec.js';
import { departmentOrScope } from '../scopeDefaults.js';
import { reprintFileData } from './invoiceCancel.js';

const CHANNEL_KINDS = ['webhook', 'email', 'command'] as const;

type ChannelKind = (typeof CHANNEL_KINDS)[number];

export type NotifyLevelsSetRequest = MutatingRequest & { levelsPercent: number[] };

/** A channel as given, checked: the kind, its target in canonical form, and a webhook's secret. */
export type NotifyChannelAddRequest = MutatingRequest & { kind: ChannelKind; target: string; secret: string | undefined };

export type NotifyChannelRemoveRequest = MutatingRequest & { channelId: number };

export type NotifyChannelSecretRequest = { channelId: number };

/** The channel id and --timeout as given: both are checked after the ledger is read. */
export type NotifyTestRequest = { channel: string | undefined; timeout: string };

/** --lease and --timeout as given (checked after the reports are queued); --reports-dir, if given. */
export type NotifyRunRequest = { lease: string; timeout: string; reportsDir: string | undefined };

/** Either `packageName` or `targetMillicredits` (with an optional custom discount), never both. */
export type RechargeSetRequest = MutatingRequest & {
  thresholdMillicredits: number;
  packageName: string | null;
  targetMillicredits: number | null;
  customDiscountBasisPoints: number | null;
  method: Exclude<PaymentMethod, 'invoice'>;
  monthlyCapCents: number;
  account: string | undefined;
};

export type RechargeScheduleRequest = MutatingRequest & {
  dayOfMonth: number;
  packageName: string;
  method: Exclude<PaymentMethod, 'invoice'>;
  account: string | undefined;
};

export type RechargeScheduleRemoveRequest = MutatingRequest & { scheduleId: number };

export type RechargeOffRequest = MutatingRequest & { account: string | undefined };

/** Takes no arguments; the mutation still carries --dry-run and --idempotency-key when a transport sends them. */
export type RechargeRunRequest = MutatingRequest;

function parseChannelTarget(kind: string, target: string): string {
  if (kind === 'webhook') {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new CreditsError('INVALID_VALUE', `TARGET "${target}" is not a URL`, {
        hint: 'a webhook is an http(s) URL, like https://hooks.slack.com/services/...',
      });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new CreditsError('INVALID_VALUE', `TARGET "${target}" is not an http(s) URL`, { hint: 'a webhook is an http(s) URL' });
    return url.toString();
  }
  if (kind === 'email') return parseEmail(target, 'TARGET');
  return (
    parseFreeText(target, 'TARGET', 2000).trim() ||
    (() => {
      throw new CreditsError('INVALID_VALUE', 'TARGET: the command is empty');
    })()
  );
}

function parseSeconds(text: string, field: string): number {
  if (!/^\d{1,6}(\.\d{1,3})?$/.test(text.trim()))
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not a number of seconds`, { hint: `${field} takes seconds, like 60` });
  return Math.round(Number(text) * 1000);
}

function channelAddRequest(input: CommandInput): NotifyChannelAddRequest {
  const kind = input.args[0] ?? '';
  if (!(CHANNEL_KINDS as readonly string[]).includes(kind)) throw new CreditsError('INVALID_VALUE', `KIND "${kind}" is not one of ${CHANNEL_KINDS.join(', ')}`);
  const target = parseChannelTarget(kind, input.args[1] ?? '');
  const secret = stringOption(input, 'secret');
  if (secret !== undefined && kind !== 'webhook') throw new CreditsError('USAGE', '--secret applies to webhooks only');
  return { ...mutatingRequest(input), kind: kind as ChannelKind, target, secret: secret === undefined ? undefined : parseWebhookSecret(secret, '--secret') };
}

/** A new Standard Webhooks secret, drawn when the command runs (a request is parsed without I/O). */
function generatedSecret(): string {
  return formatStandardSecret(nodeCrypto().randomBytes(STANDARD_SECRET_BYTES.generated));
}

function requiredOption(input: CommandInput, key: string, flag: string, command: string): string {
  const value = stringOption(input, key);
  if (value === undefined) throw new CreditsError('MISSING_FLAG', `${flag} is required`, { hint: `see \`credits ${command} --help\`` });
  return value;
}

/** Card, PayPal or SEPA: an invoice needs a person to pay it, so nothing automatic uses one. */
function automaticMethod(text: string): Exclude<PaymentMethod, 'invoice'> {
  const method = parsePaymentMethod(text);
  if (method === 'invoice') throw new CreditsError('INVALID_VALUE', '--method invoice cannot recharge automatically', { hint: 'use card, paypal or sepa' });
  return method;
}

/** --package buys one package at each crossing; --target the cheapest packages up to a balance. */
function packageOrTarget(input: CommandInput, thresholdMillicredits: number) {
  const packageText = stringOption(input, 'package');
  const targetText = stringOption(input, 'target');
  const discountText = stringOption(input, 'customDiscount');
  if (packageText !== undefined && targetText !== undefined) {
    throw new CreditsError('USAGE', '--package and --target cannot be combined', {
      hint: '--package buys that package at each crossing; --target buys the cheapest packages that bring the balance back to it',
    });
  }
  if (packageText === undefined && targetText === undefined) {
    throw new CreditsError('MISSING_FLAG', '--package or --target is required', { hint: 'see `credits recharge set --help`' });
  }
  if (discountText !== undefined && targetText === undefined) {
    throw new CreditsError('USAGE', '--custom-discount applies to --target only', { hint: 'a custom package is bought only to reach a target' });
  }
  const targetMillicredits = targetText === undefined ? null : parseCreditsInput(targetText, '--target');
  if (targetMillicredits !== null && targetMillicredits < thresholdMillicredits) {
    throw new CreditsError('INVALID_VALUE', `--target ${targetText} is below --threshold`, {
      hint: 'the target is the balance a recharge brings back: give one at or above the threshold',
    });
  }
  return {
    packageName: packageText === undefined ? null : findPackage(packageText).name,
    targetMillicredits,
    customDiscountBasisPoints: discountText === undefined ? null : parseDiscountPercent(discountText, '--custom-discount'),
  };
}

function rechargeSetRequest(input: CommandInput): RechargeSetRequest {
  const thresholdMillicredits = parseCreditsInput(requiredOption(input, 'threshold', '--threshold', 'recharge set'), '--threshold');
  const bought = packageOrTarget(input, thresholdMillicredits);
  const method = automaticMethod(requiredOption(input, 'method', '--method', 'recharge set'));
  const monthlyCapCents = parseEuroInput(requiredOption(input, 'monthlyCap', '--monthly-cap', 'recharge set'), '--monthly-cap');
  return { ...mutatingRequest(input), thresholdMillicredits, ...bought, method, monthlyCapCents, account: stringOption(input, 'for') };
}

function rechargeScheduleRequest(input: CommandInput): RechargeScheduleRequest {
  const dayOfMonth = parseDayOfMonth(requiredOption(input, 'monthlyOn', '--monthly-on', 'recharge schedule'));
  const packageName = findPackage(requiredOption(input, 'package', '--package', 'recharge schedule')).name;
  const method = automaticMethod(stringOption(input, 'method') ?? 'card');
  return { ...mutatingRequest(input), dayOfMonth, packageName, method, account: stringOption(input, 'for') };
}

export const notifyCommands: CommandSpec[] = [
  defineCommand({
    name: 'notify levels show',
    summary: 'the percentages left at which balance alerts fire (default 20,10,0)',
    ledger: 'existing',
    examples: ['credits notify levels show', 'credits notify levels show --json'],
    request: () => ({}),
    async run(_request, context) {
      return { view: 'alertLevels', data: { levelsPercent: await alertLevels(await context.db()) } };
    },
  }),
  defineCommand({
    name: 'notify levels set',
    summary: 'set the percentages left at which balance alerts fire: whole numbers 0-100, comma-separated (0 means depleted)',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'levels', description: 'like 50,20,10,0', required: true }],
    examples: ['credits notify levels set 50,20,10,0', 'credits notify levels set 20,10,0   # the default'],
    request: (input): NotifyLevelsSetRequest => ({ ...mutatingRequest(input), levelsPercent: parseAlertLevels(input.args[0] ?? '', 'LEVELS') }),
    async run(input, context) {
      const { levelsPercent } = input;
      const result = await setAlertLevels(await context.db(), context.mutation(input, { levelsPercent }), levelsPercent);
      return { view: 'alertLevels', data: result };
    },
  }),
  defineCommand({
    name: 'notify channel add',
    summary: 'add a channel: a webhook (Slack-compatible JSON, signed per Standard Webhooks), an email address, or a command fed the event on stdin',
    ledger: 'existing',
    mutating: true,
    arguments: [
      { name: 'kind', description: 'webhook, email or command', required: true, choices: CHANNEL_KINDS },
      { name: 'target', description: 'the URL, the address, or the shell command', required: true },
    ],
    options: [
      {
        flags: '--secret <secret>',
        description: 'webhook only: the signing secret (default: a new whsec_ secret, shown once here and by `notify channel secret ID`)',
      },
    ],
    examples: [
      'credits notify channel add webhook https://ops.example.com/credits   # signed with a new whsec_ secret',
      'credits notify channel add webhook https://hooks.slack.com/services/T0/B0/XYZ',
      'credits notify channel add webhook https://ops.example.com/credits --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'credits notify channel add email finance@example.com',
      "credits notify channel add command 'logger -t credits'",
    ],
    request: channelAddRequest,
    async run(input, context) {
      const { kind, target } = input;
      // Every new webhook is signed: a receiver that ignores the headers loses nothing.
      const secret = kind === 'webhook' ? (input.secret ?? generatedSecret()) : null;
      const audited = { kind, target, secret: secret === null ? null : input.secret === undefined ? 'generated' : 'given' };
      const result = await addChannel(await context.db(), context.mutation(input, audited), { kind, target, secret });
      // A generated secret is shown, a given one the caller knows already.
      const shown = input.secret === undefined && kind === 'webhook' ? { secret: result.replayed || result.dryRun ? null : secret } : {};
      return { view: 'channelAdded', data: { ...result, ...shown } };
    },
  }),
  defineCommand({
    name: 'notify channel secret',
    summary: "a webhook channel's signing secret, for the receiver's configuration",
    ledger: 'existing',
    arguments: [{ name: 'id', description: 'channel id (see `credits notify channels`)', required: true }],
    examples: ['credits notify channel secret 1', 'credits notify channel secret 1 --json | jq -r .secret'],
    request: (input): NotifyChannelSecretRequest => ({ channelId: parseId(input.args[0] ?? '', 'ID') }),
    async run(input, context) {
      return { view: 'channelSecret', data: await channelSecret(await context.db(), input.channelId) };
    },
  }),
  defineCommand({
    name: 'notify channel rotate',
    summary: 'give a webhook channel a new whsec_ signing secret (deliveries from now on are signed with it) and show it',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'id', description: 'channel id (see `credits notify channels`)', required: true }],
    examples: ['credits notify channel rotate 1', 'credits notify channel rotate 1 --json | jq -r .secret'],
    request: (input): NotifyChannelRemoveRequest => ({ ...mutatingRequest(input), channelId: parseId(input.args[0] ?? '', 'ID') }),
    async run(input, context) {
      const { channelId } = input;
      const result = await rotateChannelSecret(await context.db(), context.mutation(input, { channelId }), channelId, generatedSecret());
      return { view: 'channelSecret', data: result };
    },
  }),
  defineCommand({
    name: 'notify channels',
    summary: 'the notification channels, with pending deliveries and the last error of each',
    ledger: 'existing',
    examples: ['credits notify channels', 'credits notify channels --json'],
    request: () => ({}),
    async run(_request, context) {
      const db = await context.db();
      const pending = await pendingCounts(db);
      const channels = (await listChannels(db)).map(({ secret, ...channel }) => ({
        ...channel,
        signed: secret !== null,
        pending: pending.get(channel.id) ?? 0,
        failing: channel.consecutiveFailures > 0,
      }));
      return { view: 'channels', data: { channels } };
    },
  }),
  defineCommand({
    name: 'notify channel remove',
    summary: 'remove a channel (its pending deliveries are dropped)',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'id', description: 'channel id (see `credits notify channels`)', required: true }],
    examples: ['credits notify channel remove 2', 'credits notify channels   # find the id first'],
    request: (input): NotifyChannelRemoveRequest => ({ ...mutatingRequest(input), channelId: parseId(input.args[0] ?? '', 'ID') }),
    async run(input, context) {
      const { channelId } = input;
      return { view: 'channelRemoved', data: await removeChannel(await context.db(), context.mutation(input, { channelId }), channelId) };
    },
  }),
  defineCommand({
    name: 'notify test',
    summary: 'send a test event to one channel or all, now',
    ledger: 'existing',
    arguments: [{ name: 'id', description: 'channel id (default: every channel)', required: false }],
    options: [{ flags: '--timeout <seconds>', description: 'how long one delivery may take', defaultValue: '10' }],
    examples: ['credits notify test', 'credits notify test 2'],
    request: (input): NotifyTestRequest => ({ channel: input.args[0], timeout: stringOption(input, 'timeout') ?? '10' }),
    async run(input, context) {
      const db = await context.db();
      const settings = await context.settings();
      const channelIds = input.channel === undefined ? null : [parseId(input.channel, 'ID')];
      if (channelIds && !(await listChannels(db)).some((channel) => channel.id === channelIds[0])) {
        throw new CreditsError('CHANNEL_NOT_FOUND', `no notification channel ${channelIds[0]}`, { hint: 'see `credits notify channels` for the ids' });
      }
      const { queueTest, deliverDue } = await import('../../notify/runner.js');
      const eventId = await queueTest(db, context.nowMs, channelIds);
      const totals = await deliverDue(db, {
        nowMs: () => context.nowMs,
        leaseMs: 300_000,
        pauseMs: 200,
        batchSize: 10,
        timeoutMs: parseSeconds(input.timeout, '--timeout'),
        smtpUrl: settings.smtpUrl,
        fromAddress: fromAddress(settings.name),
      });
      const data = { eventId, ...totals };
      if (totals.retrying + totals.failed > 0) {
        return {
          view: 'notifyRun',
          data,
          failure: new CreditsError('DELIVERY_FAILED', `${totals.retrying + totals.failed} delivery(ies) failed: ${totals.errors[0]?.error ?? ''}`, {
            hint: "`credits notify channels` shows each channel's last error; `notify run` retries",
          }),
        };
      }
      return { view: 'notifyRun', data };
    },
  }),
  defineCommand({
    name: 'notify run',
    summary: 'for cron: queue due reports (anomalies, the monthly report) and deliver every pending notification, with retries',
    ledger: 'existing',
    options: [
      { flags: '--lease <seconds>', description: 'how long a run holds the deliveries it claimed before another run may take them over', defaultValue: '300' },
      { flags: '--timeout <seconds>', description: 'how long one delivery may take', defaultValue: '10' },
      {
        flags: '--reports-dir <dir>',
        description: 'where the monthly statement and the invoice copies of the month are written (default: reports/ beside a local ledger)',
      },
    ],
    examples: ['credits notify run --quiet', '*/5 * * * * credits notify run --quiet'],
    request: (input): NotifyRunRequest => ({
      lease: stringOption(input, 'lease') ?? '300',
      timeout: stringOption(input, 'timeout') ?? '10',
      reportsDir: stringOption(input, 'reportsDir'),
    }),
    async run(input, context) {
      const db = await context.db();
      const settings = await context.settings();
      const { deliverDue } = await import('../../notify/runner.js');
      const { produceMonthlyReport, queueAnomalies, queueDailyCheckpoint } = await import('../../notify/producers.js');
      const reportsDir =
        input.reportsDir ??
        (db.kind === 'local'
          ? join(dirname(db.location), 'reports')
          : join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'credits', 'reports'));
      // Holds past their expiry give their credits back even when no write comes by.
      const holdsExpired = await closeExpiredHolds(db, context.nowMs);
      const anomalies = await queueAnomalies(db, context.nowMs, settings.timeZone);
      const monthlyReport = await produceMonthlyReport(db, context.nowMs, settings, {
        reportsDir,
        statementPdf: (data) => context.presenter.statementPdf(data),
        invoicePdf: (reprint) => context.presenter.invoicePdf(reprintFileData(reprint)),
      });
      // Only with a signing key: a checkpoint signed by nobody proves nothing.
      const key = configuredSigningKey(context.config);
      const checkpoint = key
        ? await queueDailyCheckpoint(db, context.nowMs, settings.timeZone, (head, state) => signCheckpoint(head, state, context.nowMs, key))
        : null;
      const totals = await deliverDue(db, {
        nowMs: () => context.config.nowMs ?? Date.now(),
        leaseMs: parseSeconds(input.lease, '--lease'),
        pauseMs: 200,
        batchSize: 10,
        timeoutMs: parseSeconds(input.timeout, '--timeout'),
        smtpUrl: settings.smtpUrl,
        fromAddress: fromAddress(settings.name),
      });
      const data = {
        anomaliesQueued: anomalies,
        holdsExpired,
        monthlyReport: monthlyReport?.path ?? null,
        monthlyInvoices: monthlyReport?.invoices.map((invoice) => invoice.path) ?? [],
        checkpoint,
        ...totals,
      };
      if (checkpoint?.outcome === 'damaged') {
        const failure = new CreditsError('INTEGRITY_FAILED', `the daily checkpoint was not signed: ${checkpoint.problem}`, {
          hint: 'run `credits verify`; the ledger file was changed outside credits',
        });
        return { view: 'notifyRun', data, failure };
      }
      return { view: 'notifyRun', data };
    },
  }),
  defineCommand({
    name: 'recharge set',
    summary: 'buy a package (or the cheapest packages up to a target) automatically when an account falls below a threshold, within a monthly cap',
    ledger: 'existing',
    mutating: true,
    options: [
      { flags: '--threshold <credits>', description: 'recharge when the balance falls below this' },
      { flags: '--package <name>', description: 'the package to buy (or --target)', choices: ['basic', 'standard', 'professional', 'team', 'enterprise'] },
      {
        flags: '--target <credits>',
        description: 'instead of --package: buy the cheapest packages that bring the balance back to this (at least the threshold)',
      },
      {
        flags: '--custom-discount <percent>',
        description: 'with --target: the negotiated discount at which a custom package (from 500,000 credits) may be bought',
      },
      { flags: '--method <method>', description: 'card and paypal credit at once, sepa when settled', choices: ['card', 'paypal', 'sepa'] },
      { flags: '--monthly-cap <euros>', description: 'spend at most this many euros a month on recharges' },
      { flags: '--for <account>', description: 'org or a department', defaultValue: 'org', dynamic: 'accounts' },
    ],
    examples: [
      'credits recharge set --threshold 2000 --package standard --method card --monthly-cap 200',
      'credits recharge set --for Engineering --threshold 500 --package basic --method paypal --monthly-cap 50',
      'credits recharge set --threshold 20000 --target 150000 --method sepa --monthly-cap 2000',
    ],
    request: rechargeSetRequest,
    async run(input, context) {
      const { thresholdMillicredits, packageName, targetMillicredits, customDiscountBasisPoints, method, monthlyCapCents } = input;
      const accountName = departmentOrScope(context, input.account) ?? 'org';
      const rule = { accountName, thresholdMillicredits, packageName, targetMillicredits, customDiscountBasisPoints, method, monthlyCapCents };
      const result = await setRechargeRule(await context.db(), context.mutation(input, rule), rule);
      return { view: 'rechargeSet', data: result };
    },
  }),
  defineCommand({
    name: 'recharge',
    summary: "the automatic recharge rules, with this month's recharges against the cap, and the scheduled top-ups",
    ledger: 'existing',
    examples: ['credits recharge', 'credits recharge --json'],
    request: () => ({}),
    async run(_request, context) {
      const settings = await context.settings();
      const month = monthBounds(localMonthKey(context.nowMs, settings.timeZone), settings.timeZone);
      const db = await context.db();
      const rules = await rechargeStatuses(db, month);
      const schedules = (await listRechargeSchedules(db)).map(({ accountId: _accountId, ...schedule }) => schedule);
      // Names come from the same accounts table as the scope's: a bound principal keeps its own.
      const own = context.scope?.department;
      const mine = <T extends { account: string }>(rows: T[]): T[] => (own === undefined ? rows : rows.filter((row) => row.account === own));
      return { view: 'recharges', data: { rules: mine(rules), schedules: mine(schedules) } };
    },
  }),
  defineCommand({
    name: 'recharge schedule',
    summary: 'buy a package every month on a day (cron: recharge run buys it once a month, on or after the day)',
    ledger: 'existing',
    mutating: true,
    options: [
      { flags: '--monthly-on <day>', description: 'the day of the month, 1-31 (29-31: the last day in shorter months)' },
      { flags: '--package <name>', description: 'the package to buy', choices: ['basic', 'standard', 'professional', 'team', 'enterprise'] },
      {
        flags: '--method <method>',
        description: 'card and paypal credit at once, sepa when settled',
        choices: ['card', 'paypal', 'sepa'],
        defaultValue: 'card',
      },
      { flags: '--for <account>', description: 'org or a department', defaultValue: 'org', dynamic: 'accounts' },
    ],
    examples: [
      'credits recharge schedule --monthly-on 1 --package team',
      'credits recharge schedule --for Engineering --monthly-on 15 --package professional --method sepa',
    ],
    request: rechargeScheduleRequest,
    async run(input, context) {
      const { dayOfMonth, packageName, method } = input;
      const accountName = departmentOrScope(context, input.account) ?? 'org';
      const schedule = { accountName, dayOfMonth, packageName, method };
      return { view: 'rechargeScheduled', data: await addRechargeSchedule(await context.db(), context.mutation(input, schedule), schedule) };
    },
  }),
  defineCommand({
    name: 'recharge schedule remove',
    summary: 'stop a scheduled top-up',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'id', description: 'schedule id (see `credits recharge`)', required: true }],
    examples: ['credits recharge schedule remove 1', 'credits recharge   # find the id first'],
    request: (input): RechargeScheduleRemoveRequest => ({ ...mutatingRequest(input), scheduleId: parseId(input.args[0] ?? '', 'ID') }),
    async run(input, context) {
      const { scheduleId } = input;
      return { view: 'rechargeScheduleRemoved', data: await removeRechargeSchedule(await context.db(), context.mutation(input, { scheduleId }), scheduleId) };
    },
  }),
  defineCommand({
    name: 'recharge off',
    summary: 'stop recharging an account automatically',
    ledger: 'existing',
    mutating: true,
    options: [{ flags: '--for <account>', description: 'org or a department', defaultValue: 'org', dynamic: 'accounts' }],
    examples: ['credits recharge off', 'credits recharge off --for Engineering'],
    request: (input): RechargeOffRequest => ({ ...mutatingRequest(input), account: stringOption(input, 'for') }),
    async run(input, context) {
      const accountName = departmentOrScope(context, input.account) ?? 'org';
      return { view: 'rechargeOff', data: await removeRechargeRule(await context.db(), context.mutation(input, { accountName }), accountName) };
    },
  }),
  defineCommand({
    name: 'recharge run',
    summary: 'for cron: buy the scheduled top-ups due today, then look at every recharge rule again and recharge where due',
    ledger: 'existing',
    examples: ['credits recharge run --quiet', '0 * * * * credits recharge run --quiet'],
    request: (input): RechargeRunRequest => mutatingRequest(input),
    async run(input, context) {
      const db = await context.db();
      const result = await recheckRecharges(db, context.mutation(input, {}));
      const made = await db.all<{ id: number; account: string; packageName: string; priceCents: number; status: string; scheduleId: number | null }>(
        `SELECT p.id AS id, a.name AS account, p.package_name AS packageName, p.price_cents AS priceCents, p.status AS status, p.schedule_id AS scheduleId
         FROM purchases p JOIN accounts a ON a.id = p.account_id WHERE p.origin = 'recharge' AND p.id > ? ORDER BY p.id`,
        [result.previousRechargeId],
      );
      return { view: 'rechargeRun', data: { rules: result.rules, schedules: result.schedules, recharges: made } };
    },
  }),
];

function fromAddress(organisation: string): string {
  return `"${organisation.replace(/["\\]/g, '') || 'credits'}" <credits@localhost>`;
}
