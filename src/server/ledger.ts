import type { Config } from '../config.js';
import type { Database } from '../store/driver.js';
import { openLedger } from '../store/open.js';

/**
 * The server's view of the ledger. A local file gets two connections: one for write
 * transactions and one for reads outside them. With a single connection, a request reading
 * while another request's write transaction is open (between its awaits) would see that
 * transaction's uncommitted rows, a dry run's included. A remote client already reads outside
 * the write transaction's stream.
 */
export async function openServerLedger(config: Config, writer: Database): Promise<Database> {
  if (writer.kind !== 'local') return writer;
  const reader = await openLedger({ location: config.ledgerLocation, authToken: config.authToken, busyTimeoutMs: config.busyTimeoutMs }, { mayCreate: false });
  return {
    kind: writer.kind,
    location: writer.location,
    all: (sql, args) => reader.all(sql, args),
    get: (sql, args) => reader.get(sql, args),
    write: (work, options) => writer.write(work, options),
    execScript: (sql) => writer.execScript(sql),
    async close() {
      await reader.close();
    },
  };
}
