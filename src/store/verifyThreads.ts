import type { Database, SqlReader } from './driver.js';
import { type VerifyReport, type WalkRange, type WalkResult, joinWalks, verifyLedger, WHOLE_LEDGER } from './verify.js';
import type { DaySum } from './verifyDays.js';
import { checkTalliedRollups, type RangeRollups } from './verifyRollups.js';

/**
 * `credits verify` of a local ledger file on several threads: the usage events (reading and
 * hashing them is most of a verify) are cut into id ranges, one per worker thread
 * (verifyWorker.ts), each cut where the events pass from one transaction to the next; each worker
 * walks its transactions and events with the same code as the one-thread verify and sums its
 * events for the rollup checks. This thread joins the walks in order and runs the rest of the
 * checks, so the report is the one-thread report. Memory stays flat: each worker reads in pages
 * and sends back one small summary (at most 100 problems, a sum per account, a total per user,
 * department, model and feature).
 *
 * When the events are not in the order of their transactions (a ledger edited by hand), the
 * ranges cannot be checked apart: verify then runs on this thread alone, as it does for a
 * remote ledger, a small one, or CREDITS_VERIFY_THREADS=1.
 */

/** Below this many usage events starting threads costs more than it saves. */
export const THREADED_VERIFY_MIN_EVENTS = 10_000;
/** More threads than this read the same file faster only on machines with fast disks; bounded anyway. */
export const MAX_VERIFY_THREADS = 16;

export type VerifyThreads = { threads: number; workerPath: string | undefined; busyTimeoutMs: number };

export type VerifyWorkerInput = {
  path: string;
  range: WalkRange;
  /** The transactions whose batch rows and events this range checks start after this id. */
  afterBatchTransactionId: number;
  busyTimeoutMs: number;
  /** An incremental verify's: also sum the events per local day in this time zone (verifyDays.ts). */
  dayTimeZone?: string;
};

export type FromVerifyWorker = { type: 'done'; walked: WalkResult; rollups: RangeRollups; days?: DaySum[] } | { type: 'fail'; message: string };

/** Where an incremental verify's walk starts (verifySince.ts), the time zone of its day totals, and how many events make threads worth starting. */
export type WalkStart = { range: WalkRange; dayTimeZone: string; minEvents: number };

export type ThreadedWalk = { walked: WalkResult; rollups: RangeRollups[]; days: DaySum[] };

/** Verifies `db`, on `threads` worker threads when it is a local file large enough (else as verifyLedger). */
export async function verifyLedgerThreaded(db: Database, options: VerifyThreads): Promise<VerifyReport> {
  const threaded = await walkInThreads(db, options);
  if (threaded === null) return verifyLedger(db);
  return verifyLedger(db, { walked: threaded.walked, rollups: (note) => checkTalliedRollups(db, threaded.rollups, note) });
}

/**
 * The walks and rollup tallies of `db`'s ranges, one worker thread each, joined in order; null
 * when this ledger is verified on one thread (remote, small, one thread asked for, events out of
 * transaction order, or a worker that failed: the one-thread verify then meets its fault).
 */
export async function walkInThreads(db: Database, options: VerifyThreads, start?: WalkStart): Promise<ThreadedWalk | null> {
  const threads = Math.min(Math.floor(options.threads), MAX_VERIFY_THREADS);
  const workerPath = options.workerPath;
  if (db.kind !== 'local' || threads < 2 || workerPath === undefined) return null;
  const ranges = await rangesOf(db, threads, start?.range ?? WHOLE_LEDGER, start?.minEvents ?? THREADED_VERIFY_MIN_EVENTS);
  if (ranges === null) return null;
  let results: { walked: WalkResult; rollups: RangeRollups; days?: DaySum[] }[];
  const extra = start === undefined ? {} : { dayTimeZone: start.dayTimeZone };
  try {
    results = await Promise.all(ranges.map((input) => runWorker(workerPath, { ...input, ...extra, path: db.location, busyTimeoutMs: options.busyTimeoutMs })));
  } catch {
    return null;
  }
  if (results.some((result) => !result.rollups.orderly)) return null;
  return {
    walked: joinWalks(results.map((result) => result.walked)),
    rollups: results.map((result) => result.rollups),
    days: results.flatMap((result) => result.days ?? []),
  };
}

/**
 * Cuts the events into about equal id ranges, each ending with the last event of a transaction
 * (the next event belongs to a later one), with the chain's state at each range's start. Null
 * when there are too few events, or when a cut finds the events out of transaction order.
 */
async function rangesOf(
  db: SqlReader,
  threads: number,
  whole: WalkRange,
  minEvents: number,
): Promise<Omit<VerifyWorkerInput, 'path' | 'busyTimeoutMs'>[] | null> {
  const bounds = await db.get<{ first: number | null; last: number | null }>('SELECT min(id) AS first, max(id) AS last FROM usage_events WHERE id > ?', [
    Math.max(whole.afterEventId, 0),
  ]);
  if (bounds?.first == null || bounds.last == null || bounds.last - bounds.first + 1 < minEvents) return null;
  const cuts: { lastEventId: number; lastTransactionId: number }[] = [];
  for (let part = 1; part < threads; part += 1) {
    const target = bounds.first + Math.floor((part * (bounds.last - bounds.first + 1)) / threads);
    const at = await db.get<{ id: number; transactionId: number }>(
      'SELECT id, transaction_id AS transactionId FROM usage_events WHERE id >= ? ORDER BY id LIMIT 1',
      [target],
    );
    if (at === undefined) break;
    const next = await db.get<{ id: number; transactionId: number }>(
      'SELECT id, transaction_id AS transactionId FROM usage_events WHERE id > ? AND transaction_id <> ? ORDER BY id LIMIT 1',
      [at.id, at.transactionId],
    );
    if (next === undefined) break;
    if (next.transactionId < at.transactionId) return null;
    const previous = cuts[cuts.length - 1];
    if (at.transactionId <= Math.max(whole.afterTransactionId, 0) || (previous !== undefined && at.transactionId <= previous.lastTransactionId)) continue;
    cuts.push({ lastEventId: next.id - 1, lastTransactionId: at.transactionId });
  }
  if (cuts.length === 0) return null;
  const ranges: Omit<VerifyWorkerInput, 'path' | 'busyTimeoutMs'>[] = [];
  for (let index = 0; index <= cuts.length; index += 1) {
    const before = cuts[index - 1];
    const cut = cuts[index];
    const start =
      before === undefined
        ? undefined
        : await db.get<{ id: number; hash: string }>('SELECT id, hash FROM ledger_transactions WHERE id > 0 AND id <= ? ORDER BY id DESC LIMIT 1', [
            before.lastTransactionId,
          ]);
    ranges.push({
      range: {
        afterTransactionId: before?.lastTransactionId ?? whole.afterTransactionId,
        lastTransactionId: cut?.lastTransactionId ?? whole.lastTransactionId,
        afterEventId: before?.lastEventId ?? whole.afterEventId,
        lastEventId: cut?.lastEventId ?? whole.lastEventId,
        expectedId: start === undefined ? whole.expectedId : start.id + 1,
        previousHash: start === undefined ? whole.previousHash : start.hash,
      },
      // The first range of the whole ledger also checks the batch rows and events of transaction ids below 1.
      afterBatchTransactionId: before?.lastTransactionId ?? (whole.afterTransactionId === 0 ? Number.MIN_SAFE_INTEGER : whole.afterTransactionId),
    });
  }
  return ranges;
}

function runWorker(workerPath: string, input: VerifyWorkerInput): Promise<{ walked: WalkResult; rollups: RangeRollups }> {
  return new Promise((resolveResult, reject) => {
    // Required here, not imported: every command loads this module, and few start threads.
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    const worker = new Worker(workerPath, { workerData: input });
    let settled = false;
    const settle = (action: () => void): void => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      action();
    };
    worker.once('message', (message: FromVerifyWorker) =>
      settle(() => (message.type === 'done' ? resolveResult(message) : reject(new Error(`a verify thread failed: ${message.message}`)))),
    );
    worker.once('error', (error) => settle(() => reject(error)));
    worker.once('exit', (code) => settle(() => reject(new Error(`a verify thread stopped (exit code ${code})`))));
  });
}
