import { CreditsError } from '../../core/errors.js';
import { addLocalDays, localDateKey, parseInstantInput } from '../../core/time.js';
import { anomalyReport, dashboardData, forecastReport, type Scope } from '../../store/insights.js';
import { requireDepartment } from '../../store/orgRepo.js';
import { flagOption, stringOption } from '../parse.js';
import type { LegacyCommandSpec } from '../spec.js';
import { departmentOrScope, refuseOrganisationFlag } from '../scopeDefaults.js';

export const insightCommands: LegacyCommandSpec[] = [
  {
    name: 'forecast',
    summary: 'projected usage and balance to the end of the month, the day credits run out, and how accurate past forecasts were',
    ledger: 'existing',
    options: [
      { flags: '--dept <name>', description: 'one department (default: the whole organisation)', dynamic: 'departments' },
      { flags: '--org', description: 'the whole organisation: the org pool and every department' },
    ],
    examples: ['credits forecast', 'credits forecast --dept Engineering', 'credits forecast --json'],
    async run(input, context) {
      const settings = await context.settings();
      const db = await context.db();
      refuseOrganisationFlag(context, input, 'org', '--org');
      const deptName = departmentOrScope(context, stringOption(input, 'dept'));
      if (deptName !== undefined && flagOption(input, 'org'))
        throw new CreditsError('USAGE', '--dept and --org cannot be combined', { hint: 'choose one scope' });
      const department = deptName === undefined ? undefined : await requireDepartment(db, deptName, '--dept');
      const scope: Scope = department === undefined ? { kind: 'org' } : { kind: 'department', id: department.id, name: department.name };
      return { view: 'forecast', data: await forecastReport(db, scope, context.nowMs, settings.timeZone) };
    },
  },
  {
    name: 'anomalies',
    summary: 'users and departments whose daily spend stands far above their own recent baseline',
    ledger: 'existing',
    options: [{ flags: '--since <date>', description: 'first day to judge (default: 7 days ago)' }],
    examples: ['credits anomalies', 'credits anomalies --since 2026-11-01 --json'],
    async run(input, context) {
      const settings = await context.settings();
      const db = await context.db();
      const since = stringOption(input, 'since');
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
  },
  {
    name: 'dashboard',
    summary: 'one screen: balances, burn rate, depletion date, top users and models, the last 30 days, open alerts',
    ledger: 'existing',
    examples: ['credits dashboard', 'credits dashboard --json'],
    async run(_input, context) {
      const settings = await context.settings();
      return { view: 'dashboard', data: await dashboardData(await context.db(), context.nowMs, settings.timeZone) };
    },
  },
  {
    name: 'watch',
    summary: 'the dashboard, refreshed in place until Ctrl-C',
    ledger: 'existing',
    options: [{ flags: '--interval <seconds>', description: 'seconds between refreshes', defaultValue: '5' }],
    examples: ['credits watch', 'credits watch --interval 2'],
    async run(input, context) {
      const intervalText = stringOption(input, 'interval') ?? '5';
      if (!/^\d{1,4}(\.\d{1,3})?$/.test(intervalText) || Number(intervalText) < 0.2) {
        throw new CreditsError('INVALID_VALUE', `--interval "${intervalText}" is not a number of seconds`, {
          hint: '--interval takes seconds from 0.2 up, like 5',
        });
      }
      const settings = await context.settings();
      const db = await context.db();
      const refreshes = await context.live(
        async () => ({ view: 'dashboard', data: await dashboardData(db, context.config.nowMs ?? Date.now(), settings.timeZone) }),
        Number(intervalText) * 1000,
      );
      return { view: 'watchEnded', data: { refreshes } };
    },
  },
];
