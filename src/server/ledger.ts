import type { Config } from '../config.js';
import type { Database } from '../store/driver.js';
import { type LedgerTarget, openLedger } from '../store/open.js';

/**
 * The server's view of the ledger. A local file gets two connections of its own: one for write
 * transactions and one for reads outside them. With a single connection, a request reading
 * while another request's write transaction is open (between its awaits) would see that
 * transaction's uncommitted rows, a dry run's included. Both wait for locks by timer
 * (lockWait 'async'), never by sleeping the thread: while another process (an import) holds the
 * write lock, a pending write waits and /health and reads keep being answered. The connection
 * `opened` (the CLI's, sync) is left to its caller. A remote client already reads outside the
 * write transaction's stream.
 */
export async function openServerLedger(config: Config, opened: Database): Promise<Database> {
  if (opened.kind !== 'local') return opened;
  const target: LedgerTarget = {
    location: config.ledgerLocation,
    authToken: config.authToken,
    busyTimeoutMs: config.busyTimeoutMs,
    timeoutMs: config.dbTimeoutMs,
    lockWait: 'async',
  };
  const writer = await openLedger(target, { mayCreate: false });
  let reader: Database;
  try {
    reader = await openLedger(target, { mayCreate: false });
  } catch (error) {
    await writer.close();
    throw error;
  }
  return {
    kind: writer.kind,
    location: writer.location,
    all: (sql, args) => reader.all(sql, args),
    get: (sql, args) => reader.get(sql, args),
    write: (work, options) => writer.write(work, options),
    execScript: (sql) => writer.execScript(sql),
    async close() {
      await reader.close();
      await writer.close();
    },
  };
}
