import { CreditsError } from '../core/errors.js';
import { priceUsage, type PricedUsage } from '../core/pricing.js';
import { parseFeature, parseImageSize, type Tier } from '../core/rateCard.js';
import type { SqlReader, SqlValue } from './driver.js';
import { outsideScope, scopeOf } from './scope.js';

/** One posted usage event as `usage list` and `usage show` read it back. */
export type StoredUsageEvent = {
  /** The ledger's own number of the event (`#12`): every event has one, an event id only when the platform sent it. */
  id: number;
  eventId: string | null;
  /** The usage transaction (batch) the event was posted in. */
  transactionId: number;
  /** When the transaction was posted (an event sent late with `at` happened before). */
  postedAtMs: number;
  occurredAtMs: number;
  userId: number;
  user: string;
  departmentId: number;
  department: string;
  model: string;
  tier: Tier;
  feature: string;
  inputTokens: number;
  outputTokens: number;
  toolCalls: number;
  images: number;
  imageSize: string;
  dbAccess: number;
  costMillicredits: number;
  drawnFromOrgMillicredits: number;
  /** The reversal transaction that reversed the event (`usage reverse`), or null. */
  reversedByTransactionId: number | null;
  /** Its tags as stored (JSON, keys sorted), or null. */
  tags: string | null;
};

/** What `usage list` selects; ids are resolved (and scope-checked) by the caller. */
export type UsageEventFilter = {
  userId?: number | undefined;
  departmentId?: number | undefined;
  model?: string | undefined;
  feature?: string | undefined;
  /** Event time (when it happened), from this instant on. */
  sinceMs?: number | undefined;
  /** Event time, before this instant. */
  untilMs?: number | undefined;
  /** Only events listed after this one: the cursor of the previous page (events are listed by descending id). */
  beforeId?: number | undefined;
};

const EVENT_COLUMNS = `e.id AS id, e.event_id AS eventId, e.transaction_id AS transactionId, t.created_at_ms AS postedAtMs, e.occurred_at_ms AS occurredAtMs,
  e.user_id AS userId, u.email AS user, e.department_id AS departmentId, a.name AS department, e.model AS model, e.tier AS tier, e.feature AS feature,
  e.input_tokens AS inputTokens, e.output_tokens AS outputTokens, e.tool_calls AS toolCalls, e.images AS images, e.image_size AS imageSize,
  e.db_access AS dbAccess, e.cost_millicredits AS costMillicredits, e.drawn_from_org_millicredits AS drawnFromOrgMillicredits,
  r.transaction_id AS reversedByTransactionId, e.tags AS tags`;

const EVENT_FROM = `usage_events e JOIN users u ON u.id = e.user_id JOIN accounts a ON a.id = e.department_id JOIN ledger_transactions t ON t.id = e.transaction_id
  LEFT JOIN usage_reversals r ON r.usage_event_id = e.id`;

/**
 * The WHERE clause of a filter, a department-bound reader's scope included: such a reader sees
 * the events posted for its department only, whatever it names.
 */
function eventWhere(db: SqlReader, filter: UsageEventFilter): { sql: string; args: SqlValue[] } {
  const where: string[] = [];
  const args: SqlValue[] = [];
  const add = (clause: string, value: SqlValue | undefined): void => {
    if (value === undefined) return;
    where.push(clause);
    args.push(value);
  };
  add('e.department_id = ?', scopeOf(db)?.departmentId);
  add('e.department_id = ?', filter.departmentId);
  add('e.user_id = ?', filter.userId);
  add('e.model = ?', filter.model);
  add('e.feature = ?', filter.feature);
  add('e.occurred_at_ms >= ?', filter.sinceMs);
  add('e.occurred_at_ms < ?', filter.untilMs);
  add('e.id < ?', filter.beforeId);
  return { sql: where.length > 0 ? `WHERE ${where.join(' AND ')}` : '', args };
}

/**
 * Events newest posted first (by the ledger's own number, which never changes, so a page's last
 * id is a stable place to go on from). The walk follows the table's rowid: no index is needed,
 * and a page reads only as far as it must to find `limit` matches.
 */
export async function listUsageEvents(db: SqlReader, filter: UsageEventFilter, limit: number): Promise<StoredUsageEvent[]> {
  const { sql, args } = eventWhere(db, filter);
  return db.all<StoredUsageEvent>(`SELECT ${EVENT_COLUMNS} FROM ${EVENT_FROM} ${sql} ORDER BY e.id DESC LIMIT ?`, [...args, limit]);
}

/**
 * How many events the filter selects: with no cursor, the "of N" of a page; with one (the last
 * event of a page), how many older ones are left for the next pages.
 */
export async function countUsageEvents(db: SqlReader, filter: UsageEventFilter): Promise<number> {
  const { sql, args } = eventWhere(db, filter);
  const row = await db.get<{ total: number }>(`SELECT count(*) AS total FROM usage_events e ${sql}`, args);
  return Number(row?.total ?? 0);
}

/**
 * Every event the filter selects, a page at a time (one read each): an export of a million
 * events holds one page in memory, never the list. Events posted while it runs have higher
 * numbers than its first page and are not in it.
 */
export async function* usageEventPages(
  db: SqlReader,
  filter: UsageEventFilter,
  options: { pageSize: number; limit?: number | undefined },
): AsyncGenerator<StoredUsageEvent[]> {
  let beforeId = filter.beforeId;
  let left = options.limit ?? Number.POSITIVE_INFINITY;
  while (left > 0) {
    const page = await listUsageEvents(db, { ...filter, beforeId }, Math.min(options.pageSize, left));
    if (page.length === 0) return;
    yield page;
    left -= page.length;
    beforeId = page[page.length - 1]!.id;
  }
}

/**
 * One event by the id its platform gave it, or by the ledger's own number (`#12`) for an event
 * posted without one. A department-bound reader reaches its own department's events only, and
 * is told the same whether another department's event exists or not.
 */
export async function requireUsageEvent(db: SqlReader, reference: string, field = 'EVENT_ID'): Promise<StoredUsageEvent> {
  const given = reference.trim();
  let event = await db.get<StoredUsageEvent>(`SELECT ${EVENT_COLUMNS} FROM ${EVENT_FROM} WHERE e.event_id = ?`, [given]);
  const number = /^#(\d{1,15})$/.exec(given);
  if (!event && number) event = await db.get<StoredUsageEvent>(`SELECT ${EVENT_COLUMNS} FROM ${EVENT_FROM} WHERE e.id = ?`, [Number(number[1])]);
  const scope = scopeOf(db);
  if (scope !== null && (!event || event.departmentId !== scope.departmentId)) throw outsideScope(scope, `event "${given}"`);
  if (!event) {
    throw new CreditsError('EVENT_NOT_FOUND', `${field}: no usage event "${given}"`, {
      hint: 'give the event id the platform sent, or the number `credits usage list` shows (#12) for an event posted without one',
    });
  }
  return event;
}

/** The rate row as the poster priced with it (see usageRepo.ts). */
type RateForPricing = {
  model: string;
  displayName: string;
  tier: Tier;
  inputPer1kMillicredits: number;
  outputPer1kMillicredits: number;
  toolCallMillicredits: number;
  effectiveFromMs: number;
};

/**
 * The breakdown `usage record` printed for a stored event: its counts priced again with the rate
 * that was in force at its time. Rates only ever gain rows, but one may be added later with an
 * earlier effective time; the newest rate that prices the event to what it was charged (and gives
 * its tier) is the one the poster used. Null when none does (the event then shows its total only).
 */
export async function storedBreakdown(db: SqlReader, event: StoredUsageEvent): Promise<{ priced: PricedUsage; modelName: string } | null> {
  const rates = await db.all<RateForPricing>(
    `SELECT model, display_name AS displayName, tier, input_per_1k_millicredits AS inputPer1kMillicredits, output_per_1k_millicredits AS outputPer1kMillicredits,
       tool_call_millicredits AS toolCallMillicredits, effective_from_ms AS effectiveFromMs
     FROM model_rates WHERE model = ? AND effective_from_ms <= ? ORDER BY effective_from_ms DESC, id DESC`,
    [event.model, event.occurredAtMs],
  );
  for (const rate of rates) {
    if (rate.tier !== event.tier) continue;
    let priced: PricedUsage;
    try {
      priced = priceUsage(rate, {
        model: event.model,
        inputTokens: event.inputTokens,
        outputTokens: event.outputTokens,
        toolCalls: event.toolCalls,
        feature: parseFeature(event.feature),
        images: event.images,
        imageSize: parseImageSize(event.imageSize),
        dbAccess: event.dbAccess === 1,
      });
    } catch {
      continue;
    }
    if (priced.totalMillicredits === event.costMillicredits) return { priced, modelName: rate.displayName };
  }
  return null;
}

/** The reversal of an event, as `usage show` tells it. */
export type EventReversal = { transactionId: number; atMs: number; actor: string; reason: string };

export async function eventReversal(db: SqlReader, event: StoredUsageEvent): Promise<EventReversal | null> {
  if (event.reversedByTransactionId === null) return null;
  const row = await db.get<EventReversal>('SELECT id AS transactionId, created_at_ms AS atMs, actor, memo AS reason FROM ledger_transactions WHERE id = ?', [
    event.reversedByTransactionId,
  ]);
  return row ?? null;
}
