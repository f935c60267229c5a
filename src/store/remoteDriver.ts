import { createClient, type Client, type InStatement, type Transaction } from '@libsql/client';
import { CreditsError } from '../core/errors.js';
import { toCreditsError } from './sqlErrors.js';
import { withSealedStateLog } from './stateLog.js';
import { WriteQueue, type Database, type Row, type SqlValue, type WriteOptions, type WriteTx } from './driver.js';

export type RemoteOptions = { url: string; authToken: string | undefined; busyTimeoutMs?: number | undefined };

/** The server answered that another connection holds the write lock (its own wait ran out). */
function isBusy(error: unknown): boolean {
  const cause = (error as { cause?: unknown })?.cause;
  const text = `${String((error as { code?: unknown })?.code ?? '')} ${error instanceof Error ? error.message : String(error)} ${cause instanceof Error ? cause.message : ''}`;
  return /SQLITE_BUSY|database is locked/i.test(text);
}

export function openRemoteDatabase(options: RemoteOptions): Database {
  refuseCredentialsOverHttp(options.url);
  let client: Client;
  try {
    client = createClient({ url: options.url, authToken: options.authToken, intMode: 'number' });
  } catch (error) {
    // A typo in --db is the user's to fix, not an internal error.
    const reason = (error instanceof Error ? error.message : String(error)).replace(/^URL_INVALID:\s*/, '');
    throw new CreditsError('INVALID_VALUE', `${redactUrl(options.url)} is not a valid ledger URL: ${reason}`, {
      hint: 'use libsql://HOST, https://HOST or wss://HOST (http:// and ws:// for a server on this machine)',
      cause: error,
    });
  }
  return new RemoteDatabase(client, redactUrl(options.url), options.busyTimeoutMs ?? 5000);
}

/**
 * libsql:// and http(s):// go over fetch, which refuses a URL with a user name or password, and
 * its error message repeats the URL, secret included. Say so without the secret instead.
 */
function refuseCredentialsOverHttp(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return;
  }
  if (/^(libsql|https?):$/i.test(parsed.protocol) && (parsed.username !== '' || parsed.password !== '')) {
    throw new CreditsError('INVALID_VALUE', `the ledger URL ${redactUrl(url)} must not carry a user name or password`, {
      hint: 'remove them from the URL and set CREDITS_DB_AUTH_TOKEN to the token',
    });
  }
}

/** A URL for messages: user info and query strings may carry secrets. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    return parsed.toString().replace(/(\/\/[^/]+)\/$/, '$1');
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//').replace(/\?.*$/, '');
  }
}

function rowsOf<T>(result: { rows: unknown[] }): T[] {
  // libSQL rows also answer to column indexes; plain objects keep JSON output and spreads clean.
  return result.rows.map((row) => ({ ...(row as object) }) as T);
}

class RemoteDatabase implements Database {
  readonly kind = 'remote' as const;
  private readonly writes = new WriteQueue();

  constructor(
    private readonly client: Client,
    readonly location: string,
    private readonly busyTimeoutMs: number,
  ) {}

  async all<T extends object = Row>(sql: string, args: SqlValue[] = []): Promise<T[]> {
    try {
      return rowsOf<T>(await this.client.execute({ sql, args }));
    } catch (error) {
      throw toCreditsError(error, this.location);
    }
  }

  async get<T extends object = Row>(sql: string, args: SqlValue[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, args))[0];
  }

  /**
   * sqld answers SQLITE_BUSY to a BEGIN when other connections kept the write lock past its own
   * short wait (seen at ~0.6 s with 6 writers). The BEGIN goes with the first statement, so until
   * that has succeeded the work has seen nothing: it is started again after a short random pause,
   * until busyTimeoutMs (CREDITS_BUSY_TIMEOUT_MS) is over.
   */
  write<T>(work: (tx: WriteTx) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    return this.writes.enqueue(async () => {
      const deadline = Date.now() + this.busyTimeoutMs;
      for (;;) {
        const attempt = await this.attemptWrite(work, options);
        if (attempt.done) return attempt.result;
        if (Date.now() >= deadline) throw toCreditsError(attempt.error, this.location);
        await new Promise((resolveWait) => setTimeout(resolveWait, 1 + Math.random() * 4));
      }
    });
  }

  private async attemptWrite<T>(
    work: (tx: WriteTx) => Promise<T>,
    options: WriteOptions,
  ): Promise<{ done: true; result: T } | { done: false; error: unknown }> {
    {
      let transaction: Transaction | undefined;
      let began = false;
      try {
        transaction = await this.client.transaction('write');
        const open = transaction;
        let queued: InStatement[] = [];
        const flush = async (): Promise<void> => {
          if (queued.length === 0) return;
          const batch = queued;
          queued = [];
          await open.batch(batch);
          began = true;
        };
        const all = async <R extends object = Row>(sql: string, args: SqlValue[] = []): Promise<R[]> => {
          await flush();
          const rows = rowsOf<R>(await open.execute({ sql, args }));
          began = true;
          return rows;
        };
        const tx: WriteTx = {
          all,
          get: (async (sql: string, args: SqlValue[] = []) => (await all(sql, args))[0]) as WriteTx['get'],
          run: (sql, args = []) => {
            queued.push({ sql, args });
          },
          runMany: (sql, rows) => {
            for (const args of rows) queued.push({ sql, args });
          },
        };
        const result = await withSealedStateLog(tx, options.dryRun === true, work);
        if (options.dryRun) {
          await open.rollback();
        } else {
          await flush();
          await open.commit();
        }
        return { done: true, result };
      } catch (error) {
        if (transaction && !transaction.closed) await transaction.rollback().catch(() => undefined);
        if (!began && isBusy(error)) return { done: false, error };
        throw toCreditsError(error, this.location);
      } finally {
        transaction?.close();
      }
    }
  }

  async execScript(sql: string): Promise<void> {
    try {
      await this.client.executeMultiple(sql);
    } catch (error) {
      throw toCreditsError(error, this.location);
    }
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
