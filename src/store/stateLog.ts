/**
 * Every change to the settings-like tables is a record in one hash chain, `state_log`. Triggers
 * (generated from the tables' columns when the schema is migrated) append the row as it is after
 * the change; sealStateLog() hashes the new records at the end of every write transaction of
 * ours, in that same transaction. So a change made with a SQL shell leaves an unsealed record,
 * or, with the triggers dropped, a current row that differs from the row the log replays to.
 *
 * Why triggers rather than a record written by each repository: a code path that forgets to log
 * is then impossible, and a new column is covered by the next migration without anyone noticing.
 */
import type { SqlReader, WriteOptions, WriteTx } from './driver.js';
import { GENESIS_HASH, chainHash } from './ledgerWriter.js';

/**
 * The tables the state log does not follow, and why; every other table of the schema is tracked
 * (test/e2e/tamper.local.test.ts fails when a table is in neither list).
 */
export const RECOMPUTED_TABLES: Readonly<Record<string, string>> = {
  ledger_transactions: 'its own hash chain (verify recomputes every hash)',
  entries: 'hashed into their transaction',
  usage_events: 'digested into their usage transaction',
  usage_batches: 'recomputed from the usage events',
  usage_daily: 'recomputed from the usage events',
  usage_reversals: 'hashed into their reversal transaction, checked against the events they reverse',
  state_log: 'the chain itself',
  writer_lease: 'which `credits serve` may write now (renewed every few seconds), not ledger state: verify does not read it',
};

/** Columns kept out of a tracked table's records because verify recomputes them from the entries. */
const RECOMPUTED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  accounts: ['balance_millicredits'],
};

/** Tracked tables, in the order verify compares them (and names the first difference). */
export const TRACKED_TABLES = [
  'settings',
  'accounts',
  'users',
  'model_rates',
  'limits',
  'purchases',
  'invoices',
  'recharge_rules',
  'recharge_schedules',
  'notification_channels',
  'api_tokens',
  'idempotency_keys',
  'audit_log',
  'outbox',
  'deliveries',
  'balance_alerts',
  'account_month_openings',
  'holds',
] as const;

/** The record of a table's column list: a migration that adds a column folds the table's rows in again. */
const COLUMNS_KEY = '#columns';

export type TableShape = { table: string; columns: string[]; keyColumns: string[] };

const quoted = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** `json_object('a', P.a, ...)`: the text both the triggers and verify compute for a row. */
export function rowJsonSql(shape: TableShape, prefix: string): string {
  return `json_object(${shape.columns.map((column) => `'${column}', ${prefix}${quoted(column)}`).join(', ')})`;
}

export function rowKeySql(shape: TableShape, prefix: string): string {
  return `json_array(${shape.keyColumns.map((column) => `${prefix}${quoted(column)}`).join(', ')})`;
}

export async function tableShape(db: SqlReader, table: string): Promise<TableShape> {
  const info = await db.all<{ name: string; pk: number }>('SELECT name, pk FROM pragma_table_info(?) ORDER BY cid', [table]);
  const skipped = RECOMPUTED_COLUMNS[table] ?? [];
  const keyColumns = info
    .filter((column) => column.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((column) => column.name);
  return { table, columns: info.map((column) => column.name).filter((name) => !skipped.includes(name)), keyColumns };
}

function triggerStatements(shape: TableShape): string[] {
  const { table } = shape;
  const insertRecord = (op: string, prefix: string, withRow: boolean): string =>
    `INSERT INTO state_log (table_name, row_key, op, row_json) VALUES ('${table}', ${rowKeySql(shape, prefix)}, '${op}', ${withRow ? rowJsonSql(shape, prefix) : 'NULL'});`;
  const changed = shape.columns.map((column) => `NEW.${quoted(column)} IS NOT OLD.${quoted(column)}`).join(' OR ');
  const keyMoved = `${rowKeySql(shape, 'OLD.')} IS NOT ${rowKeySql(shape, 'NEW.')}`;
  return [
    `DROP TRIGGER IF EXISTS state_log_${table}_insert`,
    `DROP TRIGGER IF EXISTS state_log_${table}_update`,
    `DROP TRIGGER IF EXISTS state_log_${table}_delete`,
    `CREATE TRIGGER state_log_${table}_insert AFTER INSERT ON ${quoted(table)} BEGIN ${insertRecord('insert', 'NEW.', true)} END`,
    // Only a change of a tracked column is a record: a balance update alone is not.
    `CREATE TRIGGER state_log_${table}_update AFTER UPDATE ON ${quoted(table)} WHEN ${changed} BEGIN
       INSERT INTO state_log (table_name, row_key, op, row_json) SELECT '${table}', ${rowKeySql(shape, 'OLD.')}, 'delete', NULL WHERE ${keyMoved};
       ${insertRecord('update', 'NEW.', true)} END`,
    `CREATE TRIGGER state_log_${table}_delete AFTER DELETE ON ${quoted(table)} BEGIN ${insertRecord('delete', 'OLD.', false)} END`,
  ];
}

export function triggerNames(table: string): string[] {
  return ['insert', 'update', 'delete'].map((op) => `state_log_${table}_${op}`);
}

/**
 * Run after every migration, in its transaction: (re)creates the triggers from the tables' current
 * columns, and folds a table's rows into the log once when its column list is new (the first
 * upgrade of an old ledger, or a migration that added a column), so old rows verify afterwards.
 */
export async function installStateLog(tx: WriteTx): Promise<void> {
  for (const table of TRACKED_TABLES) {
    const shape = await tableShape(tx, table);
    const columnsJson = JSON.stringify(shape.columns);
    const known = await tx.get<{ rowJson: string }>(
      "SELECT row_json AS rowJson FROM state_log WHERE table_name = ? AND row_key = ? AND op = 'columns' ORDER BY seq DESC LIMIT 1",
      [table, COLUMNS_KEY],
    );
    if (known?.rowJson !== columnsJson) {
      tx.run("INSERT INTO state_log (table_name, row_key, op, row_json) VALUES (?, ?, 'columns', ?)", [table, COLUMNS_KEY, columnsJson]);
      tx.run(
        `INSERT INTO state_log (table_name, row_key, op, row_json) SELECT '${table}', ${rowKeySql(shape, '')}, 'fold', ${rowJsonSql(shape, '')} FROM ${quoted(table)}`,
      );
    }
    for (const statement of triggerStatements(shape)) tx.run(statement);
  }
}

/**
 * A write transaction's work, with the state-log records its triggers append sealed before the
 * driver commits (nothing to seal in a dry run, which is rolled back). Both drivers run it.
 */
export async function withSealedStateLog<T>(tx: WriteTx, options: WriteOptions, work: (tx: WriteTx) => Promise<T>): Promise<T> {
  if (options.dryRun) return work(tx);
  // A remote write reads its mark together with its first read: no round trip of its own.
  const ahead = tx.readAhead && !options.migrating ? tx.readAhead<{ seq: number | null }>(MARK_SQL) : undefined;
  const mark = ahead ? undefined : await stateLogMark(tx);
  const result = await work(tx);
  await sealStateLog(tx, mark ?? (await ahead!.rows())[0]?.seq ?? 0);
  return result;
}

const MARK_SQL = 'SELECT max(seq) AS seq FROM state_log';

type LogRecord = { seq: number; tableName: string; rowKey: string; op: string; rowJson: string | null };

/** What a record's hash covers, after the previous record's hash. */
export function recordContent(record: LogRecord): string {
  return `${record.seq}\n${record.tableName}\n${record.rowKey}\n${record.op}\n${record.rowJson ?? ''}`;
}

/**
 * The last record before a write transaction's work: sealStateLog() seals only what came after
 * it, so a record left unsealed by someone else's raw SQL stays unsealed (and named by verify)
 * instead of being vouched for by the next credits write. One primary-key read.
 */
export async function stateLogMark(tx: WriteTx): Promise<number> {
  try {
    return (await tx.get<{ seq: number | null }>(MARK_SQL))?.seq ?? 0;
  } catch (error) {
    // A database being created or migrated before the state log existed.
    if (/no such table: state_log/i.test(String((error as Error).message))) return 0;
    throw error;
  }
}

/**
 * Hashes the records this transaction's triggers appended (after `mark`), chained to the last
 * sealed record before them. Called by both drivers just before COMMIT; one read (of the
 * primary-key range after the mark: an empty one when nothing changed), which also brings the
 * previous hash along.
 */
export async function sealStateLog(tx: WriteTx, mark: number): Promise<void> {
  let rows: (LogRecord & { hash: string | null })[];
  try {
    rows = await tx.all<LogRecord & { hash: string | null }>(
      `SELECT seq, table_name AS tableName, row_key AS rowKey, op, row_json AS rowJson, hash FROM state_log WHERE hash IS NULL AND seq > ?
       UNION ALL
       SELECT * FROM (SELECT seq, table_name, row_key, op, row_json, hash FROM state_log
         WHERE hash IS NOT NULL AND seq < (SELECT min(seq) FROM state_log WHERE hash IS NULL AND seq > ?) ORDER BY seq DESC LIMIT 1)
       ORDER BY 1`,
      [mark, mark],
    );
  } catch (error) {
    if (/no such table: state_log/i.test(String((error as Error).message))) return;
    throw error;
  }
  const unsealed = rows.filter((row) => row.hash === null);
  if (unsealed.length === 0) return;
  let previousHash = rows[0]!.hash ?? GENESIS_HASH;
  const updates: (string | number)[][] = [];
  for (const record of unsealed) {
    const hash = chainHash(previousHash, recordContent(record));
    updates.push([previousHash, hash, record.seq]);
    previousHash = hash;
  }
  tx.runMany('UPDATE state_log SET prev_hash = ?, hash = ? WHERE seq = ?', updates);
}
