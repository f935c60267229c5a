import type { SqlReader } from './driver.js';
import { GENESIS_HASH, chainHash } from './ledgerWriter.js';
import { TRACKED_TABLES, recordContent, rowJsonSql, rowKeySql, tableShape, triggerNames } from './stateLog.js';

/** A difference between the state log and the tables: the first one names table, row and field. */
export type StateProblem = { table: string; rowKey: string | null; field: string | null; message: string };

export type StateLogCheck = { records: number; head: { seq: number; hash: string }; problems: StateProblem[] };

const PAGE_SIZE = 5000;
const PER_TABLE = 5;
const MAX_UNSEALED_NAMED = 60;

type LogRow = { seq: number; tableName: string; rowKey: string; op: string; rowJson: string | null; prevHash: string | null; hash: string | null };

/** Walks the log in seq order: every record sealed, linked to the one before, and matching its hash. */
async function checkChain(
  db: SqlReader,
  problems: StateProblem[],
  start: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH },
): Promise<{ records: number; head: { seq: number; hash: string } }> {
  let previousHash = start.hash;
  let lastSeq = start.seq;
  let headSeq = start.seq;
  let records = 0;
  let broken = false;
  for (;;) {
    const page = await db.all<LogRow>(
      `SELECT seq, table_name AS tableName, row_key AS rowKey, op, row_json AS rowJson, prev_hash AS prevHash, hash
       FROM state_log WHERE seq > ? ORDER BY seq LIMIT ?`,
      [lastSeq, PAGE_SIZE],
    );
    if (page.length === 0) break;
    for (const record of page) {
      records += 1;
      lastSeq = record.seq;
      if (broken) continue;
      const at = { table: record.tableName, rowKey: record.rowKey === '#columns' ? null : record.rowKey, field: null };
      if (record.hash === null) {
        const field = await changedField(db, record);
        const what = field === null ? `${record.op} of` : `change of ${field} in`;
        problems.push({
          ...at,
          field,
          message: `${record.tableName} row ${record.rowKey}: unsealed ${what} the row (state log record ${record.seq}): made outside credits`,
        });
        // Every unsealed record is named (each is a change of its own, up to a limit); the chain skips over it.
        if (problems.length >= MAX_UNSEALED_NAMED) broken = true;
        continue;
      }
      if (record.prevHash !== previousHash || chainHash(previousHash, recordContent(record)) !== record.hash) {
        problems.push({
          ...at,
          message: `state log record ${record.seq} (${record.tableName} ${record.rowKey}) does not match its hash: it or an earlier one was altered`,
        });
        broken = true;
      }
      previousHash = record.hash;
      headSeq = record.seq;
    }
  }
  return { records, head: { seq: headSeq, hash: previousHash } };
}

/** The first column whose value differs between two json_object texts (or null when one side is missing). */
function firstDifferentField(logged: string | null, current: string | null): string | null {
  if (logged === null || current === null) return null;
  const before = JSON.parse(logged) as Record<string, unknown>;
  const after = JSON.parse(current) as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return fields.find((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field])) ?? null;
}

/** The field an unsealed record changed, against the row's record before it. */
async function changedField(db: SqlReader, record: LogRow): Promise<string | null> {
  const before = await db.get<{ rowJson: string | null }>(
    'SELECT row_json AS rowJson FROM state_log WHERE table_name = ? AND row_key = ? AND seq < ? ORDER BY seq DESC LIMIT 1',
    [record.tableName, record.rowKey, record.seq],
  );
  return firstDifferentField(before?.rowJson ?? null, record.rowJson);
}

/** Replays the log of one table (its latest record per row) and compares it with the table's rows. */
async function checkTable(db: SqlReader, table: string, problems: StateProblem[]): Promise<void> {
  const shape = await tableShape(db, table);
  const triggers = await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", [table]);
  const missing = triggerNames(table).filter((name) => !triggers.some((trigger) => trigger.name === name));
  if (missing.length > 0) problems.push({ table, rowKey: null, field: null, message: `${table} lost its state log trigger ${missing[0]}` });
  const differences = await db.all<{ rowKey: string; logged: string | null; current: string | null }>(
    `SELECT coalesce(l.row_key, c.k) AS rowKey, l.row_json AS logged, c.j AS current
     FROM (SELECT row_key, row_json, max(seq) FROM state_log WHERE table_name = ? AND op <> 'columns' GROUP BY row_key) l
     FULL OUTER JOIN (SELECT ${rowKeySql(shape, '')} AS k, ${rowJsonSql(shape, '')} AS j FROM "${table}") c ON c.k = l.row_key
     WHERE l.row_json IS NOT c.j ORDER BY 1 LIMIT ?`,
    [table, PER_TABLE],
  );
  reportDifferences(problems, table, differences, 'was inserted outside credits');
}

/** The state log's chain, then every tracked table against the rows the log replays to. */
export async function checkStateLog(db: SqlReader): Promise<StateLogCheck> {
  const problems: StateProblem[] = [];
  const { records, head } = await checkChain(db, problems);
  for (const table of TRACKED_TABLES) await checkTable(db, table, problems);
  return { records, head, problems };
}

/** The records after `start` (a checkpoint's state head): sealed and chained from it. */
export async function checkStateLogSince(db: SqlReader, start: { seq: number; hash: string }): Promise<StateLogCheck> {
  const problems: StateProblem[] = [];
  const { records, head } = await checkChain(db, problems, start);
  for (const table of TRACKED_TABLES) await checkTableSince(db, table, start.seq, problems);
  return { records, head, problems };
}

/**
 * The rows of one table that records after `afterSeq` touched, each against its latest record
 * (found by its primary key, so only those rows are read), and the table's triggers still there.
 * A row changed with the triggers dropped and not touched since is left to the full verify.
 */
async function checkTableSince(db: SqlReader, table: string, afterSeq: number, problems: StateProblem[]): Promise<void> {
  const shape = await tableShape(db, table);
  const triggers = await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", [table]);
  const missing = triggerNames(table).filter((name) => !triggers.some((trigger) => trigger.name === name));
  if (missing.length > 0) problems.push({ table, rowKey: null, field: null, message: `${table} lost its state log trigger ${missing[0]}` });
  if (shape.keyColumns.length === 0) return;
  const byKey = shape.keyColumns.map((column, index) => `c."${column.replaceAll('"', '""')}" = json_extract(l.row_key, '$[${index}]')`).join(' AND ');
  // `+table_name`: the records after the mark are read by seq, not through the per-table index.
  const differences = await db.all<{ rowKey: string; logged: string | null; current: string | null }>(
    `SELECT rowKey, logged, current FROM (
       SELECT l.row_key AS rowKey, l.row_json AS logged, (SELECT ${rowJsonSql(shape, 'c.')} FROM "${table}" c WHERE ${byKey}) AS current
       FROM (SELECT row_key, row_json, max(seq) FROM state_log WHERE seq > ? AND +table_name = ? AND op <> 'columns' GROUP BY row_key) l)
     WHERE logged IS NOT current ORDER BY 1 LIMIT ?`,
    [afterSeq, table, PER_TABLE],
  );
  reportDifferences(problems, table, differences, 'is back though its record says deleted');
}

/** A problem for each row whose latest record differs from the row itself; `unlogged` says what a row without one means. */
function reportDifferences(
  problems: StateProblem[],
  table: string,
  differences: { rowKey: string; logged: string | null; current: string | null }[],
  unlogged: string,
): void {
  for (const row of differences) {
    const field = firstDifferentField(row.logged, row.current);
    const what = row.current === null ? 'was deleted outside credits' : row.logged === null ? unlogged : `field ${field} was changed outside credits`;
    problems.push({ table, rowKey: row.rowKey, field, message: `${table} row ${row.rowKey}: ${what}` });
  }
}
