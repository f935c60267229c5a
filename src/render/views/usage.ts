import type { LimitWarning } from '../../core/limits.js';
import { formatLocalDateTime } from '../../core/time.js';
import { tagsText } from '../../core/tags.js';
import { formatCount, formatCredits, formatPercent } from '../format.js';
import { palette, percentColour, table, type RenderOptions } from '../style.js';
import { runwaySentence, type RunwaySummary } from './insights.js';

const FEATURE_TITLES: Record<string, string> = {
  chat: 'Chat',
  summarize: 'Summarization',
  translate: 'Translation',
  analyze: 'Analysis',
  image: 'Image generation',
  workflow: 'Workflow',
};

type PriceLine = { kind: string; label: string; quantity: number; millicredits: number };
type Recorded = {
  status: string;
  modelName: string;
  feature: string;
  occurredAtMs: number;
  priced: { lines: PriceLine[]; totalMillicredits: number };
  department: string;
  departmentBalanceMillicredits: number;
  drawnFromOrgMillicredits: number;
  dryRun: boolean;
  replayed: boolean;
  /** The event's tags; absent in results stored before tags existed (an idempotent replay). */
  tags?: Record<string, string>;
  /** A capture (`usage record --hold`): the hold and what of it was released. */
  hold?: { holdId: number; maxMillicredits: number; capturedMillicredits: number | null; releasedMillicredits: number };
  /** Absent from results stored before soft limits (an idempotent replay). */
  warnings?: LimitWarning[];
};

type HoldData = {
  holdId: number;
  status: string;
  user: string;
  department: string;
  model: string;
  maxMillicredits: number;
  fromOrgMillicredits: number;
  expiresAtMs: number;
  departmentAvailableMillicredits: number;
  dryRun: boolean;
  replayed: boolean;
  warnings?: LimitWarning[];
};

/** One line per soft limit passed: the write went through, and this is what it passed. */
export function warningLines(warnings: readonly LimitWarning[] | undefined, options: RenderOptions): string[] {
  const chalk = palette(options);
  return (warnings ?? []).map((warning) => chalk.yellow(`warning: ${warning.message} (limit ${warning.limitId}; a soft limit warns, it never refuses)`));
}

function quantity(line: PriceLine): string {
  if (line.kind === 'tool') return `${formatCount(line.quantity)} ${line.quantity === 1 ? 'call' : 'calls'}`;
  if (line.kind === 'image') return `${formatCount(line.quantity)} ${line.quantity === 1 ? 'image' : 'images'}`;
  if (line.kind === 'surcharge') return `+${line.quantity}%`;
  return formatCount(line.quantity);
}

/**
 * The seed's breakdown of one event: header with feature, model and local time, one line per
 * priced part, the total. `usage record` prints it when it posts, `usage show` from the stored event.
 */
export function breakdownLines(
  data: { feature: string; modelName: string; occurredAtMs: number; priced: { lines: PriceLine[]; totalMillicredits: number } },
  options: RenderOptions,
): string[] {
  const chalk = palette(options);
  const lines = [`${FEATURE_TITLES[data.feature] ?? data.feature} with ${data.modelName} (${formatLocalDateTime(data.occurredAtMs, options.timeZone)})`];
  for (const line of data.priced.lines) lines.push(`- ${line.label}: ${quantity(line)} (${formatCredits(line.millicredits)} credits)`);
  lines.push(`- Total: ${chalk.bold(`${formatCredits(data.priced.totalMillicredits)} credits`)}`);
  return lines;
}

type RateRow = {
  model: string;
  displayName: string;
  tier: string;
  inputPer1kMillicredits: number;
  outputPer1kMillicredits: number;
  toolCallMillicredits: number;
  effectiveFromMs: number;
};
type LimitRow = {
  id: number;
  scope: string;
  user: string | null;
  department: string | null;
  model: string | null;
  tier: string | null;
  period: string;
  amountMillicredits: number;
  usedMillicredits: number;
  leftMillicredits: number;
  periodKey: string;
  kind: string;
};

export const usageViews = {
  /** The seed's own breakdown: header with model and local time, one line per part, total. */
  usageRecorded(data: Recorded, options: RenderOptions): string {
    const chalk = palette(options);
    const lines = breakdownLines(data, options);
    const note = data.dryRun
      ? 'dry run, nothing written'
      : data.replayed || data.status === 'duplicate'
        ? 'already posted, not charged again'
        : `${data.department} has ${formatCredits(data.departmentBalanceMillicredits)} credits left`;
    lines.push(chalk.dim(`(${note}${data.drawnFromOrgMillicredits > 0 ? `; ${formatCredits(data.drawnFromOrgMillicredits)} drawn from org` : ''})`));
    if (data.tags !== undefined && Object.keys(data.tags).length > 0) lines.push(chalk.dim(`(tags ${tagsText(data.tags)})`));
    if (data.hold) {
      const { holdId, maxMillicredits, releasedMillicredits } = data.hold;
      lines.push(chalk.dim(`(hold ${holdId} captured: ${formatCredits(maxMillicredits)} credits held, ${formatCredits(releasedMillicredits)} released)`));
    }
    return [...lines, ...warningLines(data.warnings, options)].join('\n');
  },

  holdPlaced(data: HoldData & { duplicate: boolean }, options: RenderOptions): string {
    const chalk = palette(options);
    const head = data.dryRun ? chalk.cyan('dry run, nothing written: ') : data.duplicate || data.replayed ? chalk.dim('already held: ') : '';
    const overdraft = data.fromOrgMillicredits > 0 ? ` (${formatCredits(data.fromOrgMillicredits)} of it through the overdraft from org)` : '';
    const until = formatLocalDateTime(data.expiresAtMs, options.timeZone);
    const state = data.status === 'open' ? `until ${until}` : `now ${data.status}`;
    return [
      `${head}Hold ${chalk.bold(String(data.holdId))}: up to ${chalk.bold(`${formatCredits(data.maxMillicredits)} credits`)} for ${data.user} on ${data.model}${overdraft}, ${state}.`,
      chalk.dim(`${data.department} has ${formatCredits(data.departmentAvailableMillicredits)} credits available to others.`),
      chalk.dim(`Capture: credits usage record --hold ${data.holdId} --input-tokens N --output-tokens N; release: credits usage release ${data.holdId}`),
      ...warningLines(data.warnings, options),
    ].join('\n');
  },

  holdReleased(data: HoldData & { alreadyClosed: boolean; releasedMillicredits: number }, options: RenderOptions): string {
    const chalk = palette(options);
    const head = data.dryRun ? chalk.cyan('dry run, nothing written: ') : '';
    const what =
      data.alreadyClosed && data.status === 'expired'
        ? `Hold ${data.holdId} had already expired: nothing is held.`
        : data.alreadyClosed || data.replayed
          ? `Hold ${data.holdId} was already released.`
          : `Hold ${data.holdId} released: ${formatCredits(data.releasedMillicredits)} credits available again.`;
    return `${head}${what} ${chalk.dim(`${data.department} has ${formatCredits(data.departmentAvailableMillicredits)} credits available.`)}`;
  },

  import(
    data: {
      file: string;
      dryRun: boolean;
      read: number;
      accepted: number;
      duplicates: number;
      refused: number;
      malformed: number;
      acceptedMillicredits: number;
      problems: { line: number; code: string; message: string }[];
      warnings?: LimitWarning[];
    },
    options: RenderOptions,
  ): string {
    const chalk = palette(options);
    const head = `${data.dryRun ? chalk.cyan('dry run, nothing written: ') : ''}${formatCount(data.read)} lines from ${data.file}: ${chalk.green(`${formatCount(data.accepted)} accepted`)} (${formatCredits(data.acceptedMillicredits)} credits), ${formatCount(data.duplicates)} duplicates, ${formatCount(data.refused)} refused, ${formatCount(data.malformed)} malformed.`;
    const problems = data.problems.slice(0, 20).map((problem) => `  line ${problem.line}: [${problem.code}] ${problem.message.replace(/^line \d+: /, '')}`);
    const more = data.problems.length > 20 ? [`  … and ${data.refused + data.malformed - 20} more (see --json)`] : [];
    return [head, ...problems, ...more, ...warningLines(data.warnings, options)].join('\n');
  },

  rates(data: { rates: RateRow[]; upcoming: RateRow[] }, options: RenderOptions): string {
    const rows = data.rates.map((rate) => [
      rate.displayName,
      rate.model,
      rate.tier,
      formatCredits(rate.inputPer1kMillicredits),
      formatCredits(rate.outputPer1kMillicredits),
      formatCredits(rate.toolCallMillicredits),
    ]);
    const text = table(
      options,
      [
        { header: 'Model' },
        { header: 'Id' },
        { header: 'Tier' },
        { header: 'Input /1k', align: 'right' },
        { header: 'Output /1k', align: 'right' },
        { header: 'Tool call', align: 'right' },
      ],
      rows,
    );
    const upcoming = data.upcoming.map(
      (rate) =>
        `  ${rate.model} from ${formatLocalDateTime(rate.effectiveFromMs, options.timeZone)}: ${formatCredits(rate.inputPer1kMillicredits)} / ${formatCredits(rate.outputPer1kMillicredits)} / ${formatCredits(rate.toolCallMillicredits)}`,
    );
    return `${text}\nCredits per 1,000 tokens and per tool call. Images: 25 credits (standard), 50 (hd). Workflows with database access: +50%.${upcoming.length ? `\nScheduled:\n${upcoming.join('\n')}` : ''}`;
  },

  rateSet(data: { rate: RateRow; dryRun: boolean; replayed: boolean }, options: RenderOptions): string {
    const chalk = palette(options);
    return `${data.dryRun ? chalk.cyan('dry run, nothing written: ') : ''}${data.rate.model} (${data.rate.tier}) costs ${formatCredits(data.rate.inputPer1kMillicredits)} / ${formatCredits(data.rate.outputPer1kMillicredits)} credits per 1k input / output tokens and ${formatCredits(data.rate.toolCallMillicredits)} per tool call from ${formatLocalDateTime(data.rate.effectiveFromMs, options.timeZone)}.`;
  },

  limitSet(
    data: {
      limitId: number;
      replaced: boolean;
      scope: string;
      user: string | null;
      department: string | null;
      model: string | null;
      tier: string | null;
      period: string;
      amountMillicredits: number;
      kind?: string;
      dryRun: boolean;
    },
    options: RenderOptions,
  ): string {
    const chalk = palette(options);
    const who = data.user ?? data.department ?? 'the organisation';
    const what = data.model ? ` on ${data.model}` : data.tier ? ` on ${data.tier} models` : '';
    const head = `${data.dryRun ? chalk.cyan('dry run, nothing written: ') : ''}${data.kind === 'soft' ? 'Soft limit' : 'Limit'} ${data.limitId}${data.replaced ? ' (replaced)' : ''}`;
    if (data.kind === 'soft')
      return `${head}: warns when ${who}${what} spends more than ${formatCredits(data.amountMillicredits)} credits per ${data.period}; never refuses.`;
    return `${head}: ${who}${what} may spend ${formatCredits(data.amountMillicredits)} credits per ${data.period}.`;
  },

  limits(data: { limits: LimitRow[] }, options: RenderOptions): string {
    if (data.limits.length === 0) return 'No limits set. Add one with `credits limits set --user EMAIL --daily 50`.';
    const chalk = palette(options);
    return table(
      options,
      [
        { header: 'Id', align: 'right' },
        { header: 'Kind' },
        { header: 'Applies to' },
        { header: 'Models' },
        { header: 'Period' },
        { header: 'Limit', align: 'right' },
        { header: 'Used', align: 'right' },
        { header: 'Left', align: 'right' },
      ],
      data.limits.map((row) => {
        const percentLeft = row.amountMillicredits > 0 ? (row.leftMillicredits * 100) / row.amountMillicredits : 0;
        return [
          String(row.id),
          row.kind,
          row.user ?? row.department ?? 'organisation',
          row.model ?? (row.tier ? `${row.tier} tier` : 'all'),
          `${row.period === 'day' ? 'daily' : 'monthly'} (${row.periodKey})`,
          formatCredits(row.amountMillicredits),
          formatCredits(row.usedMillicredits),
          percentColour(chalk, percentLeft, formatCredits(row.leftMillicredits)),
        ];
      }),
    );
  },

  check(
    data: {
      ok: boolean;
      name: string;
      millicredits: number;
      percentLeft: number | null;
      minMillicredits: number;
      minPercent: number | null;
      limitedBy: string;
      percentLimitedBy: string;
      minDays?: number | null;
      runway?: RunwaySummary | null;
      warnings?: LimitWarning[];
    },
    options: RenderOptions,
  ): string {
    const chalk = palette(options);
    const status = data.ok ? chalk.green('ok') : chalk.red('budget too low');
    const runway = data.runway == null ? '' : ` ${runwaySentence(data.runway, data.minDays ?? null)}`;
    const line =
      data.minPercent !== null
        ? `${status}: ${data.name} has ${formatCredits(data.millicredits)} credits left (limited by ${data.limitedBy}) and ${formatPercent(data.percentLeft)} left of ${data.percentLimitedBy}.${runway}`
        : `${status}: ${data.name} has ${formatCredits(data.millicredits)} credits left${data.percentLeft !== null ? ` (${data.percentLeft}% of this month's credits)` : ''}, limited by ${data.limitedBy}.${runway}`;
    return [line, ...warningLines(data.warnings, options)].join('\n');
  },
};
