import { CreditsError, isCreditsError } from '../core/errors.js';

/**
 * Maps what SQLite or a libSQL server said to our stable codes. libSQL reports most failures as
 * SQLITE_UNKNOWN with the original text, so the message is matched as well as the code.
 */
export function toCreditsError(error: unknown, location: string): CreditsError {
  if (isCreditsError(error)) return error;
  const code = String((error as { code?: unknown })?.code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: unknown })?.cause;
  const causeText = cause instanceof Error ? `${cause.message} ${String((cause as { code?: unknown }).code ?? '')}` : '';
  const text = `${code} ${message} ${causeText}`;

  if (/SQLITE_BUSY|database is locked/i.test(text)) {
    return new CreditsError('STORAGE_BUSY', `the ledger ${location} stayed locked by another process past the wait time`, {
      hint: 'try again; set CREDITS_BUSY_TIMEOUT_MS to wait longer',
      cause: error,
    });
  }
  if (/SQLITE_NOTADB|file is not a database/i.test(text)) {
    return new CreditsError('NOT_A_LEDGER', `${location} is not a SQLite database`, { hint: 'point --db at a ledger made by `credits init`', cause: error });
  }
  if (/SQLITE_CORRUPT|malformed/i.test(text)) {
    return new CreditsError('INTEGRITY_FAILED', `the ledger file ${location} is damaged: ${message}`, { hint: 'restore it from a backup', cause: error });
  }
  if (/SQLITE_FULL|SQLITE_IOERR|disk is full|disk I\/O error/i.test(text)) {
    return new CreditsError('STORAGE_UNAVAILABLE', `the ledger ${location} could not be written: ${message}`, {
      hint: 'free space on its disk (or fix the device) and run the command again; nothing half-written was kept',
      cause: error,
    });
  }
  if (/SQLITE_READONLY|readonly database/i.test(text)) {
    return new CreditsError('STORAGE_UNAVAILABLE', `the ledger ${location} is read-only here`, { hint: 'check the file and folder permissions', cause: error });
  }
  if (/SQLITE_CANTOPEN|unable to open database/i.test(text)) {
    return new CreditsError('STORAGE_UNAVAILABLE', `cannot open the ledger ${location}`, {
      hint: 'check that the folder exists and is writable',
      cause: error,
    });
  }
  // The writer lease's fence (writerLease.ts) refused the transaction: another server holds it, or it expired.
  if (/CHECK constraint failed: lease_lost/i.test(text)) {
    return new CreditsError(
      'LEASE_LOST',
      `this server does not hold the writer lease of ${location} (another server took it, or it expired); nothing was written`,
      {
        hint: 'the write goes to the server that holds the lease; run the command again (with the same idempotency key)',
        details: { outcome: 'not applied' },
        cause: error,
      },
    );
  }
  if (/CHECK constraint failed: accounts_no_overdraft|accounts_no_overdraft/i.test(text)) {
    return new CreditsError('INSUFFICIENT_CREDITS', 'not enough credits: the account would go below zero', { cause: error });
  }
  if (/UNIQUE constraint failed/i.test(text)) {
    return new CreditsError('DUPLICATE', `already exists (${message.replace(/^.*UNIQUE constraint failed:\s*/i, '')})`, { cause: error });
  }
  if (/ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|fetch failed|socket|WebSocket|connect|SERVER_ERROR|HRANA_WEBSOCKET_ERROR|network/i.test(text)) {
    return new CreditsError('STORAGE_UNAVAILABLE', `the remote ledger ${location} cannot be reached: ${message}`, {
      hint: 'check the URL, that the server is running, and CREDITS_DB_AUTH_TOKEN',
      cause: error,
    });
  }
  if (/401|403|Unauthorized|Forbidden|auth/i.test(text) && /^(libsql|https?|wss?):/.test(location)) {
    return new CreditsError('STORAGE_UNAVAILABLE', `the remote ledger ${location} refused the credentials: ${message}`, {
      hint: 'set CREDITS_DB_AUTH_TOKEN to a valid token',
      cause: error,
    });
  }
  return new CreditsError('INTERNAL', message, { cause: error });
}
