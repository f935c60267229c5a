import { resolveDayRange } from '../../core/reportPeriod.js';
import { footTable, valueCents } from '../../core/footing.js';
import { dayBounds } from '../../core/time.js';
import { REPORT_GROUPS, reversedUsage, usageReport, usageReportByTag, type ReportGroup, type ReportRow, type TagReportRow } from '../../store/reportQueries.js';
import { parseTagKey } from '../../core/tags.js';
import { requireDepartment } from '../../store/orgRepo.js';
import { chooseFormat, stringOption } from '../parse.js';
import { MEDIA_TYPES, defineCommand, type CommandOutput, type CommandSpec } from '../spec.js';
import { departmentOrScope } from '../scopeDefaults.js';
import { CreditsError } from '../../core/errors.js';

const PERIOD_OPTIONS = [
  { flags: '--month <YYYY-MM>', description: 'a calendar month in the organisation time zone (default: this month)' },
  { flags: '--since <date>', description: 'first day (YYYY-MM-DD), instead of --month' },
  { flags: '--until <date>', description: 'last day, included (default: today)' },
];

/** Hands the file to the transport when --output is given, else the data to the terminal renderer. */
export async function deliver(
  data: object,
  view: string,
  target: { format: 'table' | 'json' | 'csv'; output: string | undefined; csv: () => Promise<string>; rows?: number },
): Promise<CommandOutput> {
  if (target.format === 'table' && target.output === undefined) return { view, data };
  if (target.format === 'table')
    throw new CreditsError('INVALID_VALUE', '--output needs --format json or csv (or a .json or .csv file name)', { hint: 'for example --output october.csv' });
  const content = target.format === 'csv' ? await target.csv() : `${JSON.stringify(data, null, 2)}\n`;
  if (target.output === undefined) return { view: 'raw', data: { ...data, raw: content } };
  const bytes = Buffer.from(content, 'utf8');
  return {
    view: 'fileWritten',
    data: { path: target.output, format: target.format, ...(target.rows === undefined ? {} : { rows: target.rows }), bytes: bytes.length },
    file: { name: target.output, mediaType: MEDIA_TYPES[target.format], bytes },
  };
}

/** A grouping of the day totals, or `tag:KEY`: the value of one tag of the events. */
export type ReportBy = ReportGroup | `tag:${string}`;

/** `--by` checked: one of REPORT_GROUPS, or `tag:` and a tag key (folded to lower case). */
export function parseReportBy(text: string | undefined): ReportBy {
  const given = (text ?? 'dept').trim();
  if ((REPORT_GROUPS as readonly string[]).includes(given)) return given as ReportGroup;
  if (/^tag:/i.test(given)) return `tag:${parseTagKey(given.slice(4), '--by tag:KEY')}`;
  // The code commander gives a value outside an option's choices, as before `tag:KEY` opened them.
  throw new CreditsError('USAGE', `--by "${given}" is not one of ${REPORT_GROUPS.join(', ')}, tag:KEY`, {
    hint: 'for example --by model, or --by tag:project to group by the value of the tag project',
  });
}

/** What `report` was given: the period, --dept and --format are read once the ledger is open. */
export type ReportRequest = {
  by: ReportBy;
  month: string | undefined;
  since: string | undefined;
  until: string | undefined;
  department: string | undefined;
  format: string | undefined;
  output: string | undefined;
};

export const reportCommands: CommandSpec[] = [
  defineCommand({
    name: 'report',
    summary: 'credits and events per user, department, model, feature or day, biggest first',
    ledger: 'existing',
    options: [
      {
        flags: '--by <group>',
        description: "what to group by; tag:KEY groups by the value of the usage events' tag KEY",
        choices: REPORT_GROUPS,
        openChoices: true,
        defaultValue: 'dept',
      },
      ...PERIOD_OPTIONS,
      { flags: '--dept <name>', description: 'only this department', dynamic: 'departments' },
      { flags: '--format <format>', description: 'table, json or csv (default: from --output, else table)', choices: ['table', 'json', 'csv'] },
      { flags: '--output <file>', description: 'write to this file (atomically) instead of the terminal' },
    ],
    examples: [
      'credits report --by user --month 2026-10',
      'credits report --by model --since 2026-11-01 --until 2026-11-15 --dept Engineering',
      'credits report --by dept --format csv --output october.csv --month 2026-10',
      'credits report --by tag:project --month 2026-10',
    ],
    request: (input): ReportRequest => ({
      by: parseReportBy(stringOption(input, 'by')),
      month: stringOption(input, 'month'),
      since: stringOption(input, 'since'),
      until: stringOption(input, 'until'),
      department: stringOption(input, 'dept'),
      format: stringOption(input, 'format'),
      output: stringOption(input, 'output'),
    }),
    async run(input, context) {
      const settings = await context.settings();
      const db = await context.db();
      const by = input.by;
      const format = chooseFormat(input.format, input.output, ['table', 'json', 'csv'], 'table') as 'table' | 'json' | 'csv';
      const range = resolveDayRange({ month: input.month, since: input.since, until: input.until }, context.nowMs, settings.timeZone);
      const deptName = departmentOrScope(context, input.department);
      const department = deptName === undefined ? undefined : await requireDepartment(db, deptName, '--dept');
      const startMs = dayBounds(range.firstDay, settings.timeZone).startMs;
      const endMs = dayBounds(range.lastDay, settings.timeZone).endMs;
      const period = { firstDay: range.firstDay, lastDay: range.lastDay, departmentId: department?.id };
      const rows: (ReportRow | TagReportRow)[] = by.startsWith('tag:')
        ? await usageReportByTag(db, { ...period, tagKey: by.slice(4), startMs, endMs })
        : await usageReport(db, { ...period, by: by as ReportGroup });
      const footed = footTable(rows);
      // Reversals booked in the period give usage back, whenever it was used: a line of their own, then the net.
      const reversed = await reversedUsage(db, { startMs, endMs, departmentId: department?.id });
      const netMillicredits = footed.totals.millicredits - reversed.millicredits;
      const netCents = valueCents(netMillicredits);
      const data = {
        by,
        period: { firstDay: range.firstDay, lastDay: range.lastDay, label: range.label },
        department: department?.name ?? null,
        ...footed,
        // Only when there are some. The reversals' euros are what takes the total's to the net's,
        // both rounded once, so that the three foot.
        ...(reversed.events === 0
          ? {}
          : {
              reversals: { ...reversed, credits: reversed.millicredits / 1000, valueCents: footed.totals.valueCents - netCents },
              net: { millicredits: netMillicredits, credits: netMillicredits / 1000, valueCents: netCents },
            }),
      };
      const csv = () => context.presenter.reportCsv(data);
      return deliver(data, 'report', { format, output: input.output, csv, rows: rows.length });
    },
  }),
];
