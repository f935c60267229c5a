// The two remote entries only: the package's main entry also loads the `libsql` package, whose
// native addon (for file: URLs, which a local ledger opens with better-sqlite3) we never need.
import { createClient as createHttpClient, type Client, type InStatement, type ResultSet, type Transaction } from '@libsql/client/http';
import { createClient as createWsClient } from '@libsql/client/ws';
import { CreditsError } from '../core/errors.js';
import { redactUrl, refuseCredentialsOverHttp, serverAnswersHealth } from './remoteUrl.js';
import { Deadline, DeadlineExpired, type RemotePhase } from './deadline.js';
import { toCreditsError } from './sqlErrors.js';
import { withSealedStateLog } from './stateLog.js';
import { WriteQueue, type Database, type Row, type SqlValue, type WriteOptions, type WriteTx } from './driver.js';

export type RemoteOptions = { url: string; authToken: string | undefined; busyTimeoutMs?: number | undefined; timeoutMs?: number | undefined };

/** The server answered that another connection holds the write lock (its own wait ran out). */
function isBusy(error: unknown): boolean {
  return /SQLITE_BUSY|database is locked/i.test(errorText(error));
}

/** The server ended our transaction or stream because it lasted too long: it rolled it back. */
function isExpiredStream(error: unknown): boolean {
  return /STREAM_EXPIRED|TRANSACTION_TIMEOUT|stream (has )?expired|transaction timed out/i.test(errorText(error));
}

/**
 * The server ran the batch and answered with a statement's error (a hrana ResponseError carries the
 * server's `proto` error): the steps after it, COMMIT among them, were skipped, so nothing was
 * committed. Anything else after COMMIT was sent (a lost answer, a deadline) leaves the outcome unknown.
 */
function answeredByServer(error: unknown): boolean {
  const cause = (error as { cause?: { proto?: unknown } })?.cause;
  return typeof cause?.proto === 'object' && cause.proto !== null;
}

/**
 * After a server's answer to the batch that held COMMIT: a ROLLBACK that succeeds on the still
 * open stream proves the transaction was still open, so COMMIT did not run. A closed stream (the
 * whole request failed, perhaps after the server ran it) or a failed ROLLBACK proves nothing.
 */
async function rolledBack(transaction: Transaction | undefined): Promise<boolean> {
  if (!transaction || transaction.closed) return false;
  try {
    await Deadline.starting(Date.now(), 1000, 1000).race(transaction.rollback(), 'work');
    return true;
  } catch {
    return false;
  }
}

function errorText(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  return `${String((error as { code?: unknown })?.code ?? '')} ${error instanceof Error ? error.message : String(error)} ${cause instanceof Error ? cause.message : ''}`;
}

/**
 * http:// and https:// speak Hrana over HTTP; ws://, wss:// and libsql:// over a WebSocket (as the
 * package's main entry chose for libsql://: wss://, or ws:// with ?tls=0).
 */
function clientFor(url: string): typeof createHttpClient {
  return /^https?:/i.test(url) ? createHttpClient : createWsClient;
}

export function openRemoteDatabase(options: RemoteOptions): Database {
  refuseCredentialsOverHttp(options.url);
  const createClient = clientFor(options.url);
  const connect = (): Client => createClient({ url: options.url, authToken: options.authToken, intMode: 'number' });
  let client: Client;
  try {
    client = connect();
  } catch (error) {
    // A typo in --db is the user's to fix, not an internal error.
    const reason = (error instanceof Error ? error.message : String(error)).replace(/^URL_INVALID:\s*/, '');
    throw new CreditsError('INVALID_VALUE', `${redactUrl(options.url)} is not a valid ledger URL: ${reason}`, {
      hint: 'use libsql://HOST, https://HOST or wss://HOST (http:// and ws:// for a server on this machine)',
      cause: error,
    });
  }
  return new RemoteDatabase(client, connect, options.url, { busyTimeoutMs: options.busyTimeoutMs ?? 5000, timeoutMs: options.timeoutMs ?? 30_000 });
}

function rowsOf<T>(result: { rows: unknown[] }): T[] {
  // libSQL rows also answer to column indexes; plain objects keep JSON output and spreads clean.
  return result.rows.map((row) => ({ ...(row as object) }) as T);
}

type Timeouts = { busyTimeoutMs: number; timeoutMs: number };

/** A read that travels at the head of the transaction's next round trip (see WriteTx.readAhead). */
type AheadRead = { statement: InStatement; rows: Promise<Row[]>; resolve(rows: Row[]): void; reject(error: unknown): void };

function aheadRead(statement: InStatement): AheadRead {
  let resolve!: (rows: Row[]) => void;
  let reject!: (error: unknown) => void;
  const rows = new Promise<Row[]>((resolveRows, rejectRows) => {
    resolve = resolveRows;
    reject = rejectRows;
  });
  // Nobody may be waiting when a failed round trip rejects it; the round trip's own error is reported.
  rows.catch(() => undefined);
  return { statement, rows, resolve, reject };
}

class RemoteDatabase implements Database {
  readonly kind = 'remote' as const;
  readonly location: string;
  private readonly writes = new WriteQueue();
  /** Connections given up on: a call still running on one fails with "manually closed". */
  private readonly abandoned = new WeakSet<Client>();

  constructor(
    private client: Client | undefined,
    private readonly connect: () => Client,
    private readonly url: string,
    private readonly timeouts: Timeouts,
  ) {
    this.location = redactUrl(url);
  }

  /** The connection, made again after one was given up. */
  private get connection(): Client {
    this.client ??= this.connect();
    return this.client;
  }

  /**
   * A call that did not answer in time leaves its connection behind: nothing more is sent down
   * it. Only that connection: a newer one, made since by other calls, is theirs and stays.
   */
  private abandonConnection(client: Client | undefined): void {
    if (client === undefined) return;
    if (this.client === client) this.client = undefined;
    this.abandoned.add(client);
    try {
      client.close();
    } catch {
      // Closing a dead connection can fail; it is dropped either way.
    }
  }

  private deadline(): Deadline {
    return Deadline.starting(Date.now(), this.timeouts.busyTimeoutMs, Math.max(this.timeouts.timeoutMs, this.timeouts.busyTimeoutMs));
  }

  async all<T extends object = Row>(sql: string, args: SqlValue[] = []): Promise<T[]> {
    const client = this.connection;
    try {
      return rowsOf<T>(await this.deadline().race(client.execute({ sql, args }), 'read'));
    } catch (error) {
      if (error instanceof DeadlineExpired) this.abandonConnection(client);
      throw await this.failure(this.cutOff(error, client, 'read'), 'read');
    }
  }

  /**
   * A call cut off because its connection was given up while it ran (another call on it did not
   * answer in time: requests of a server share one connection) failed for the same reason as
   * that call, not by a fault of its own: it is told as a deadline of its own phase would be.
   */
  private cutOff(error: unknown, client: Client, phase: RemotePhase): unknown {
    return !(error instanceof DeadlineExpired) && !(error instanceof CreditsError) && this.abandoned.has(client) ? new DeadlineExpired(phase) : error;
  }

  async get<T extends object = Row>(sql: string, args: SqlValue[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, args))[0];
  }

  /**
   * sqld answers SQLITE_BUSY to a BEGIN when other connections kept the write lock past its own
   * short wait (seen at ~0.6 s with 6 writers). The BEGIN goes with the first statement, so until
   * that has succeeded the work has seen nothing: it is started again after a short random pause,
   * until busyTimeoutMs (CREDITS_BUSY_TIMEOUT_MS) is over. The whole transaction must end within
   * timeoutMs (CREDITS_DB_TIMEOUT_MS).
   */
  write<T>(work: (tx: WriteTx) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    return this.writes.enqueue(async () => {
      const deadline = this.deadline();
      for (;;) {
        const attempt = await this.attemptWrite(work, options, deadline);
        if (attempt.done) return attempt.result;
        if (Date.now() >= deadline.lockAtMs) throw await this.failure(attempt.error, 'lock');
        await new Promise((resolveWait) => setTimeout(resolveWait, 1 + Math.random() * 4));
      }
    });
  }

  private async attemptWrite<T>(
    work: (tx: WriteTx) => Promise<T>,
    options: WriteOptions,
    deadline: Deadline,
  ): Promise<{ done: true; result: T } | { done: false; error: unknown }> {
    let transaction: Transaction | undefined;
    let phase: RemotePhase = 'lock';
    const client = this.connection;
    try {
      transaction = await deadline.race(client.transaction('write'), phase);
      const open = transaction;
      let queued: InStatement[] = [];
      let ahead: AheadRead[] = [];
      /** Reads queued among the writes (readInOrder), by their index in `queued`. */
      let inOrder = new Map<number, AheadRead>();
      /** One round trip: the reads sent ahead, the queued writes and reads, then `tail`; returns the tail's rows. */
      const send = async (tail: InStatement[]): Promise<Row[][]> => {
        const heads = ahead;
        const reads = inOrder;
        const batch = [...heads.map((head) => head.statement), ...queued, ...tail];
        ahead = [];
        queued = [];
        inOrder = new Map();
        if (batch.length === 0) return [];
        let results: ResultSet[];
        try {
          results = await deadline.race(open.batch(batch), phase);
        } catch (error) {
          for (const read of [...heads, ...reads.values()]) read.reject(error);
          throw error;
        }
        if (phase === 'lock') phase = 'work';
        for (const [index, head] of heads.entries()) head.resolve(rowsOf(results[index]!));
        for (const [index, read] of reads) read.resolve(rowsOf(results[heads.length + index]!));
        return results.slice(results.length - tail.length).map((result) => rowsOf(result));
      };
      const all = async <R extends object = Row>(sql: string, args: SqlValue[] = []): Promise<R[]> => (await send([{ sql, args }]))[0] as R[];
      const tx: WriteTx = {
        all,
        get: (async (sql: string, args: SqlValue[] = []) => (await all(sql, args))[0]) as WriteTx['get'],
        run: (sql, args = []) => {
          queued.push({ sql, args });
        },
        runMany: (sql, rows) => {
          for (const args of rows) queued.push({ sql, args });
        },
        readInOrder: <R extends object = Row>(sql: string, args: SqlValue[] = []) => {
          const read = aheadRead({ sql, args });
          inOrder.set(queued.length, read);
          queued.push(read.statement);
          return {
            rows: async () => {
              if ([...inOrder.values()].includes(read)) await send([]);
              return (await read.rows) as R[];
            },
          };
        },
        readAhead: <R extends object = Row>(sql: string, args: SqlValue[] = []) => {
          const read = aheadRead({ sql, args });
          ahead.push(read);
          return {
            rows: async () => {
              // Still waiting for a round trip: make one (the commit's flush, when the work read nothing).
              if (ahead.includes(read)) await send([]);
              return (await read.rows) as R[];
            },
          };
        },
      };
      const result = await withSealedStateLog(tx, options, work);
      if (options.dryRun) {
        await deadline.race(open.rollback(), phase);
      } else {
        // COMMIT rides with the last queued writes: one round trip less, and the server releases
        // the write lock as soon as it has run them.
        phase = 'commit';
        await send([{ sql: 'COMMIT', args: [] }]);
      }
      return { done: true, result };
    } catch (thrown) {
      if (phase === 'commit' && answeredByServer(thrown) && (await rolledBack(transaction))) phase = 'work';
      const error = this.cutOff(thrown, client, phase);
      if (error instanceof DeadlineExpired) {
        if (thrown instanceof DeadlineExpired) this.abandonConnection(client);
      } else if (transaction && !transaction.closed)
        await Deadline.starting(Date.now(), 1000, 1000)
          .race(transaction.rollback(), 'work')
          .catch(() => undefined);
      if (phase === 'lock' && isBusy(error)) return { done: false, error };
      throw await this.failure(error, phase);
    } finally {
      transaction?.close();
    }
  }

  /** What the caller is told: a failure after COMMIT was sent leaves the outcome unknown. */
  private async failure(error: unknown, phase: RemotePhase): Promise<CreditsError> {
    if (error instanceof CreditsError) return error;
    const seconds = `${(this.timeouts.timeoutMs / 1000).toFixed(1)} s`;
    if (phase === 'commit') {
      const why = error instanceof DeadlineExpired ? `no answer within ${seconds}` : errorText(error).trim();
      return new CreditsError(
        'OUTCOME_UNKNOWN',
        `the remote ledger ${this.location} did not confirm the commit (${why}): the write may or may not have been applied`,
        {
          hint: 'run the same command again with the same --idempotency-key: a write with a key is applied at most once',
          details: { outcome: 'unknown' },
          cause: error,
        },
      );
    }
    if (phase === 'lock' && (error instanceof DeadlineExpired || isBusy(error))) return this.lockNotGranted(error);
    if (error instanceof DeadlineExpired || isExpiredStream(error)) {
      const why = error instanceof DeadlineExpired ? `did not answer within ${seconds}` : 'ended the transaction because it lasted too long';
      return new CreditsError('STORAGE_TIMEOUT', `the remote ledger ${this.location} ${why}; nothing was written`, {
        hint: 'check that the server runs and is reachable, then run the command again; CREDITS_DB_TIMEOUT_MS sets the wait',
        details: { outcome: 'not applied' },
        cause: error,
      });
    }
    return toCreditsError(error, this.location);
  }

  /** The write lock never came: busy with another writer, or sqld's queue is stuck while it still answers. */
  private async lockNotGranted(error: unknown): Promise<CreditsError> {
    const waited = `${(this.timeouts.busyTimeoutMs / 1000).toFixed(1)} s`;
    if (await serverAnswersHealth(this.url)) {
      return new CreditsError(
        'STORAGE_BUSY',
        `the remote ledger ${this.location} did not grant its write lock within ${waited} although the server answers /health: another writer holds it, or the server's write lock is stuck (a known bug of sqld 0.24.32 with concurrent write transactions); nothing was written`,
        {
          hint: 'if writes keep failing, restart sqld: that clears a stuck lock. Writers that share one `credits serve` (--server) never trigger it; CREDITS_BUSY_TIMEOUT_MS sets the wait',
          details: { outcome: 'not applied' },
          cause: error,
        },
      );
    }
    return new CreditsError('STORAGE_TIMEOUT', `the remote ledger ${this.location} did not answer within ${waited}; nothing was written`, {
      hint: 'check that the server runs and is reachable, then run the command again',
      details: { outcome: 'not applied' },
      cause: error,
    });
  }

  async execScript(sql: string): Promise<void> {
    const client = this.connection;
    try {
      await this.deadline().race(client.executeMultiple(sql), 'work');
    } catch (error) {
      if (error instanceof DeadlineExpired) this.abandonConnection(client);
      throw await this.failure(this.cutOff(error, client, 'work'), 'work');
    }
  }

  async close(): Promise<void> {
    this.abandonConnection(this.client);
  }
}
