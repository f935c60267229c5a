import { CreditsError } from '../../core/errors.js';
import { addLocalDays, localDateKey, parseInstantInput } from '../../core/time.js';
import { anomalyReport, dashboardData, forecastReport, type Scope } from '../../store/insights.js';
import { requireDepartment } from '../../store/orgRepo.js';
import { flagOption, stringOption } from '../parse.js';
import { defineCommand, type CommandSpec } from '../spec.js';
import { departmentOrScope, refuseOrganisationFlag } from '../scopeDefaults.js';

/** What `forecast` was given: --org is checked against the caller's scope once the ledger is open. */
export type ForecastRequest = { department: string | undefined; organisation: boolean };

/** --since as typed: it is read in the organisation's time zone. */
export type AnomaliesRequest = { since: string | undefined };

export type WatchRequest = { intervalMs: number };

/** --interval in milliseconds: seconds from 0.2 up, up to 3 decimals. */
function intervalMs(text: string): number {
  if (!/^\d{1,4}(\.\d{1,3})?$/.test(text) || Number(text) < 0.2) {
    throw new CreditsError('INVALID_VALUE', `--interval "${text}" is not a number of seconds`, {
      hint: '--interval takes seconds from 0.2 up, like 5',
    });
  }
  return Number(text) * 1000;
}

export const insightCommands: CommandSpec[] = [
  defineCommand({
    name: 'forecast',
    summary:
      'projected usage and balance to the end of the month, the day credits run out (up to a year ahead, with recharges and pending purchases), and how accurate past forecasts were',
    ledger: 'existing',
    options: [
      { flags: '--dept <name>', description: 'one department (default: the whole organisation)', dynamic: 'departments' },
      { flags: '--org', description: 'the whole organisation: the org pool and every department' },
    ],
    examples: ['credits forecast', 'credits forecast --dept Engineering', 'credits forecast --json'],
    request: (input): ForecastRequest => ({ department: stringOption(input, 'dept'), organisation: flagOption(input, 'org') }),
    async run(input, context) {
      const settings = await context.settings();
      const db = await context.db();
      refuseOrganisationFlag(context, input.organisation, '--org');
      const deptName = departmentOrScope(context, input.department);
      if (deptName !== undefined && input.organisation) throw new CreditsError('USAGE', '--dept and --org cannot be combined', { hint: 'choose one scope' });
      const department = deptName === undefined ? undefined : await requireDepartment(db, deptName, '--dept');
      const scope: Scope = department === undefined ? { kind: 'org' } : { kind: 'department', id: department.id, name: department.name };
      return { view: 'forecast', data: await forecastReport(db, scope, context.nowMs, settings.timeZone) };
    },
  }),
  defineCommand({
    name: 'anomalies',
    summary: 'users and departments whose daily spend stands far above their own recent baseline',
    ledger: 'existing',
    options: [{ flags: '--since <date>', description: 'first day to judge (default: 7 days ago)' }],
    examples: ['credits anomalies', 'credits anomalies --since 2026-11-01 --json'],
    request: (input): AnomaliesRequest => ({ since: stringOption(input, 'since') }),
    async run(input, context) {
      const settings = await context.settings();
      const db = await context.db();
      const since = input.since;
      const sinceKey =
        since === undefined
          ? addLocalDays(localDateKey(context.nowMs, settings.timeZone), -7)
          : localDateKey(parseInstantInput(since, '--since', settings.timeZone), settings.timeZone);
      const all = await anomalyReport(db, sinceKey, context.nowMs, settings.timeZone);
      // Names come from the same accounts table as the scope's: a bound principal keeps its own.
      const own = context.scope?.department;
      const anomalies =
        own === undefined ? all : all.filter((item) => (item.subject.kind === 'department' ? item.subject.name : item.subject.department) === own);
      return { view: 'anomalies', data: { sinceKey, anomalies } };
    },
  }),
  defineCommand({
    name: 'dashboard',
    summary: 'one screen: balances, burn rate, depletion date, top users and models, the last 30 days, open alerts',
    ledger: 'existing',
    examples: ['credits dashboard', 'credits dashboard --json'],
    request: () => ({}),
    async run(_request, context) {
      const settings = await context.settings();
      return { view: 'dashboard', data: await dashboardData(await context.db(), context.nowMs, settings.timeZone) };
    },
  }),
  defineCommand({
    name: 'watch',
    summary: 'the dashboard, refreshed in place until Ctrl-C',
    ledger: 'existing',
    options: [{ flags: '--interval <seconds>', description: 'seconds between refreshes', defaultValue: '5' }],
    examples: ['credits watch', 'credits watch --interval 2'],
    request: (input): WatchRequest => ({ intervalMs: intervalMs(stringOption(input, 'interval') ?? '5') }),
    async run(input, context) {
      const settings = await context.settings();
      const db = await context.db();
      const refreshes = await context.live(
        async () => ({ view: 'dashboard', data: await dashboardData(db, context.config.nowMs ?? Date.now(), settings.timeZone) }),
        input.intervalMs,
      );
      return { view: 'watchEnded', data: { refreshes } };
    },
  }),
];
