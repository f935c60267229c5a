import BetterSqlite3 from 'better-sqlite3';
import { toCreditsError } from './sqlErrors.js';
import { WriteQueue, type Database, type Row, type SqlValue, type WriteOptions, type WriteTx } from './driver.js';

export type LocalOptions = { path: string; fileMustExist: boolean; busyTimeoutMs: number };

/**
 * How a write waits for another process's write lock. 'fair' (the default): BEGIN IMMEDIATE with
 * busy_timeout 0, retried after short random sleeps (1-4 ms) until the wait time is over.
 * SQLite's own busy handler backs off to 100 ms between attempts, so a writer that has waited a
 * while keeps losing the lock to newcomers (measured: 2-4 s waits with 6 processes); a short,
 * constant retry interval keeps every waiter in the race. 'busy_timeout' is the old behaviour,
 * kept as the baseline for bench/concurrency.mjs (CREDITS_LOCK_MODE=busy_timeout).
 */
export type LockMode = 'fair' | 'busy_timeout';

function lockModeFromEnvironment(): LockMode {
  return process.env.CREDITS_LOCK_MODE === 'busy_timeout' ? 'busy_timeout' : 'fair';
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** A synchronous sleep: the CLI has nothing else to do while it waits for the lock. */
function pause(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

function isBusy(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? '');
  return code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_');
}

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
  return new LocalDatabase(db, options.path, Math.max(0, Math.floor(options.busyTimeoutMs)), lockModeFromEnvironment());
}

class LocalDatabase implements Database {
  readonly kind = 'local' as const;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly writes = new WriteQueue();
  private walReady = false;

  constructor(
    private readonly db: BetterSqlite3.Database,
    readonly location: string,
    private readonly busyTimeoutMs: number,
    private readonly lockMode: LockMode,
  ) {}

  /**
   * BEGIN IMMEDIATE, waiting at most busyTimeoutMs for another process's write lock (see
   * LockMode). Reads keep the busy_timeout pragma: in WAL mode they rarely wait at all.
   */
  private beginImmediate(): void {
    if (this.lockMode === 'busy_timeout') {
      this.guard(() => this.db.exec('BEGIN IMMEDIATE'));
      return;
    }
    const deadline = Date.now() + this.busyTimeoutMs;
    this.db.pragma('busy_timeout = 0');
    try {
      for (;;) {
        try {
          this.db.exec('BEGIN IMMEDIATE');
          return;
        } catch (error) {
          const left = deadline - Date.now();
          if (!isBusy(error) || left <= 0) throw toCreditsError(error, this.location);
          pause(Math.min(left, 1 + Math.random() * 3));
        }
      }
    } finally {
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

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
      this.beginImmediate();
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
