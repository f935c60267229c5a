import { AsyncLocalStorage } from 'node:async_hooks';
import type { Config } from '../config.js';
import type { Database } from '../store/driver.js';
import { type LedgerTarget, openLedger } from '../store/open.js';
import { ledgerPosition, reached } from '../store/writerLease.js';
import type { WriterLease } from './lease.js';

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

/** One request's choice of where its reads go, made at its first read (see clusterLedger). */
export type ReadScope = { source?: Promise<Database> };
export const requestReads = new AsyncLocalStorage<ReadScope>();

/** The longest a read waits for the replica to catch up before it reads the primary instead. */
const REPLICA_WAIT_MS = 1000;
const REPLICA_POLL_MS = 10;

/**
 * The ledger of a server that shares it with others (serve --advertise-url): writes go through
 * the writer lease (refused with LEASE_LOST by a server that does not hold it: the HTTP layer
 * forwards them to the holder); reads of a server that does not hold the lease go to the
 * replica when one is configured, under the read-your-writes rule: at a request's first read,
 * the primary's position is read (one primary-key read) and the replica is polled until it has
 * reached it, for at most 1 s; else the request reads the primary. Every write acknowledged
 * before the request began is then seen. All reads of one request go to the same place.
 */
export function clusterLedger(primary: Database, replica: Database | undefined, lease: WriterLease): Database {
  const source = async (): Promise<Database> => {
    if (replica === undefined || lease.held()) return primary;
    const scope = requestReads.getStore();
    if (scope === undefined) return primary;
    scope.source ??= caughtUp(primary, replica);
    return scope.source;
  };
  return {
    kind: primary.kind,
    location: primary.location,
    all: async (sql, args) => (await source()).all(sql, args),
    get: async (sql, args) => (await source()).get(sql, args),
    write: (work, options) => lease.write(work, options),
    execScript: (sql) => primary.execScript(sql),
    async close() {
      await lease.stop();
      await replica?.close();
      await primary.close();
    },
  };
}

async function caughtUp(primary: Database, replica: Database): Promise<Database> {
  const target = await ledgerPosition(primary);
  const deadlineMs = Date.now() + REPLICA_WAIT_MS;
  for (;;) {
    try {
      if (reached(await ledgerPosition(replica), target)) return replica;
    } catch {
      // A replica that does not answer: the primary answers instead.
      return primary;
    }
    if (Date.now() + REPLICA_POLL_MS > deadlineMs) return primary;
    await new Promise((resolveWait) => setTimeout(resolveWait, REPLICA_POLL_MS));
  }
}
