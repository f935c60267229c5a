/**
 * The writer lease of `credits serve` (several servers, one ledger): the SQL of the one
 * `writer_lease` row. Every time is on the database's clock, so servers whose clocks differ
 * still agree on when a lease expired; a server only converts the answer to its own clock.
 *
 * Safety does not rest on anybody's belief: fenceStatement() runs inside every write transaction
 * of the holder and fails the transaction unless, at that moment, the row names this holder and
 * has not expired. A writer that was paused past its lease and wakes up writes nothing.
 */
import type { Database, SqlReader, Statement } from './driver.js';

const LEDGER = 'main';
/** The database's clock in epoch ms (julianday works on every SQLite and sqld version). */
const NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

export type LeaseRow = { holder: string; url: string; expiresMs: number; nowMs: number; writeSeq: number };

export async function readLease(db: SqlReader): Promise<LeaseRow | undefined> {
  return db.get<LeaseRow>(`SELECT holder, url, expires_ms AS expiresMs, ${NOW_MS} AS nowMs, write_seq AS writeSeq FROM writer_lease WHERE ledger = ?`, [
    LEDGER,
  ]);
}

/**
 * Takes the lease when it has expired (or renews it when it is ours), in one statement of its
 * own: no transaction is held open for it. Returns the lease as it is afterwards when taken.
 */
export async function takeLease(db: SqlReader, holder: string, url: string, leaseMs: number): Promise<LeaseRow | undefined> {
  const rows = await db.all<LeaseRow>(
    `INSERT INTO writer_lease (ledger, holder, url, expires_ms) VALUES (?, ?, ?, ${NOW_MS} + ?)
     ON CONFLICT (ledger) DO UPDATE SET holder = excluded.holder, url = excluded.url, expires_ms = excluded.expires_ms, write_seq = write_seq + 1
       WHERE writer_lease.expires_ms <= ${NOW_MS} OR writer_lease.holder = excluded.holder
     RETURNING holder, url, expires_ms AS expiresMs, ${NOW_MS} AS nowMs, write_seq AS writeSeq`,
    [LEDGER, holder, url, leaseMs],
  );
  return rows.find((row) => row.holder === holder);
}

/** Gives the lease up at once (a server stopping): the next server need not wait for it to expire. */
export async function releaseLease(db: Database, holder: string): Promise<void> {
  await db.all('UPDATE writer_lease SET expires_ms = 0, write_seq = write_seq + 1 WHERE ledger = ? AND holder = ? RETURNING ledger', [LEDGER, holder]);
}

/**
 * The statement that fences and renews, queued in the holder's write transaction (no round trip
 * of its own). Held: expiry moves to now + leaseMs. Held by another, or expired: expiry would
 * become -1, which the table's `lease_lost` check refuses, failing the transaction (sqlErrors.ts
 * makes that LEASE_LOST). write_seq + 1 marks the write for read-your-writes. (An INSERT ... ON
 * CONFLICT cannot also catch a deleted row: SQLite checks CHECK before UNIQUE. A deleted row
 * lets the current writer go on until another server takes the lease, which inserts it again.)
 */
export function fenceStatement(holder: string, leaseMs: number): Statement {
  return {
    sql: `UPDATE writer_lease SET expires_ms = CASE WHEN holder = ? AND expires_ms > ${NOW_MS} THEN ${NOW_MS} + ? ELSE -1 END, write_seq = write_seq + 1
      WHERE ledger = ?`,
    args: [holder, leaseMs, LEDGER],
  };
}

/**
 * How far a database is: the lease's write count (every write of a lease holder), the last ledger
 * transaction and the last state-log record (writes made without a lease, by direct writers).
 * Three primary-key reads in one statement.
 */
export type LedgerPosition = { writeSeq: number; transactionId: number; logSeq: number };

export async function ledgerPosition(db: SqlReader): Promise<LedgerPosition> {
  const row = await db.get<{ writeSeq: number | null; transactionId: number | null; logSeq: number | null }>(
    `SELECT (SELECT write_seq FROM writer_lease WHERE ledger = ?) AS writeSeq, (SELECT max(id) FROM ledger_transactions) AS transactionId,
       (SELECT max(seq) FROM state_log) AS logSeq`,
    [LEDGER],
  );
  return { writeSeq: row?.writeSeq ?? 0, transactionId: row?.transactionId ?? 0, logSeq: row?.logSeq ?? 0 };
}

/** Whether a database at `position` has every write of one at `target`. */
export function reached(position: LedgerPosition, target: LedgerPosition): boolean {
  return position.writeSeq >= target.writeSeq && position.transactionId >= target.transactionId && position.logSeq >= target.logSeq;
}
