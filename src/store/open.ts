import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CreditsError } from '../core/errors.js';
import type { Database } from './driver.js';
import { ensureSchema } from './migrate.js';

/** lockWait: how a local file waits for a lock (see LockWait in localDriver.ts); 'sync' unless said. */
export type LedgerTarget = {
  location: string;
  authToken?: string | undefined;
  busyTimeoutMs: number;
  timeoutMs?: number | undefined;
  lockWait?: 'sync' | 'async';
};

const REMOTE_SCHEME = /^(libsql|https?|wss?):\/\//i;

export function isRemoteLocation(location: string): boolean {
  return REMOTE_SCHEME.test(location);
}

/**
 * Opens the ledger at a path or URL. `mayCreate` is for `init` only: every other command wants
 * an existing ledger and says so rather than leaving an empty file behind.
 */
export async function openLedger(target: LedgerTarget, options: { mayCreate: boolean; onNote?: ((note: string) => void) | undefined }): Promise<Database> {
  const db = isRemoteLocation(target.location) ? await openRemote(target) : await openLocal(target, options.mayCreate);
  try {
    await ensureSchema(db, options);
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}

async function openRemote(target: LedgerTarget): Promise<Database> {
  const { openRemoteDatabase } = await import('./remoteDriver.js');
  return openRemoteDatabase({ url: target.location, authToken: target.authToken, busyTimeoutMs: target.busyTimeoutMs, timeoutMs: target.timeoutMs });
}

async function openLocal(target: LedgerTarget, mayCreate: boolean): Promise<Database> {
  const path = resolve(target.location.replace(/^file:/, ''));
  let exists = false;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      throw new CreditsError('NOT_A_LEDGER', `--db ${path} is a directory, not a ledger file`, { hint: 'name a file, like ~/credits/ledger.db' });
    }
    exists = true;
  } catch (error) {
    if (error instanceof CreditsError) throw error;
  }
  if (!exists && !mayCreate) {
    throw new CreditsError('LEDGER_NOT_FOUND', `no ledger at ${path}`, {
      hint: 'run `credits init` (add --demo for sample data), or pass --db / set CREDITS_DB',
    });
  }
  if (!exists) mkdirSync(dirname(path), { recursive: true });
  const { openLocalDatabase } = await import('./localDriver.js');
  return openLocalDatabase({ path, fileMustExist: !mayCreate, busyTimeoutMs: target.busyTimeoutMs, lockWait: target.lockWait });
}

/**
 * A read replica of a remote ledger (serve --replica-db): only read, never migrated through it
 * (a libSQL replica would forward the writes to its primary, which the writer migrates).
 */
export async function openReplica(target: LedgerTarget): Promise<Database> {
  if (!isRemoteLocation(target.location)) {
    throw new CreditsError('INVALID_VALUE', `--replica-db "${target.location}" is not a libSQL URL`, {
      hint: 'give the replica sqld URL, like http://replica.internal:8080 (its token is CREDITS_DB_AUTH_TOKEN, as for --db)',
    });
  }
  return openRemote(target);
}
