import { MILLICREDITS_PER_CREDIT, parseCreditsInput } from '../../core/amounts.js';
import { currentBalances, withPercentLeft } from '../../store/ledgerQueries.js';
import { CreditsError } from '../../core/errors.js';
import { describeRule, parsePeriodFlags, softLimitWarning, type LimitRule, type LimitScope, type LimitWarning } from '../../core/limits.js';
import { hasLessLeft, hasPercentLeft, limitAsBase, percentLeft as percentOfBase, type PercentBase } from '../../core/percentLeft.js';
import { parseEmail } from '../../core/names.js';
import { TIERS, makeRate, parseTier, type Tier } from '../../core/rateCard.js';
import { RUNWAY_HORIZON_DAYS, type Runway } from '../../core/runway.js';
import { parseInstantInput } from '../../core/time.js';
import { runwayReport, type Scope } from '../../store/insights.js';
import { heldByAccount } from '../../store/holdRepo.js';
import { limitStatuses, removeLimit, setLimit, setRate, limitInDepartment, type LimitStatus } from '../../store/ops/rules.js';
import { findAccount, listAccounts, listUsers, requireAccount, requireDepartment, requireUser } from '../../store/orgRepo.js';
import { RateBook, loadRates } from '../../store/usageRepo.js';
import { parseId, stringOption, flagOption } from '../parse.js';
import { defineCommand, mutatingRequest, type CommandSpec, type MutatingRequest } from '../spec.js';
import type { Context } from '../context.js';
import type { Database } from '../../store/driver.js';
import { departmentOrScope, refuseOrganisationFlag } from '../scopeDefaults.js';

function parseRateInput(text: string | undefined, field: string): number | undefined {
  return text === undefined ? undefined : parseCreditsInput(text, field, { allowZero: true });
}

function parseModelId(text: string): string {
  return makeRate(text.trim().toLowerCase(), text, 'economy', 0, 0, 0).model;
}

export type RatesRequest = { at: string | undefined };

/** What `rates set` was given; --effective is read in the organisation's time zone, so it stays text. */
export type RatesSetRequest = MutatingRequest & {
  model: string;
  displayName: string | undefined;
  tier: Tier | undefined;
  inputPer1kMillicredits: number | undefined;
  outputPer1kMillicredits: number | undefined;
  toolCallMillicredits: number | undefined;
  effective: string | undefined;
};

/** The flags of `limits set` as given; they are checked against the caller's scope, then asked for when missing. */
export type LimitsSetRequest = MutatingRequest & {
  user: string | undefined;
  dept: string | undefined;
  org: boolean;
  model: string | undefined;
  tier: string | undefined;
  daily: string | undefined;
  monthly: string | undefined;
  /** A soft limit: warns when passed, never refuses. */
  soft: boolean;
};

export type LimitsRemoveRequest = MutatingRequest & { limitId: number };

/** The flags of `check` as given; they are checked against the caller's scope and the ledger in order. */
export type CheckRequest = {
  user: string | undefined;
  dept: string | undefined;
  org: boolean;
  minCredits: string | undefined;
  minPercent: string | undefined;
  /** --min-days, checked: whole days of runway the forecast must show; null when not asked. */
  minDays: number | null;
};

/** What `limits set` was given as text; the questions fill in what is missing before parsing. */
type LimitTexts = {
  user: string | undefined;
  dept: string | undefined;
  model: string | undefined;
  tier: string | undefined;
  daily: string | undefined;
  monthly: string | undefined;
  /** How many of --user, --dept, --org were given, before any question. */
  scopes: number;
  periodGiven: boolean;
};

/** Reads the flags of `limits set` and refuses combinations no question could repair. */
function readLimitFlags(request: LimitsSetRequest, context: Context): LimitTexts {
  refuseOrganisationFlag(context, request.org, '--org');
  const user = request.user;
  const dept = user === undefined ? departmentOrScope(context, request.dept) : request.dept;
  const org = request.org;
  const scopes = [user !== undefined, dept !== undefined, org].filter(Boolean).length;
  if (scopes > 1)
    throw new CreditsError('USAGE', 'limits set needs exactly one of --user, --dept, --org', { hint: 'for example --user ada@example.com --daily 50' });
  const model = request.model;
  const tier = request.tier;
  if (model !== undefined && tier !== undefined)
    throw new CreditsError('USAGE', '--model and --tier cannot be combined', { hint: 'a limit covers one model or one tier' });
  const daily = request.daily;
  const monthly = request.monthly;
  const periodGiven = daily !== undefined || monthly !== undefined;
  if (!context.canAsk && scopes === 0) {
    throw new CreditsError('MISSING_FLAG', `limits set needs exactly one of --user, --dept, --org${periodGiven ? '' : ', and --daily or --monthly'}`, {
      hint: 'for example --user ada@example.com --daily 50',
    });
  }
  return { user, dept, model, tier, daily, monthly, scopes, periodGiven };
}

/** Asks whom the limit is for: a user or a department picked from a list, or the organisation. */
async function askLimitTarget(context: Context, db: Database, texts: LimitTexts): Promise<void> {
  const scope = await context.need(undefined, {
    flag: '--user, --dept or --org',
    message: 'Limit whom',
    choices: [
      { name: 'a user (--user)', value: 'user', short: 'user' },
      { name: 'a department (--dept)', value: 'department', short: 'department' },
      { name: 'the whole organisation (--org)', value: 'organisation', short: 'organisation' },
    ],
  });
  if (scope === 'user') {
    const users = await listUsers(db);
    if (users.length === 0)
      throw new CreditsError('USER_NOT_FOUND', 'there are no users to limit yet', { hint: 'add one with `credits user add EMAIL --dept NAME`' });
    const width = Math.max(...users.map((user) => user.email.length));
    texts.user = await context.need(undefined, {
      flag: '--user',
      message: 'Which user',
      choices: users.map((user) => ({ name: `${user.email.padEnd(width)}  ${user.department}`, value: user.email, short: user.email })),
    });
  } else if (scope === 'department') {
    const departments = (await listAccounts(db)).filter((account) => account.kind === 'department');
    if (departments.length === 0)
      throw new CreditsError('DEPARTMENT_NOT_FOUND', 'there are no departments to limit yet', { hint: 'add one with `credits dept add NAME`' });
    texts.dept = await context.need(undefined, {
      flag: '--dept',
      message: 'Which department',
      choices: departments.map((account) => ({
        name: account.costCenter ? `${account.name} (${account.costCenter})` : account.name,
        value: account.name,
        short: account.name,
      })),
    });
  }
  // 'organisation' needs no target: with neither a user nor a department the limit is the organisation's.
}

/** Asks which usage the limit counts: all of it, one tier, or one model of the current rate card. */
async function askLimitUsage(context: Context, db: Database, texts: LimitTexts): Promise<void> {
  const narrowing = await context.choose(
    'Which usage counts',
    [
      { name: 'all usage', value: 'all', short: 'all usage' },
      { name: 'one tier (premium, standard, economy)', value: 'tier', short: 'one tier' },
      { name: 'one model', value: 'model', short: 'one model' },
    ],
    'all',
  );
  if (narrowing === 'tier') {
    texts.tier = await context.choose(
      'Which tier',
      TIERS.map((tier) => ({ name: tier, value: tier })),
      'premium',
    );
  } else if (narrowing === 'model') {
    const book = new RateBook(await loadRates(db));
    const rates = book.models().flatMap((id) => {
      try {
        return [book.at(id, context.nowMs)];
      } catch {
        return [];
      }
    });
    const width = Math.max(...rates.map((rate) => rate.model.length));
    texts.model = await context.choose(
      'Which model',
      rates.map((rate) => ({ name: `${rate.model.padEnd(width)}  ${rate.displayName}, ${rate.tier}`, value: rate.model, short: rate.model })),
      rates[0]?.model ?? '',
    );
  }
}

/** Asks per day or per month, then the credits for that period. */
async function askLimitPeriod(context: Context, timeZone: string, texts: LimitTexts): Promise<void> {
  const period = await context.need(undefined, {
    flag: '--daily or --monthly',
    message: 'Per',
    choices: [
      { name: `calendar day (--daily, ${timeZone})`, value: 'daily', short: 'day' },
      { name: `calendar month (--monthly, ${timeZone})`, value: 'monthly', short: 'month' },
    ],
  });
  const flag = `--${period}`;
  const amount = await context.need(undefined, {
    flag,
    message: `Credits per ${period === 'daily' ? 'day' : 'month'}`,
    validate: (text) => parseCreditsInput(text, ''),
  });
  if (period === 'daily') texts.daily = amount;
  else texts.monthly = amount;
}

/**
 * The percentage `check --min-percent` compares: the account's (org's is the organisation's), or
 * for a user the tightest of their department's and every limit on them, model and tier limits
 * included, since any of them can refuse their next event. Says which it was.
 */
async function tightestPercent(
  db: Database,
  nowMs: number,
  timeZone: string,
  account: { id: number; name: string },
  hardOnUser: readonly LimitStatus[],
): Promise<{ base: PercentBase; percentLimitedBy: string }> {
  const measured = await withPercentLeft(db, await currentBalances(db), nowMs, timeZone);
  let tightest = {
    base: measured.accounts.find((row) => row.id === account.id)?.base ?? limitAsBase(0, 0),
    percentLimitedBy: `${account.name} balance`,
  };
  for (const status of hardOnUser) {
    const base = limitAsBase(status.leftMillicredits, status.amountMillicredits);
    if (hasLessLeft(base, tightest.base)) {
      const names = { user: status.user ?? undefined, department: status.department ?? undefined };
      tightest = { base, percentLimitedBy: `${describeRule(status, names)} (limit ${status.id})` };
    }
  }
  return tightest;
}

/** Whether a rule counts a user's usage (of some model): theirs, their department's, the organisation's. */
function coversUser(rule: LimitRule, user: { id: number; departmentId: number }): boolean {
  return rule.scope === 'user' ? rule.userId === user.id : rule.scope === 'department' ? rule.departmentId === user.departmentId : true;
}

/**
 * The limits `check` looks at, read once: for --user every limit on them (model and tier limits
 * included); otherwise only soft ones, the department's and the organisation's for --dept, the
 * organisation's for --org (a hard limit bounds a user's spending, not an account's).
 */
function checkedRule(user: { id: number; departmentId: number } | null, departmentId: number | null): (rule: LimitRule) => boolean {
  if (user !== null) return (rule) => coversUser(rule, user);
  return (rule) => rule.kind === 'soft' && (rule.scope === 'organisation' || (rule.scope === 'department' && rule.departmentId === departmentId));
}

/** The soft limits among these that are passed this day or month. */
function passedSoftLimits(statuses: readonly LimitStatus[]): LimitWarning[] {
  const warnings: LimitWarning[] = [];
  for (const status of statuses) {
    if (status.kind !== 'soft') continue;
    const names = { user: status.user ?? undefined, department: status.department ?? undefined };
    const warning = softLimitWarning(status, names, status.periodKey, status.usedMillicredits + status.heldMillicredits);
    if (warning !== null) warnings.push(warning);
  }
  return warnings;
}

/** --min-days: whole days from 1 to the runway's horizon (beyond a year the forecast says nothing). */
function parseMinDays(text: string | undefined): number | null {
  if (text === undefined) return null;
  const trimmed = text.trim();
  if (!/^\d{1,3}$/.test(trimmed) || Number(trimmed) < 1 || Number(trimmed) > RUNWAY_HORIZON_DAYS) {
    throw new CreditsError('INVALID_VALUE', `--min-days "${text}" is not a whole number of days from 1 to ${RUNWAY_HORIZON_DAYS}`, {
      hint: '--min-days takes whole days, like 7',
    });
  }
  return Number(trimmed);
}

/**
 * Whom `check` looks at: the account whose balance counts, the user whose limits count, and the
 * forecast's scope for the runway (a user spends their department's credits; --org, the default,
 * is the organisation's total, as in `forecast`).
 */
async function checkSubject(db: Database, userText: string | undefined, deptText: string | undefined) {
  if (userText !== undefined) {
    const user = await requireUser(db, parseEmail(userText, '--user'), '--user');
    const runwayScope: Scope = { kind: 'department', id: user.departmentId, name: user.department };
    return { scope: 'user' as const, name: user.email, accountName: user.department, user, runwayScope };
  }
  if (deptText !== undefined) {
    const department = await requireDepartment(db, deptText, '--dept');
    const runwayScope: Scope = { kind: 'department', id: department.id, name: department.name };
    return { scope: 'department' as const, name: department.name, accountName: department.name, user: null, runwayScope };
  }
  return { scope: 'org' as const, name: 'org', accountName: 'org', user: null, runwayScope: { kind: 'org' } as Scope };
}

/** What a user may still spend: the balance left, or less when one of their hard limits on all models leaves less. */
function tightestHardLimit(
  hardOnUser: readonly LimitStatus[],
  balanceLeft: { millicredits: number; limitedBy: string },
): { millicredits: number; limitedBy: string } {
  let tightest = balanceLeft;
  for (const status of hardOnUser) {
    if (status.model !== null || status.tier !== null) continue;
    if (status.leftMillicredits < tightest.millicredits) {
      tightest = { millicredits: status.leftMillicredits, limitedBy: `${status.period === 'day' ? 'daily' : 'monthly'} ${status.scope} limit ${status.id}` };
    }
  }
  return tightest;
}

/** The runway fields `check --json` shows. */
function runwaySummary(runway: Runway) {
  return { runsOutOn: runway.runsOutOn, days: runway.days, outlook: runway.outlook, horizonDays: runway.horizonDays };
}

/** `check --min-percent`: 0 to 100 with at most one decimal, or null when not given. */
function parseMinPercent(text: string | undefined): number | null {
  if (text === undefined) return null;
  if (!/^\d{1,3}(\.\d)?$/.test(text.trim()) || Number(text) > 100) {
    throw new CreditsError('INVALID_VALUE', `--min-percent "${text}" is not a percentage`, { hint: '--min-percent takes 0 to 100, like 10 or 12.5' });
  }
  return Number(text);
}

export const ruleCommands: CommandSpec[] = [
  defineCommand({
    name: 'rates',
    summary: 'the rate card: tier and credits per 1k input tokens, 1k output tokens and tool call',
    ledger: 'existing',
    options: [{ flags: '--at <time>', description: 'the card in force at this date or instant', defaultValue: 'now' }],
    examples: ['credits rates', 'credits rates --at 2026-01-01 --json'],
    request: (input): RatesRequest => ({ at: stringOption(input, 'at') }),
    async run(input, context) {
      const settings = await context.settings();
      const atText = input.at;
      const atMs = atText === undefined ? context.nowMs : parseInstantInput(atText, '--at', settings.timeZone);
      const book = new RateBook(await loadRates(await context.db()));
      const tierOrder = (tier: Tier): number => TIERS.indexOf(tier);
      const current = book
        .models()
        .flatMap((model) => {
          try {
            return [book.at(model, atMs)];
          } catch {
            return [];
          }
        })
        .sort((a, b) => tierOrder(a.tier) - tierOrder(b.tier) || b.inputPer1kMillicredits - a.inputPer1kMillicredits);
      return { view: 'rates', data: { atMs, rates: current, upcoming: book.upcoming(atMs) } };
    },
  }),
  defineCommand({
    name: 'rates set',
    summary: "set a model's rate from a time on (past usage keeps the price it was posted with)",
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'model', description: 'model id, like gpt-4o', required: true, dynamic: 'models' }],
    options: [
      { flags: '--tier <tier>', description: 'premium, standard or economy (required for a new model)', choices: TIERS },
      { flags: '--input <credits>', description: 'credits per 1k input tokens' },
      { flags: '--output <credits>', description: 'credits per 1k output tokens' },
      { flags: '--tool-call <credits>', description: 'credits per tool call' },
      { flags: '--name <text>', description: 'display name, like "GPT-4o"' },
      { flags: '--effective <time>', description: 'from when (date or ISO 8601 instant)', defaultValue: 'now' },
    ],
    examples: [
      'credits rates set gpt-4o --input 3.5 --output 3.5 --effective 2027-01-01',
      'credits rates set mixtral-8x7b --tier economy --input 0.2 --output 0.3 --name "Mixtral 8x7B"',
    ],
    request: (input): RatesSetRequest => {
      const model = parseModelId(input.args[0] ?? '');
      const tierText = stringOption(input, 'tier');
      return {
        ...mutatingRequest(input),
        model,
        displayName: stringOption(input, 'name'),
        tier: tierText === undefined ? undefined : parseTier(tierText),
        inputPer1kMillicredits: parseRateInput(stringOption(input, 'input'), '--input'),
        outputPer1kMillicredits: parseRateInput(stringOption(input, 'output'), '--output'),
        toolCallMillicredits: parseRateInput(stringOption(input, 'toolCall'), '--tool-call'),
        effective: stringOption(input, 'effective'),
      };
    },
    async run(input, context) {
      const settings = await context.settings();
      const effective = input.effective;
      const change = {
        model: input.model,
        displayName: input.displayName,
        tier: input.tier,
        inputPer1kMillicredits: input.inputPer1kMillicredits,
        outputPer1kMillicredits: input.outputPer1kMillicredits,
        toolCallMillicredits: input.toolCallMillicredits,
        effectiveFromMs: effective === undefined ? context.nowMs : parseInstantInput(effective, '--effective', settings.timeZone),
      };
      if (
        change.tier === undefined &&
        change.inputPer1kMillicredits === undefined &&
        change.outputPer1kMillicredits === undefined &&
        change.toolCallMillicredits === undefined &&
        change.displayName === undefined
      ) {
        throw new CreditsError('MISSING_FLAG', 'rates set needs at least one of --tier, --input, --output, --tool-call, --name');
      }
      const result = await setRate(await context.db(), context.mutation(input, { ...change }), change);
      return { view: 'rateSet', data: result };
    },
  }),
  defineCommand({
    name: 'limits set',
    summary: 'limit spending per day or month for a user, a department or the organisation, optionally per model or tier',
    ledger: 'existing',
    mutating: true,
    options: [
      { flags: '--user <email>', description: 'limit this user', dynamic: 'users' },
      { flags: '--dept <name>', description: 'limit this department', dynamic: 'departments' },
      { flags: '--org', description: 'limit the whole organisation' },
      { flags: '--model <id>', description: 'only usage of this model', dynamic: 'models' },
      { flags: '--tier <tier>', description: 'only usage of this tier', choices: TIERS },
      { flags: '--daily <credits>', description: 'credits per calendar day (organisation time zone)' },
      { flags: '--monthly <credits>', description: 'credits per calendar month' },
      { flags: '--soft', description: 'a soft limit: passing it warns (answer and notification), never refuses; kept beside a hard one' },
    ],
    examples: [
      'credits limits set --user ada@example.com --daily 50',
      'credits limits set --user ada@example.com --daily 40 --soft',
      'credits limits set --dept Marketing --tier premium --monthly 2000',
      'credits limits set --org --monthly 100000',
    ],
    request: (input): LimitsSetRequest => ({
      ...mutatingRequest(input),
      user: stringOption(input, 'user'),
      dept: stringOption(input, 'dept'),
      org: flagOption(input, 'org'),
      model: stringOption(input, 'model'),
      tier: stringOption(input, 'tier'),
      daily: stringOption(input, 'daily'),
      monthly: stringOption(input, 'monthly'),
      soft: flagOption(input, 'soft'),
    }),
    async run(input, context) {
      const settings = await context.settings();
      const db = await context.db();
      const texts = readLimitFlags(input, context);
      // Something required is missing and someone can answer: ask for it, and for the optional
      // model or tier too, since a person walking through the questions may not know that flag.
      if (context.canAsk && (texts.scopes === 0 || !texts.periodGiven)) {
        if (texts.scopes === 0) await askLimitTarget(context, db, texts);
        if (texts.model === undefined && texts.tier === undefined) await askLimitUsage(context, db, texts);
        if (!texts.periodGiven) await askLimitPeriod(context, settings.timeZone, texts);
      }
      const period = parsePeriodFlags(texts.daily, texts.monthly);
      const amountMillicredits = parseCreditsInput(period.text, period.flag);
      let model: string | null = null;
      if (texts.model !== undefined) {
        model = parseModelId(texts.model);
        new RateBook(await loadRates(db)).at(model, Number.MAX_SAFE_INTEGER);
      }
      const scope: LimitScope = texts.user !== undefined ? 'user' : texts.dept !== undefined ? 'department' : 'organisation';
      const user = texts.user === undefined ? null : await requireUser(db, parseEmail(texts.user, '--user'), '--user');
      const department = texts.dept === undefined ? null : await requireDepartment(db, texts.dept, '--dept');
      const target = {
        scope,
        userId: user?.id ?? null,
        departmentId: department?.id ?? null,
        model,
        tier: texts.tier === undefined ? null : parseTier(texts.tier),
        period: period.period,
        amountMillicredits,
        kind: input.soft ? ('soft' as const) : ('hard' as const),
      };
      const result = await setLimit(db, context.mutation(input, { ...target, user: user?.email ?? null, dept: department?.name ?? null }), target);
      return { view: 'limitSet', data: { ...result, user: user?.email ?? null, department: department?.name ?? null } };
    },
  }),
  defineCommand({
    name: 'limits',
    summary: 'list hard and soft limits with what is used and left in the current day or month',
    ledger: 'existing',
    examples: ['credits limits', 'credits limits --json'],
    request: () => ({}),
    async run(_request, context) {
      const settings = await context.settings();
      const db = await context.db();
      const filter = context.scope === null ? undefined : await limitInDepartment(db, context.scope.departmentId);
      const statuses = await limitStatuses(db, context.nowMs, settings.timeZone, filter);
      return { view: 'limits', data: { limits: statuses } };
    },
  }),
  defineCommand({
    name: 'limits remove',
    summary: 'remove a limit, hard or soft (the id names one)',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'id', description: 'limit id (see `credits limits`; hard and soft limits have ids of their own)', required: true }],
    examples: ['credits limits remove 3', 'credits limits remove 3 --dry-run'],
    request: (input): LimitsRemoveRequest => ({ ...mutatingRequest(input), limitId: parseId(input.args[0] ?? '', 'ID') }),
    async run(input, context) {
      await context.settings();
      const id = input.limitId;
      const result = await removeLimit(await context.db(), context.mutation(input, { id }), id);
      return { view: 'message', data: { ...result, message: `${result.kind} limit ${id} removed` } };
    },
  }),
  defineCommand({
    name: 'check',
    summary: 'for CI: exit 0 when enough credits are left, 3 (BUDGET_LOW) when not',
    ledger: 'existing',
    options: [
      { flags: '--dept <name>', description: 'check this department', dynamic: 'departments' },
      {
        flags: '--user <email>',
        description: 'check what this user can still spend (department balance and their limits; --min-percent takes the tightest)',
        dynamic: 'users',
      },
      { flags: '--org', description: 'check the organisation pool (the default)' },
      { flags: '--min-credits <n>', description: 'at least this many credits must be left' },
      { flags: '--min-percent <p>', description: "at least this percentage of this month's credits (opening balance plus what came in) must be left" },
      {
        flags: '--min-days <n>',
        description: "the forecast's runway (days until credits run out, with recharges and pending purchases) must be at least this",
      },
    ],
    examples: [
      'credits check --dept ml --min-credits 500',
      'credits check --user ada@example.com --min-credits 20 --json',
      'credits check --org --min-percent 10 || notify-finance',
      'credits check --dept ml --min-days 7   # fail the pipeline when less than a week is left',
    ],
    request: (input): CheckRequest => ({
      user: stringOption(input, 'user'),
      dept: stringOption(input, 'dept'),
      org: flagOption(input, 'org'),
      minCredits: stringOption(input, 'minCredits'),
      minPercent: stringOption(input, 'minPercent'),
      minDays: parseMinDays(stringOption(input, 'minDays')),
    }),
    async run(input, context) {
      const settings = await context.settings();
      const db = await context.db();
      refuseOrganisationFlag(context, input.org, '--org');
      const userText = input.user;
      const deptText = userText === undefined ? departmentOrScope(context, input.dept) : input.dept;
      if ([userText !== undefined, deptText !== undefined, input.org].filter(Boolean).length > 1) {
        throw new CreditsError('USAGE', 'check takes one of --dept, --user, --org');
      }
      const minText = input.minCredits;
      const minMillicredits = minText === undefined ? 1 : parseCreditsInput(minText, '--min-credits', { allowZero: true });
      const minPercent = parseMinPercent(input.minPercent);
      const { scope, name, accountName, user, runwayScope } = await checkSubject(db, userText, deptText);
      const account = (await findAccount(db, accountName)) ?? (await requireAccount(db, accountName, '--dept'));
      // What open holds keep for calls in progress is not left to spend.
      const heldMillicredits = (await heldByAccount(db, context.nowMs, context.nowMs)).get(account.id) ?? 0;
      const balanceLeft = { millicredits: account.balanceMillicredits - heldMillicredits, limitedBy: `${account.name} balance` };
      const statuses = await limitStatuses(db, context.nowMs, settings.timeZone, checkedRule(user, scope === 'department' ? account.id : null));
      // A soft limit never refuses, so it bounds nothing: `check` reports it as a warning instead.
      const hardOnUser = statuses.filter((status) => status.kind === 'hard');
      const { millicredits, limitedBy } = user ? tightestHardLimit(hardOnUser, balanceLeft) : balanceLeft;
      const { base, percentLimitedBy } = await tightestPercent(db, context.nowMs, settings.timeZone, account, hardOnUser);
      // A department-bound caller is not shown the organisation's spending (as `limits` hides its limits).
      const warnings = passedSoftLimits(statuses).filter((warning) => context.principal.scope === null || warning.scope !== 'organisation');
      const percentLeft = percentOfBase(base);
      const enoughCredits = millicredits >= minMillicredits;
      const enoughPercent = minPercent === null || hasPercentLeft(base, minPercent);
      const minDays = input.minDays;
      const runway = minDays === null ? null : runwaySummary(await runwayReport(db, runwayScope, context.nowMs, settings.timeZone));
      const enoughDays = minDays === null || runway === null || runway.days === null || runway.days >= minDays;
      const ok = enoughCredits && enoughPercent && enoughDays;
      const data = {
        ok,
        scope,
        name,
        millicredits,
        credits: millicredits / MILLICREDITS_PER_CREDIT,
        heldMillicredits,
        percentLeft,
        minMillicredits,
        minPercent,
        limitedBy,
        percentLimitedBy,
        minDays,
        runway,
        warnings,
      };
      if (ok) return { view: 'check', data };
      const reason = !enoughCredits
        ? `${millicredits / MILLICREDITS_PER_CREDIT} credits left, ${minMillicredits / MILLICREDITS_PER_CREDIT} required`
        : !enoughPercent
          ? `${percentLeft ?? 0}% left, ${minPercent}% required`
          : `credits run out on ${runway?.runsOutOn} at the forecast's pace, in ${runway?.days} day(s), ${minDays} required`;
      const why = !enoughCredits
        ? limitedBy
        : !enoughPercent
          ? percentLimitedBy
          : `runway of ${runwayScope.kind === 'org' ? 'the organisation' : runwayScope.name}`;
      return {
        view: 'check',
        data,
        failure: new CreditsError('BUDGET_LOW', `budget too low for ${name}: ${reason} (${why})`, {
          hint:
            enoughCredits && enoughPercent
              ? 'buy or transfer credits, set an automatic recharge (`credits recharge set`), or lower --min-days'
              : 'buy or transfer credits, or lower the threshold',
        }),
      };
    },
  }),
];
