import type { SqlReader, SqlValue } from './driver.js';

export const REPORT_GROUPS = ['user', 'dept', 'model', 'feature', 'day'] as const;
export type ReportGroup = (typeof REPORT_GROUPS)[number];

export type ReportRow = { key: string; detail: string | null; events: number; millicredits: number };

const GROUP_SQL: Record<ReportGroup, { key: string; detail: string; join: string }> = {
  user: { key: 'u.email', detail: 'a.name', join: 'JOIN users u ON u.id = d.user_id JOIN accounts a ON a.id = d.department_id' },
  dept: { key: 'a.name', detail: 'a.cost_center', join: 'JOIN accounts a ON a.id = d.department_id' },
  model: { key: 'd.model', detail: 'd.tier', join: '' },
  feature: { key: 'd.feature', detail: 'NULL', join: '' },
  day: { key: 'd.day_key', detail: 'NULL', join: '' },
};

/**
 * Usage per group over local days (a user who moved department has a row per department) [firstDay, lastDay], from the day totals kept in the write
 * transaction: a year of a million events is a few thousand rows to read. Biggest spend first.
 */
export async function usageReport(
  db: SqlReader,
  query: { by: ReportGroup; firstDay: string; lastDay: string; departmentId?: number | undefined },
): Promise<ReportRow[]> {
  const group = GROUP_SQL[query.by];
  const where = ['d.day_key BETWEEN ? AND ?'];
  const args: SqlValue[] = [query.firstDay, query.lastDay];
  if (query.departmentId !== undefined) {
    where.push('d.department_id = ?');
    args.push(query.departmentId);
  }
  return db.all<ReportRow>(
    `SELECT ${group.key} AS key, ${group.detail} AS detail, sum(d.event_count) AS events, sum(d.millicredits) AS millicredits
     FROM usage_daily d ${group.join} WHERE ${where.join(' AND ')}
     GROUP BY ${group.key}${query.by === 'user' ? `, ${group.detail}` : ''} ORDER BY millicredits DESC, key, detail`,
    args,
  );
}

/** A tag report's row for the events without the tag: key null (a tag value is never empty). */
export type TagReportRow = { key: string | null; detail: null; events: number; millicredits: number };

type TagReportQuery = { tagKey: string; firstDay: string; lastDay: string; startMs: number; endMs: number; departmentId?: number | undefined };

/**
 * Usage per value of one tag (`report --by tag:KEY`), biggest first, then one row (key null) for
 * the events without that tag. The tagged events are read by time through a partial index that
 * holds tagged events only; the untagged row is the day totals' sum (what `--by dept` shows) less
 * the tagged rows, so the report foots with every other grouping without reading untagged events.
 */
export async function usageReportByTag(db: SqlReader, query: TagReportQuery): Promise<TagReportRow[]> {
  const departmentFilter = query.departmentId === undefined ? '' : ' AND e.department_id = ?';
  const departmentArgs: SqlValue[] = query.departmentId === undefined ? [] : [query.departmentId];
  // The key's pattern (core/tags.ts) holds no quote, so it is safe inside a quoted JSON path.
  const path = `$."${query.tagKey}"`;
  const tagged = await db.all<{ key: string; events: number; millicredits: number }>(
    `SELECT json_extract(e.tags, ?) AS key, count(*) AS events, sum(e.cost_millicredits) AS millicredits
     FROM usage_events e WHERE e.tags IS NOT NULL AND e.occurred_at_ms >= ? AND e.occurred_at_ms < ?${departmentFilter} AND json_extract(e.tags, ?) IS NOT NULL
     GROUP BY 1 ORDER BY millicredits DESC, key`,
    [path, query.startMs, query.endMs, ...departmentArgs, path],
  );
  const rows: TagReportRow[] = tagged.map((row) => ({
    key: String(row.key),
    detail: null,
    events: Number(row.events),
    millicredits: Number(row.millicredits),
  }));
  const taggedEvents = rows.reduce((sum, row) => sum + row.events, 0);
  const taggedMillicredits = rows.reduce((sum, row) => sum + row.millicredits, 0);
  let total = await dayTotals(db, query);
  // Day totals are keyed by the local day in the time zone of when they were posted; after
  // `org set --timezone` a period's edges may cut them elsewhere. Then the events themselves count.
  if (total.events < taggedEvents || total.millicredits < taggedMillicredits) total = await eventTotals(db, query, departmentFilter, departmentArgs);
  const untagged = { key: null, detail: null, events: total.events - taggedEvents, millicredits: total.millicredits - taggedMillicredits };
  return untagged.events > 0 ? [...rows, untagged] : rows;
}

async function dayTotals(db: SqlReader, query: TagReportQuery): Promise<{ events: number; millicredits: number }> {
  const filter = query.departmentId === undefined ? '' : ' AND department_id = ?';
  const row = await db.get<{ events: number | null; millicredits: number | null }>(
    `SELECT sum(event_count) AS events, sum(millicredits) AS millicredits FROM usage_daily WHERE day_key BETWEEN ? AND ?${filter}`,
    [query.firstDay, query.lastDay, ...(query.departmentId === undefined ? [] : [query.departmentId])],
  );
  return { events: Number(row?.events ?? 0), millicredits: Number(row?.millicredits ?? 0) };
}

async function eventTotals(db: SqlReader, query: TagReportQuery, filter: string, args: SqlValue[]): Promise<{ events: number; millicredits: number }> {
  const row = await db.get<{ events: number | null; millicredits: number | null }>(
    `SELECT count(*) AS events, sum(e.cost_millicredits) AS millicredits FROM usage_events e WHERE e.occurred_at_ms >= ? AND e.occurred_at_ms < ?${filter}`,
    [query.startMs, query.endMs, ...args],
  );
  return { events: Number(row?.events ?? 0), millicredits: Number(row?.millicredits ?? 0) };
}

export type DailyUsage = { dayKey: string; millicredits: number; events: number };

/** Spend per local day in [firstDay, lastDay] for the org or one department (days without usage are absent). */
export async function dailyUsage(db: SqlReader, query: { firstDay: string; lastDay: string; departmentId?: number | undefined }): Promise<DailyUsage[]> {
  const args: SqlValue[] = [query.firstDay, query.lastDay];
  let filter = '';
  if (query.departmentId !== undefined) {
    filter = ' AND department_id = ?';
    args.push(query.departmentId);
  }
  return db.all<DailyUsage>(
    `SELECT day_key AS dayKey, sum(millicredits) AS millicredits, sum(event_count) AS events FROM usage_daily
     WHERE day_key BETWEEN ? AND ?${filter} GROUP BY day_key ORDER BY day_key`,
    args,
  );
}

export type SubjectDailyUsage = { kind: 'user' | 'department'; name: string; department: string; dayKey: string; millicredits: number };

/** Daily spend per user and per department, for anomaly detection. */
export async function dailyUsageBySubject(db: SqlReader, query: { firstDay: string; lastDay: string }): Promise<SubjectDailyUsage[]> {
  const users = await db.all<SubjectDailyUsage>(
    `SELECT 'user' AS kind, u.email AS name, a.name AS department, d.day_key AS dayKey, sum(d.millicredits) AS millicredits
     FROM usage_daily d JOIN users u ON u.id = d.user_id JOIN accounts a ON a.id = d.department_id
     WHERE d.day_key BETWEEN ? AND ? GROUP BY d.user_id, d.department_id, d.day_key`,
    [query.firstDay, query.lastDay],
  );
  const departments = await db.all<SubjectDailyUsage>(
    `SELECT 'department' AS kind, a.name AS name, a.name AS department, d.day_key AS dayKey, sum(d.millicredits) AS millicredits
     FROM usage_daily d JOIN accounts a ON a.id = d.department_id
     WHERE d.day_key BETWEEN ? AND ? GROUP BY d.department_id, d.day_key`,
    [query.firstDay, query.lastDay],
  );
  return [...users, ...departments];
}

export type ReversedUsage = { events: number; millicredits: number };

/**
 * Usage given back by reversals booked in [startMs, endMs) (`usage reverse`), by when the reversal
 * was posted, not when the events happened: a report shows a reversal in the period it is booked
 * in, and the day totals keep the usage as it happened. Of one department's events, or all.
 */
export async function reversedUsage(db: SqlReader, query: { startMs: number; endMs: number; departmentId?: number | undefined }): Promise<ReversedUsage> {
  const args: SqlValue[] = [query.startMs, query.endMs];
  let filter = '';
  if (query.departmentId !== undefined) {
    filter = ' AND e.department_id = ?';
    args.push(query.departmentId);
  }
  const row = await db.get<{ events: number; millicredits: number | null }>(
    `SELECT count(*) AS events, sum(e.cost_millicredits) AS millicredits
     FROM ledger_transactions t JOIN usage_reversals r ON r.transaction_id = t.id JOIN usage_events e ON e.id = r.usage_event_id
     WHERE t.kind = 'reversal' AND t.created_at_ms >= ? AND t.created_at_ms < ?${filter}`,
    args,
  );
  return { events: Number(row?.events ?? 0), millicredits: Number(row?.millicredits ?? 0) };
}
