/**
 * The one interface the repositories speak to, over better-sqlite3 (a local file) or
 * @libsql/client (a remote libSQL server). schema.ts defines the tables for drizzle-kit, which
 * writes migrations/ (applied by migrate.ts, without the ORM); queries here are plain SQL
 * because a remote write must be "reads, then one atomic batch": the remote driver queues every
 * write and sends them in one round trip, which an ORM's statement-at-a-time transaction cannot do.
 */
import type { DepartmentScope } from './scope.js';

export type SqlValue = string | number | null;
export type Row = Record<string, SqlValue>;
export type Statement = { sql: string; args: SqlValue[] };

export interface SqlReader {
  /** The department scope of the principal this handle works for (see scope.ts); none for an unbound one. */
  readonly scope?: DepartmentScope | null;
  all<T extends object = Row>(sql: string, args?: SqlValue[]): Promise<T[]>;
  get<T extends object = Row>(sql: string, args?: SqlValue[]): Promise<T | undefined>;
}

export interface WriteTx extends SqlReader {
  /** Runs at once on a local file; queued until the next read or the commit on a remote server. */
  run(sql: string, args?: SqlValue[]): void;
  /** The same statement for many rows (bulk import): a prepared loop locally, one batch remotely. */
  runMany(sql: string, rows: SqlValue[][]): void;
  /**
   * Local files only: runs an INSERT ... ON CONFLICT DO NOTHING at once and tells whether it
   * wrote a row. Lets a bulk import use the unique index itself as its duplicate check.
   */
  readonly insertIfAbsent?: (sql: string, args: SqlValue[]) => boolean;
  /**
   * Remote servers only: a read sent ahead of this transaction's queued writes with its next
   * round trip (the state log's mark), so it costs no round trip of its own. `rows()` waits for
   * that round trip, or makes it when nothing else did.
   */
  readonly readAhead?: <T extends object = Row>(sql: string, args?: SqlValue[]) => { rows(): Promise<T[]> };
  /**
   * Remote servers only: a read queued in order with the writes (it sees what was queued before
   * it), sent with the next round trip. Several independent reads then cost one round trip.
   */
  readonly readInOrder?: <T extends object = Row>(sql: string, args?: SqlValue[]) => { rows(): Promise<T[]> };
}

/**
 * A read that may travel with the next round trip of a remote write (WriteTx.readInOrder); on a
 * local file it runs at once. Either way it sees what the transaction wrote before it.
 */
export function queuedRead<T extends object = Row>(tx: WriteTx, sql: string, args: SqlValue[] = []): () => Promise<T[]> {
  if (tx.readInOrder) {
    const read = tx.readInOrder<T>(sql, args);
    return () => read.rows();
  }
  const rows = tx.all<T>(sql, args);
  rows.catch(() => undefined); // awaited by the caller; not an unhandled rejection meanwhile
  return () => rows;
}

/** migrating: the write that applies migrations, when tables the other writes rely on may not exist yet. */
export type WriteOptions = { dryRun?: boolean; migrating?: boolean };

export interface Database extends SqlReader {
  readonly kind: 'local' | 'remote';
  /** The path or URL, for messages (never with a token). */
  readonly location: string;
  /**
   * Runs `work` in one write transaction (BEGIN IMMEDIATE locally): every check inside it sees
   * the state the writes apply to. With dryRun the transaction is rolled back after `work`.
   */
  write<T>(work: (tx: WriteTx) => Promise<T>, options?: WriteOptions): Promise<T>;
  /** A script of several statements (migrations), outside any transaction of ours. */
  execScript(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** Serialises write transactions of one process: one connection has one transaction at a time. */
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();

  enqueue<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
