import BetterSqlite3 from 'better-sqlite3';
import { toCreditsError } from './sqlErrors.js';
import { WriteQueue, type Database, type Row, type SqlValue, type WriteOptions, type WriteTx } from './driver.js';

export type LocalOptions = { path: string; fileMustExist: boolean; busyTimeoutMs: number };

export function openLocalDatabase(options: LocalOptions): Database {
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(options.path, { fileMustExist: options.fileMustExist });
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`);
    // journal_mode = WAL is set before the first write, not here: it rewrites the file header,
    // and a file that turns out to be another program's (or a newer ledger) must stay untouched.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    throw toCreditsError(error, options.path);
  }
  return new LocalDatabase(db, options.path);
}

class LocalDatabase implements Database {
  readonly kind = 'local' as const;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly writes = new WriteQueue();
  private walReady = false;

  constructor(
    private readonly db: BetterSqlite3.Database,
    readonly location: string,
  ) {}

  private prepare(sql: string): BetterSqlite3.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw toCreditsError(error, this.location);
    }
  }

  async all<T extends object = Row>(sql: string, args: SqlValue[] = []): Promise<T[]> {
    return this.guard(() => this.prepare(sql).all(...args) as T[]);
  }

  async get<T extends object = Row>(sql: string, args: SqlValue[] = []): Promise<T | undefined> {
    return this.guard(() => this.prepare(sql).get(...args) as T | undefined);
  }

  /** Every write path calls this first; the mode is kept in the file, so it runs once per open. */
  private useWriteAheadLog(): void {
    if (this.walReady) return;
    this.guard(() => this.db.pragma('journal_mode = WAL'));
    this.walReady = true;
  }

  write<T>(work: (tx: WriteTx) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    return this.writes.enqueue(async () => {
      this.useWriteAheadLog();
      this.guard(() => this.db.exec('BEGIN IMMEDIATE'));
      try {
        const tx: WriteTx = {
          all: (sql, args) => this.all(sql, args),
          get: (sql, args) => this.get(sql, args),
          run: (sql, args = []) => {
            this.guard(() => this.prepare(sql).run(...args));
          },
          insertIfAbsent: (sql, args) => this.guard(() => this.prepare(sql).run(...args).changes > 0),
          runMany: (sql, rows) => {
            const statement = this.guard(() => this.prepare(sql));
            this.guard(() => {
              for (const row of rows) statement.run(...row);
            });
          },
        };
        const result = await work(tx);
        this.guard(() => this.db.exec(options.dryRun ? 'ROLLBACK' : 'COMMIT'));
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw toCreditsError(error, this.location);
      }
    });
  }

  async execScript(sql: string): Promise<void> {
    this.useWriteAheadLog();
    this.guard(() => this.db.exec(sql));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** For migrations through drizzle, which wants the raw client. */
  get raw(): BetterSqlite3.Database {
    return this.db;
  }
}
