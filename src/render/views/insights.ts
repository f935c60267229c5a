import type { Anomaly } from '../../core/anomalies.js';
import type { Runway } from '../../core/runway.js';
import type { DashboardData, ForecastReport } from '../../app/documentTypes.js';
import { formatCount, formatCredits } from '../format.js';
import { palette, percentColour, table, type RenderOptions } from '../style.js';

const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** The runway fields the forecast and `check --min-days` show. */
export type RunwaySummary = Pick<Runway, 'runsOutOn' | 'days' | 'outlook' | 'horizonDays'>;

/** When credits run out, in words: the day and how far off, or why there is no day. */
export function runwayText(runway: RunwaySummary): string {
  if (runway.outlook === 'no-usage') return 'not at this pace: no usage to project';
  if (runway.runsOutOn === null || runway.days === null) return `not within ${runway.horizonDays} days`;
  const when = runway.days === 0 ? 'today' : runway.days === 1 ? 'tomorrow' : `in ${formatCount(runway.days)} days`;
  return `${runway.runsOutOn} (${when})`;
}

/** `check --min-days`: the runway against what was required. */
export function runwaySentence(runway: RunwaySummary, minDays: number | null): string {
  const required = minDays === null ? '' : `; at least ${formatCount(minDays)} day${minDays === 1 ? '' : 's'} required`;
  return `Credits run out: ${runwayText(runway)}${required}.`;
}

/** One character per value, scaled to the largest: the last 30 days in a line. */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  return values.map((value) => (max === 0 || value <= 0 ? ' ' : BLOCKS[Math.min(7, Math.floor((value / max) * 7.999))])).join('');
}

/** A vertical bar chart, one column per day: actual usage solid, the projection shaded. */
export function dayChart(days: readonly { dayKey: string; actual: number | null; projected: number | null }[], options: RenderOptions, height = 8): string {
  const chalk = palette(options);
  const values = days.map((day) => (day.actual ?? 0) + (day.actual === null ? (day.projected ?? 0) : 0));
  const max = Math.max(1, ...values);
  const rows: string[] = [];
  for (let level = height; level >= 1; level -= 1) {
    const threshold = ((level - 1) / height) * max;
    let row = '';
    days.forEach((day, index) => {
      const value = values[index]!;
      if (value <= threshold) row += '  ';
      else if (day.actual !== null) row += `${chalk.cyan('█')} `;
      else row += `${chalk.dim('░')} `;
    });
    rows.push(`${level === height ? formatCredits(max, 0).padStart(9) : ' '.repeat(9)} │${row}`);
  }
  const axis = days.map((day, index) => (index % 5 === 0 ? day.dayKey.slice(8, 10) : '  ')).join('');
  rows.push(`${' '.repeat(9)} └${'─'.repeat(days.length * 2)}`, `${' '.repeat(11)}${axis}`);
  return rows.join('\n');
}

export const insightViews = {
  forecast(data: ForecastReport, options: RenderOptions): string {
    const chalk = palette(options);
    const runsOut = data.depletionDayKey === null ? chalk.green('not this month') : chalk.red(data.depletionDayKey);
    const recharges =
      data.runway.rechargeCount === 0
        ? ''
        : `, after ${formatCount(data.runway.rechargeCount)} automatic recharge${data.runway.rechargeCount === 1 ? '' : 's'} (${formatCredits(data.runway.rechargeMillicredits)} credits)`;
    const runway = `${data.runway.runsOutOn === null ? chalk.green(runwayText(data.runway)) : chalk.red(runwayText(data.runway))}${recharges}`;
    const accuracy =
      data.accuracy.meanAbsolutePercentError === null
        ? 'not enough history yet'
        : `${data.accuracy.meanAbsolutePercentError.toFixed(1)}% mean absolute error over ${data.accuracy.judgedMonthCount} month(s) (${data.accuracy.months.map((month) => `${month.monthKey}: ${month.absolutePercentError === null ? '–' : `${month.absolutePercentError.toFixed(1)}%`}`).join(', ')})`;
    const lines = [
      chalk.bold(`Forecast ${data.monthKey}, ${data.scope}`),
      `  Balance now                 ${formatCredits(data.balanceMillicredits)} credits`,
      `  Used this month so far      ${formatCredits(data.actualToDateMillicredits)} credits`,
      `  Projected until month end   ${formatCredits(data.projectedRemainingMillicredits)} credits (month total ${formatCredits(data.projectedMonthTotalMillicredits)})`,
      ...(data.pending.length > 0
        ? [
            `  Pending purchases expected  ${formatCredits(data.pending.reduce((sum, row) => sum + row.millicredits, 0))} credits (${data.pending.map((row) => `#${row.purchaseId} ${row.method} ~${row.dayKey}`).join(', ')})`,
          ]
        : []),
      `  Balance at month end        ${formatCredits(data.projectedBalanceAtMonthEndMillicredits)} credits`,
      `  Credits run out             ${runsOut}`,
      `  Runway                      ${runway}`,
      `  Method                      ${data.method}; accuracy at mid-month: ${accuracy}`,
      '',
      dayChart(
        data.days.map((day) => ({ dayKey: day.dayKey, actual: day.actualMillicredits, projected: day.projectedMillicredits })),
        options,
      ),
      chalk.dim(`  █ actual  ░ projected (credits per day)`),
    ];
    return lines.join('\n');
  },

  anomalies(data: { sinceKey: string; anomalies: Anomaly[] }, options: RenderOptions): string {
    if (data.anomalies.length === 0) return `No unusual spend since ${data.sinceKey}.`;
    const rows = data.anomalies.map((row) => [
      row.dayKey,
      row.subject.kind === 'user' ? row.subject.name : `${row.subject.name} (department)`,
      formatCredits(row.millicredits),
      formatCredits(row.baselineMillicredits),
      `${row.timesBaseline.toFixed(1)}x`,
      row.judgedAgainst === 'own' ? 'own history' : 'department',
    ]);
    return `${palette(options).bold(`Unusual spend since ${data.sinceKey}`)}\n${table(options, [{ header: 'Day' }, { header: 'Who' }, { header: 'Credits', align: 'right' }, { header: 'Usual', align: 'right' }, { header: 'Times', align: 'right' }, { header: 'Judged against' }], rows)}`;
  },

  dashboard(data: DashboardData, options: RenderOptions): string {
    const chalk = palette(options);
    const balances = table(
      options,
      [{ header: 'Account' }, { header: 'Credits', align: 'right' }, { header: 'Left', align: 'right' }],
      data.balances.map((row) => [
        row.account,
        formatCredits(row.millicredits),
        percentColour(chalk, row.percentLeft, row.percentLeft === null ? '–' : `${row.percentLeft.toFixed(1)}%`),
      ]),
    );
    const top = (rows: DashboardData['topUsers']): string =>
      rows.length === 0
        ? '  none yet'
        : rows
            .map((row) => `  ${row.key.padEnd(28)} ${formatCredits(row.millicredits).padStart(12)}  ${formatCount(row.events).padStart(6)} events`)
            .join('\n');
    const alerts =
      data.alerts.length === 0
        ? chalk.green('  none')
        : data.alerts.map((alert) => `  ${alert.level === 'critical' ? chalk.red('●') : chalk.yellow('●')} ${alert.message}`).join('\n');
    return [
      chalk.bold(`Credits dashboard, ${data.todayKey}`),
      balances,
      `Total ${chalk.bold(formatCredits(data.totalMillicredits))} credits · burn rate ${formatCredits(data.burnRateMillicreditsPerDay)}/day (last 7 days) · runs out ${data.depletionDayKey ?? 'not this month'} · month end ${formatCredits(data.projectedBalanceAtMonthEndMillicredits)}`,
      `Last 30 days  ${chalk.cyan(sparkline(data.last30Days.map((day) => day.millicredits)))}`,
      chalk.bold(`Top users ${data.monthKey}`),
      top(data.topUsers),
      chalk.bold(`Top models ${data.monthKey}`),
      top(data.topModels),
      chalk.bold('Alerts'),
      alerts,
    ].join('\n');
  },

  watchEnded(data: { refreshes: number }): string {
    return `Stopped watching after ${formatCount(data.refreshes)} refresh${data.refreshes === 1 ? '' : 'es'}.`;
  },
};
