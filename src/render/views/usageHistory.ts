import type { UsageEventItem } from '../../app/documentTypes.js';
import { formatLocalDateTime } from '../../core/time.js';
import { tagsText } from '../../core/tags.js';
import { csvCredits, type CsvCell } from '../csv.js';
import { formatCount, formatCredits } from '../format.js';
import { palette, table, type RenderOptions } from '../style.js';
import { breakdownLines } from './usage.js';

type UsageEventsData = { events: UsageEventItem[]; total: number; more: number; nextCursor: string | null };
type UsageEventData = UsageEventItem & {
  modelName: string;
  priced: { lines: { kind: string; label: string; quantity: number; millicredits: number }[]; totalMillicredits: number };
  repriced: boolean;
  reversal: { transactionId: number; atMs: number; actor: string; reason: string } | null;
};

const CSV_HEADER = [
  'id',
  'event_id',
  'occurred_at',
  'user',
  'department',
  'model',
  'tier',
  'feature',
  'input_tokens',
  'output_tokens',
  'tool_calls',
  'images',
  'image_size',
  'db_access',
  'credits',
  'drawn_from_org_credits',
  'transaction_id',
  'reversed_by_transaction',
  'tags',
];

function csvRow(item: UsageEventItem): CsvCell[] {
  return [
    item.id,
    item.eventId,
    item.occurredAt,
    item.user,
    item.department,
    item.model,
    item.tier,
    item.feature,
    item.inputTokens,
    item.outputTokens,
    item.toolCalls,
    item.images,
    item.imageSize,
    item.dbAccess ? 1 : 0,
    csvCredits(item.costMillicredits),
    csvCredits(item.drawnFromOrgMillicredits),
    item.transactionId,
    item.reversedByTransactionId,
    // The form an import's CSV reads back: project=apollo;team=ml.
    tagsText(item.tags),
  ];
}

const NEEDS_QUOTES = /[",\r\n]/;

/** One RFC 4180 field, quoted (quotes doubled) only when it holds a comma, a quote or a line break: as csv-stringify writes it. */
function csvField(cell: CsvCell): string {
  if (cell === null) return '';
  const text = String(cell);
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * One page of an export: RFC 4180 rows with dot decimals, the header row before the first page.
 * Written by hand rather than by csv-stringify: an export of a million events spent most of its
 * time there.
 */
export async function usageEventsCsv(items: readonly UsageEventItem[], header: boolean): Promise<string> {
  let text = header ? `${CSV_HEADER.join(',')}\n` : '';
  for (const item of items) text += `${csvRow(item).map(csvField).join(',')}\n`;
  return text;
}

/** The event as people name it: the platform's id, or the ledger's number for one sent without. */
function eventName(item: UsageEventItem): string {
  return item.eventId ?? `#${item.id}`;
}

export const usageHistoryViews = {
  usageEvents(data: UsageEventsData, options: RenderOptions): string {
    if (data.events.length === 0) return 'No usage events match.';
    // A column for reversals only when the page shows one: most pages have none.
    const reversed = data.events.some((item) => item.reversedByTransactionId !== null);
    const tagged = data.events.some((item) => Object.keys(item.tags).length > 0);
    const listed = table(
      options,
      [
        { header: 'Time' },
        { header: 'Event' },
        { header: 'User' },
        { header: 'Department' },
        { header: 'Model' },
        { header: 'Feature' },
        { header: 'Tokens in / out', align: 'right' },
        { header: 'Credits', align: 'right' },
        ...(reversed ? [{ header: 'Reversed' }] : []),
        ...(tagged ? [{ header: 'Tags' }] : []),
      ],
      data.events.map((item) => [
        formatLocalDateTime(item.occurredAtMs, options.timeZone),
        eventName(item),
        item.user,
        item.department,
        item.model,
        item.feature,
        `${formatCount(item.inputTokens)} / ${formatCount(item.outputTokens)}`,
        formatCredits(item.costMillicredits),
        ...(reversed ? [item.reversedByTransactionId === null ? '' : `by ${item.reversedByTransactionId}`] : []),
        ...(tagged ? [tagsText(item.tags)] : []),
      ]),
    );
    const more =
      data.more > 0 && data.nextCursor !== null
        ? `\n${formatCount(data.events.length)} of ${formatCount(data.total)} shown; --limit or --after ${data.nextCursor} for more`
        : '';
    return `${listed.replace(/\n$/, '')}${more}`;
  },

  /** The breakdown `usage record` printed, then what the ledger knows of the event. */
  usageEvent(data: UsageEventData, options: RenderOptions): string {
    const chalk = palette(options);
    const lines = breakdownLines(data, options);
    const facts = [
      `event ${eventName(data)}${data.eventId === null ? '' : ` (#${data.id})`} of ${data.user}, ${data.department}`,
      `posted in transaction ${data.transactionId} on ${formatLocalDateTime(data.postedAtMs, options.timeZone)}`,
      ...(data.drawnFromOrgMillicredits > 0 ? [`${formatCredits(data.drawnFromOrgMillicredits)} drawn from org`] : []),
      ...(data.repriced ? [] : ['its rate is no longer on the card: total only']),
    ];
    lines.push(chalk.dim(`(${facts.join('; ')})`));
    if (Object.keys(data.tags).length > 0) lines.push(chalk.dim(`(tags ${tagsText(data.tags)})`));
    if (data.reversal !== null)
      lines.push(
        chalk.yellow(
          `(reversed by transaction ${data.reversal.transactionId} on ${formatLocalDateTime(data.reversal.atMs, options.timeZone)} by ${data.reversal.actor}: ${data.reversal.reason})`,
        ),
      );
    return lines.join('\n');
  },
};
