import BetterSqlite3 from 'better-sqlite3';
import { LockWaiters, STEP_BACK_MS } from './lockWaiters.js';
import { toCreditsError } from './sqlErrors.js';
import { withSealedStateLog } from './stateLog.js';
import { WriteQueue, type Database, type Row, type SqlValue, type WriteOptions, type WriteTx } from './driver.js';

/**
 * How a connection waits for a lock: 'sync' (the default) sleeps the thread, right for a one-shot
 * CLI that has nothing else to do; 'async' (`credits serve`) never blocks the event loop: every
 * statement runs with busy_timeout 0 and, on SQLITE_BUSY, is tried again after a timer, so the
 * server keeps answering /health and reads while another process holds the write lock. The
 * async mode always waits this way (CREDITS_LOCK_MODE=busy_timeout applies to the sync mode only).
 */
export type LockWait = 'sync' | 'async';

export type LocalOptions = { path: string; fileMustExist: boolean; busyTimeoutMs: number; lockWait?: LockWait | undefined };

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

/**
 * Async mode retries every 1-4 ms however long it has waited: a writer that holds the lock for
 * long (an import) steps back for STEP_BACK_MS between its batches when it sees a waiter
 * (lockWaiters.ts), and a longer retry interval would miss that gap. A failed BEGIN costs
 * microseconds.
 */
function asyncBackoffMs(): number {
  return 1 + Math.random() * 3;
}

function isBusy(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? '');
  return code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_');
}

export function openLocalDatabase(options: LocalOptions): Database {
  let db: BetterSqlite3.Database;
  const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs));
  const lockWait = options.lockWait ?? 'sync';
  try {
    db = new BetterSqlite3(options.path, { fileMustExist: options.fileMustExist });
    db.pragma(`busy_timeout = ${lockWait === 'async' ? 0 : busyTimeoutMs}`);
    // journal_mode = WAL is set before the first write, not here: it rewrites the file header,
    // and a file that turns out to be another program's (or a newer ledger) must stay untouched.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    throw toCreditsError(error, options.path);
  }
  return new LocalDatabase(db, options.path, busyTimeoutMs, lockModeFromEnvironment(), lockWait);
}

/**
 * A reading statement in raw mode (each row an array) and its column names. better-sqlite3 builds
 * a row object through V8's API one property at a time: for a hold's 17 columns that took about
 * 8 µs a row, and the same object built here from the array about 2 µs (bench/holds.mjs).
 */
type Reader = { statement: BetterSqlite3.Statement; names: string[] };

function rowOf(reader: Reader, values: SqlValue[]): Row {
  // A statement prepared before a migration that changed its columns (SELECT *) names them again.
  if (values.length !== reader.names.length) reader.names = reader.statement.columns().map((column) => column.name);
  const { names } = reader;
  const row: Row = {};
  for (let index = 0; index < names.length; index += 1) row[names[index]!] = values[index]!;
  return row;
}

class LocalDatabase implements Database {
  readonly kind = 'local' as const;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly readers = new Map<string, Reader | null>();
  private readonly writes = new WriteQueue();
  private readonly waiters: LockWaiters;
  private walReady = false;

  constructor(
    private readonly db: BetterSqlite3.Database,
    readonly location: string,
    private readonly busyTimeoutMs: number,
    private readonly lockMode: LockMode,
    private readonly lockWait: LockWait,
  ) {
    this.waiters = new LockWaiters(location);
  }

  /**
   * BEGIN IMMEDIATE, waiting at most busyTimeoutMs for another process's write lock (see
   * LockMode and LockWait). Sync reads keep the busy_timeout pragma: in WAL mode they rarely wait at all.
   */
  private async beginImmediate(): Promise<void> {
    if (this.lockWait === 'async') {
      await this.whenNotBusy(
        () => this.db.exec('BEGIN IMMEDIATE'),
        () => this.waiters.markWaiting(Date.now()),
      );
      this.waiters.doneWaiting();
      return;
    }
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
          this.waiters.doneWaiting();
          return;
        } catch (error) {
          const left = deadline - Date.now();
          if (!isBusy(error) || left <= 0) throw toCreditsError(error, this.location);
          this.waiters.markWaiting(Date.now());
          pause(Math.min(left, 1 + Math.random() * 3));
        }
      }
    } finally {
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  /**
   * Async mode: runs `attempt` (busy_timeout is 0 here) and, while SQLite says SQLITE_BUSY, tries
   * again after a timer until busyTimeoutMs is spent, then fails as the sync mode does (STORAGE_BUSY).
   */
  private async whenNotBusy<T>(attempt: () => T, onBusy?: () => void): Promise<T> {
    const startedMs = Date.now();
    for (;;) {
      try {
        return attempt();
      } catch (error) {
        const waitedMs = Date.now() - startedMs;
        const leftMs = this.busyTimeoutMs - waitedMs;
        if (!isBusy(error) || leftMs <= 0) throw toCreditsError(error, this.location);
        onBusy?.();
        await new Promise((resolve) => setTimeout(resolve, Math.min(leftMs, asyncBackoffMs())));
      }
    }
  }

  /** A read: in async mode a busy file (WAL recovery, a file not yet in WAL mode) is waited for by timer. */
  private read<T>(work: () => T): Promise<T> {
    if (this.lockWait === 'async' && !this.db.inTransaction) return this.whenNotBusy(work);
    return Promise.resolve(this.guard(work));
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

  /** The raw-mode reader of a statement that returns rows; null for one that does not (all() then fails as before). */
  private reader(sql: string): Reader | null {
    let reader = this.readers.get(sql);
    if (reader === undefined) {
      const statement = this.db.prepare(sql);
      reader = statement.reader ? { statement: statement.raw(true), names: statement.columns().map((column) => column.name) } : null;
      this.readers.set(sql, reader);
    }
    return reader;
  }

  async all<T extends object = Row>(sql: string, args: SqlValue[] = []): Promise<T[]> {
    return this.read(() => {
      const reader = this.reader(sql);
      if (reader === null) return this.prepare(sql).all(...args) as T[];
      const rows = reader.statement.all(...args) as SqlValue[][];
      const result: Row[] = new Array(rows.length);
      for (let index = 0; index < rows.length; index += 1) result[index] = rowOf(reader, rows[index]!);
      return result as T[];
    });
  }

  async get<T extends object = Row>(sql: string, args: SqlValue[] = []): Promise<T | undefined> {
    return this.read(() => {
      const reader = this.reader(sql);
      if (reader === null) return this.prepare(sql).get(...args) as T | undefined;
      const values = reader.statement.get(...args) as SqlValue[] | undefined;
      return values === undefined ? undefined : (rowOf(reader, values) as T);
    });
  }

  /** Every write path calls this first; the mode is kept in the file, so it runs once per open. */
  private async useWriteAheadLog(): Promise<void> {
    if (this.walReady) return;
    await this.read(() => this.db.pragma('journal_mode = WAL'));
    this.walReady = true;
  }

  write<T>(work: (tx: WriteTx) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    return this.writes.enqueue(async () => {
      await this.useWriteAheadLog();
      await this.beginImmediate();
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
        const result = await withSealedStateLog(tx, options, work);
        const end = options.dryRun ? 'ROLLBACK' : 'COMMIT';
        // A COMMIT that finds readers (a file that could not switch to WAL) may be retried.
        if (this.lockWait === 'async') await this.whenNotBusy(() => this.db.exec(end));
        else this.guard(() => this.db.exec(end));
        await this.stepBackForWaiters();
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw toCreditsError(error, this.location);
      }
    });
  }

  /**
   * After a commit: a writer of another connection is waiting, so it gets the lock first (see
   * LockWaiters). The server answers its caller at once and holds back only its next write; the
   * CLI, which has nothing else to do, sleeps.
   */
  private async stepBackForWaiters(): Promise<void> {
    if (!this.waiters.someoneWaiting(Date.now())) return;
    if (this.lockWait === 'async') void this.writes.enqueue(() => new Promise((resolve) => setTimeout(resolve, STEP_BACK_MS)));
    else pause(STEP_BACK_MS);
  }

  async execScript(sql: string): Promise<void> {
    await this.useWriteAheadLog();
    this.guard(() => this.db.exec(sql));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
