import { CreditsError } from '../../core/errors.js';
import { parseEmail } from '../../core/names.js';
import { FEATURES } from '../../core/rateCard.js';
import { parseInstantInput, toIsoUtc } from '../../core/time.js';
import { tagsFromJson } from '../../core/tags.js';
import { requireDepartment, requireUser } from '../../store/orgRepo.js';
import {
  countUsageEvents,
  eventReversal,
  listUsageEvents,
  requireUsageEvent,
  storedBreakdown,
  usageEventPages,
  type StoredUsageEvent,
  type UsageEventFilter,
} from '../../store/usageEventQueries.js';
import type { Context } from '../context.js';
import type { UsageEventItem } from '../documentTypes.js';
import { chooseFormat, parseLimit, stringOption } from '../parse.js';
import { MEDIA_TYPES, defineCommand, type CommandOutput, type CommandSpec } from '../spec.js';

/**
 * What `usage list` was given: names, dates and the cursor are read once the ledger is open (names
 * in the ledger, dates in the organisation's time zone), so they stay text.
 */
export type UsageListRequest = {
  user: string | undefined;
  dept: string | undefined;
  model: string | undefined;
  feature: string | undefined;
  since: string | undefined;
  until: string | undefined;
  limit: string | undefined;
  after: string | undefined;
  format: string | undefined;
  output: string | undefined;
};

/** The event `usage show` prints: the platform's event id, or the ledger's own number (`#12`). */
export type UsageShowRequest = { event: string };

export function usageEventItem(event: StoredUsageEvent): UsageEventItem {
  return {
    id: event.id,
    eventId: event.eventId,
    occurredAt: toIsoUtc(event.occurredAtMs),
    occurredAtMs: event.occurredAtMs,
    postedAtMs: event.postedAtMs,
    user: event.user,
    department: event.department,
    model: event.model,
    tier: event.tier,
    feature: event.feature,
    inputTokens: event.inputTokens,
    outputTokens: event.outputTokens,
    toolCalls: event.toolCalls,
    images: event.images,
    imageSize: event.imageSize,
    dbAccess: event.dbAccess === 1,
    costMillicredits: event.costMillicredits,
    credits: event.costMillicredits / 1000,
    drawnFromOrgMillicredits: event.drawnFromOrgMillicredits,
    transactionId: event.transactionId,
    reversedByTransactionId: event.reversedByTransactionId,
    tags: tagsFromJson(event.tags),
  };
}

/**
 * The cursor of `usage list --after`: where the previous page ended. Opaque to callers (it may
 * carry more one day); today the ledger's own number of the last event shown, which never changes,
 * so a cursor stays good however many events are posted meanwhile.
 */
const CURSOR_PREFIX = 'usage-list:1:';

export function encodeCursor(lastId: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${lastId}`, 'utf8').toString('base64url');
}

export function decodeCursor(text: string, field = '--after'): number {
  const decoded = /^[A-Za-z0-9_-]{1,200}$/.test(text.trim()) ? Buffer.from(text.trim(), 'base64url').toString('utf8') : '';
  const match = decoded.startsWith(CURSOR_PREFIX) ? /^(\d{1,15})$/.exec(decoded.slice(CURSOR_PREFIX.length)) : null;
  if (!match || Number(match[1]) < 1) {
    throw new CreditsError('INVALID_VALUE', `${field} "${text}" is not a cursor of \`usage list\``, {
      hint: 'pass the cursor a previous page printed (`nextCursor` in JSON)',
    });
  }
  return Number(match[1]);
}

/** Events per read of an export: one page is all an export holds in memory. */
const EXPORT_PAGE_SIZE = 2000;

async function eventFilter(input: UsageListRequest, context: Context): Promise<UsageEventFilter> {
  const settings = await context.settings();
  const db = await context.db();
  // A bound principal sees its department's events whatever it names (store/usageEventQueries.ts);
  // naming another department or its user is refused by the lookups, as everywhere.
  return {
    departmentId: input.dept === undefined ? undefined : (await requireDepartment(db, input.dept, '--dept')).id,
    userId: input.user === undefined ? undefined : (await requireUser(db, parseEmail(input.user, '--user'), '--user')).id,
    model: input.model === undefined ? undefined : input.model.trim().toLowerCase(),
    feature: input.feature,
    sinceMs: input.since === undefined ? undefined : parseInstantInput(input.since, '--since', settings.timeZone),
    untilMs: input.until === undefined ? undefined : parseInstantInput(input.until, '--until', settings.timeZone, { endOfDay: true }),
    beforeId: input.after === undefined ? undefined : decodeCursor(input.after),
  };
}

/**
 * The export: every selected event (or --limit of them), read a page at a time and handed on as
 * text chunks, never the whole list. The counts in `data` grow as the chunks are written.
 */
function exportEvents(
  context: Context,
  filter: UsageEventFilter,
  target: { format: 'csv' | 'json'; output: string | undefined; limit: number | undefined },
): CommandOutput {
  const data = { path: target.output ?? '-', format: target.format, rows: 0, bytes: 0 };
  const presenter = context.presenter;
  async function* chunks(): AsyncGenerator<string> {
    const db = await context.db();
    let first = true;
    const counted = (text: string): string => {
      data.bytes += Buffer.byteLength(text, 'utf8');
      return text;
    };
    for await (const page of usageEventPages(db, filter, { pageSize: EXPORT_PAGE_SIZE, limit: target.limit })) {
      const items = page.map(usageEventItem);
      data.rows += items.length;
      if (target.format === 'csv') {
        yield counted(await presenter.usageEventsCsv(items, first));
      } else {
        yield counted(`${first ? '[\n' : ',\n'}${items.map((item) => JSON.stringify(item)).join(',\n')}`);
      }
      first = false;
    }
    if (target.format === 'csv') {
      if (first) yield counted(await presenter.usageEventsCsv([], true));
    } else {
      yield counted(first ? '[]\n' : '\n]\n');
    }
  }
  return { view: 'fileWritten', data, stream: { name: data.path, mediaType: MEDIA_TYPES[target.format], chunks: chunks() } };
}

export const usageHistoryCommands: CommandSpec[] = [
  defineCommand({
    name: 'usage list',
    summary: 'usage events with their cost, newest first; --format csv|json exports them all',
    ledger: 'existing',
    options: [
      { flags: '--user <email>', description: 'only events of this user', dynamic: 'users' },
      { flags: '--dept <name>', description: 'only events posted for this department', dynamic: 'departments' },
      { flags: '--model <id>', description: 'only events of this model', dynamic: 'models' },
      { flags: '--feature <feature>', description: 'only events of this feature', choices: FEATURES },
      { flags: '--since <date>', description: 'events that happened from this date or instant on' },
      { flags: '--until <date>', description: 'events that happened up to the end of this date, or before this instant' },
      { flags: '--limit <n>', description: 'at most this many (default: 50; with --format csv or json, all)' },
      { flags: '--after <cursor>', description: 'the next page: the cursor the previous page printed' },
      { flags: '--format <format>', description: 'table, csv or json (default: from --output, else table)', choices: ['table', 'csv', 'json'] },
      { flags: '--output <file>', description: 'write the csv or json export to this file (atomically); default: standard output' },
    ],
    examples: [
      'credits usage list --user ada@example.com --since 2026-11-01',
      'credits usage list --dept Engineering --model gpt-4o --limit 20 --json',
      'credits usage list --after dXNhZ2UtbGlzdDoxOjEyMzQ',
      'credits usage list --since 2026-10-01 --until 2026-10-31 --format csv --output october-events.csv',
    ],
    request: (input): UsageListRequest => ({
      user: stringOption(input, 'user'),
      dept: stringOption(input, 'dept'),
      model: stringOption(input, 'model'),
      feature: stringOption(input, 'feature'),
      since: stringOption(input, 'since'),
      until: stringOption(input, 'until'),
      limit: stringOption(input, 'limit'),
      after: stringOption(input, 'after'),
      format: stringOption(input, 'format'),
      output: stringOption(input, 'output'),
    }),
    async run(input, context) {
      const format = chooseFormat(input.format, input.output, ['table', 'csv', 'json'], 'table') as 'table' | 'csv' | 'json';
      if (format === 'table' && input.output !== undefined)
        throw new CreditsError('INVALID_VALUE', '--output needs --format csv or json (or a .csv or .json file name)', {
          hint: 'for example --output events.csv',
        });
      const filter = await eventFilter(input, context);
      if (format !== 'table') {
        const limit = input.limit === undefined ? undefined : parseLimit(input.limit);
        return exportEvents(context, filter, { format, output: input.output, limit });
      }
      const db = await context.db();
      const limit = parseLimit(input.limit);
      const events = await listUsageEvents(db, filter, limit);
      // A first page shorter than --limit is the whole list: nothing to count.
      const whole = filter.beforeId === undefined && events.length < limit;
      const total = whole ? events.length : await countUsageEvents(db, { ...filter, beforeId: undefined });
      const last = events[events.length - 1];
      const more = whole || last === undefined ? 0 : await countUsageEvents(db, { ...filter, beforeId: last.id });
      return {
        view: 'usageEvents',
        data: { events: events.map(usageEventItem), total, more, nextCursor: more > 0 && last !== undefined ? encodeCursor(last.id) : null },
      };
    },
  }),
  defineCommand({
    name: 'usage show',
    summary: "one usage event's breakdown, as `usage record` printed it, from the stored event",
    ledger: 'existing',
    arguments: [{ name: 'event', description: 'the event id the platform sent, or #N from `usage list` for an event without one', required: true }],
    examples: ['credits usage show evt-1', 'credits usage show "#1234" --json'],
    request: (input): UsageShowRequest => ({ event: input.args[0] ?? '' }),
    async run(input, context) {
      await context.settings();
      const db = await context.db();
      const event = await requireUsageEvent(db, input.event);
      const breakdown = await storedBreakdown(db, event);
      const reversal = await eventReversal(db, event);
      return {
        view: 'usageEvent',
        data: {
          ...usageEventItem(event),
          modelName: breakdown?.modelName ?? event.model,
          priced: breakdown?.priced ?? { model: event.model, tier: event.tier, lines: [], totalMillicredits: event.costMillicredits },
          repriced: breakdown !== null,
          reversal,
        },
      };
    },
  }),
];
