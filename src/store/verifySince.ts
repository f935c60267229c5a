import {
  type CheckpointState,
  DAILY_COLUMNS,
  DAILY_ORDER,
  type DailyRow,
  dayDigest,
  EVENT_COLUMNS,
  eventHash,
  readLedgerHead,
  snapshotCheckpointState,
} from './checkpointState.js';
import type { Database, SqlReader } from './driver.js';
import { type LedgerHead, combinedHead, whyNotExtending } from './ledgerHead.js';
import { checkStateLogSince } from './stateLogVerify.js';
import type { UsageEventFacts } from './usageDigest.js';
import { checkBalances, type Note, type VerifyProblem, type VerifyReport, type WalkRange, walkLedger } from './verify.js';
import { type VerifyThreads, walkInThreads } from './verifyThreads.js';
import { DayTally, dayTotalKey } from './verifyDays.js';
import { RollupTally } from './verifyRollups.js';

/**
 * `credits verify --since-checkpoint`: the ledger checked from a signed checkpoint on, reading only
 * what was written after it. The checkpoint's heads must be where it says (same hash at the same
 * transaction, state record and last usage event); the transactions, entries, usage events and
 * state records after them are checked as the full verify checks them; and the stored balances
 * and the day totals of the days the new events fall on must be the checkpoint's plus what the
 * new entries and events add. What only the full verify sees is listed in the README.
 */
export type IncrementalReport = VerifyReport & { newEvents: number; daysChecked: number };

const MAX_PROBLEMS = 100;
/**
 * Starting a verify thread costs about a third of a second of CPU (the bundle, the database):
 * measured on 100k new events, one thread was twice as fast as two; a full verify's million pays.
 */
const THREADED_SINCE_MIN_EVENTS = 500_000;

/** Where the checkpoint says the chains ended, against the ledger now (null: they are there). */
async function whyNotAnchored(db: SqlReader, head: LedgerHead, state: CheckpointState, timeZone: string): Promise<string | null> {
  const extension = await whyNotExtending(db, head, await readLedgerHead(db));
  if (extension !== null) return extension;
  if (state.lastEventId > 0) {
    const row = await db.get<UsageEventFacts & { id: number; transactionId: number }>(`SELECT ${EVENT_COLUMNS} FROM usage_events WHERE id = ?`, [
      state.lastEventId,
    ]);
    if (row === undefined || eventHash(row) !== state.lastEventHash) {
      return `usage event #${state.lastEventId}, the last one the checkpoint saw, is ${row === undefined ? 'gone' : 'not as it was'}`;
    }
  }
  if (state.timeZone !== timeZone) {
    return `the time zone changed since the checkpoint (${state.timeZone}, now ${timeZone}): day totals cannot be compared; run \`credits verify\` and write a new checkpoint`;
  }
  return null;
}

/** Each touched day's rows now, less what the new events added, must hash to the checkpoint's digest of that day. */
async function checkDays(db: SqlReader, tally: DayTally, state: CheckpointState, note: Note): Promise<void> {
  for (const [dayKey, added] of tally.days) {
    const rows = await db.all<DailyRow>(`SELECT ${DAILY_COLUMNS} FROM usage_daily WHERE day_key = ? ${DAILY_ORDER}`, [dayKey]);
    const before: DailyRow[] = [];
    const left = new Set(added.keys());
    for (const row of rows) {
      const key = dayTotalKey(row.userId, row.departmentId, row.model, row.feature);
      const sum = added.get(key);
      left.delete(key);
      if (sum?.unsafe) {
        note({
          check: 'rollup',
          transactionId: null,
          message: `the usage totals of ${dayKey} are too large to check incrementally: run the full \`credits verify\``,
        });
        return;
      }
      if (sum === undefined || !/^-?\d+$/.test(row.events) || !/^-?\d+$/.test(row.millicredits) || !/^-?\d+$/.test(row.drawn)) {
        before.push(row);
        continue;
      }
      const events = BigInt(row.events) - BigInt(sum.events);
      const millicredits = BigInt(row.millicredits) - BigInt(sum.millicredits);
      const drawn = BigInt(row.drawn) - BigInt(sum.drawn);
      // A row the new events opened had no events at the checkpoint: it was not there.
      if (events === 0n && millicredits === 0n && drawn === 0n) continue;
      before.push({ ...row, events: String(events), millicredits: String(millicredits), drawn: String(drawn) });
    }
    const expected = state.dayTotals[dayKey];
    if (left.size > 0 || (expected ?? dayDigest([])) !== dayDigest(before)) {
      note({
        check: 'rollup',
        transactionId: null,
        message: `the usage totals of ${dayKey} are not the checkpoint's plus the events since: they or the events were altered`,
      });
    }
  }
}

/** Stored balances against the checkpoint's plus the entries since (and every account the checkpoint saw still there). */
async function checkBalancesSince(db: SqlReader, deltas: readonly [number, string][], state: CheckpointState, note: Note): Promise<number> {
  const expected = new Map<number, bigint>(Object.entries(state.balances).map(([id, balance]) => [Number(id), BigInt(balance)]));
  for (const [accountId, delta] of deltas) expected.set(accountId, (expected.get(accountId) ?? 0n) + BigInt(delta));
  const ids = new Set((await db.all<{ id: number }>('SELECT id FROM accounts')).map((row) => row.id));
  for (const id of Object.keys(state.balances)) {
    if (!ids.has(Number(id))) note({ check: 'balance', transactionId: null, message: `account #${id}, which the checkpoint saw, is gone` });
  }
  return checkBalances(db, expected, note, 'the checkpoint plus the entries since come to');
}

/** The walk of what came after the checkpoint: on worker threads when there is enough of it in a local file (verifyThreads.ts), else here. */
async function walkSince(db: Database, range: WalkRange, timeZone: string, threads: VerifyThreads | undefined) {
  const days = new DayTally(timeZone);
  const threaded = threads === undefined ? null : await walkInThreads(db, threads, { range, dayTimeZone: timeZone, minEvents: THREADED_SINCE_MIN_EVENTS });
  if (threaded !== null) {
    days.merge(threaded.days);
    const batchMismatches = threaded.rollups.flatMap((rollups) => rollups.batchMismatches).slice(0, 5);
    return { walked: threaded.walked, days, rollups: { orderly: true, batchMismatches }, newEvents: threaded.walked.usageEvents };
  }
  const tally = new RollupTally(db, range.afterTransactionId, range.lastTransactionId, false);
  const walked = await walkLedger(db, range, async (page) => {
    days.observe(page);
    await tally.observe(page);
  });
  return { walked, days, rollups: await tally.finish(), newEvents: walked.usageEvents };
}

export async function verifySince(
  db: Database,
  head: LedgerHead,
  state: CheckpointState,
  timeZone: string,
  threads?: VerifyThreads,
): Promise<IncrementalReport> {
  const problems: VerifyProblem[] = [];
  const note: Note = (problem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(problem);
  };
  const unanchored = await whyNotAnchored(db, head, state, timeZone);
  if (unanchored !== null) {
    note({ check: 'checkpoint', transactionId: null, message: unanchored });
    return { ...emptyReport(head), problems, ok: false };
  }
  const range: WalkRange = {
    afterTransactionId: head.transactionId,
    lastTransactionId: Number.MAX_SAFE_INTEGER,
    afterEventId: state.lastEventId,
    lastEventId: Number.MAX_SAFE_INTEGER,
    expectedId: head.transactionId + 1,
    previousHash: head.transactionHash,
  };
  const { walked, days, rollups, newEvents } = await walkSince(db, range, timeZone, threads);
  for (const problem of walked.problems) note(problem);
  const orphans = await db.get<{ n: number }>('SELECT count(*) AS n FROM entries WHERE transaction_id > ? OR transaction_id < 1', [walked.expectedId - 1]);
  if ((orphans?.n ?? 0) > 0) note({ check: 'balanced', transactionId: null, message: `${orphans?.n} entries belong to no transaction` });
  if (walked.strays > 0) note({ check: 'usage', transactionId: null, message: `${walked.strays} usage events belong to no usage transaction` });
  const accounts = await checkBalancesSince(db, walked.recomputed, state, note);
  if (!rollups.orderly) {
    note({
      check: 'usage',
      transactionId: null,
      message: 'usage events since the checkpoint are out of the order of their transactions: run the full `credits verify`',
    });
  }
  for (const transactionId of rollups.batchMismatches) {
    note({ check: 'rollup', transactionId, message: `the usage totals of transaction ${transactionId} do not match its events` });
  }
  await checkDays(db, days, state, note);
  const strays = await db.get<{ n: number }>(
    `SELECT count(*) AS n FROM usage_reversals r LEFT JOIN ledger_transactions t ON t.id = r.transaction_id WHERE r.transaction_id > ? AND (t.id IS NULL OR t.kind <> 'reversal')`,
    [head.transactionId],
  );
  if ((strays?.n ?? 0) > 0) note({ check: 'reversal', transactionId: null, message: `${strays?.n} reversed events belong to no reversal transaction` });
  const stateLog = await checkStateLogSince(db, { seq: head.stateSeq, hash: head.stateHash });
  for (const problem of stateLog.problems) note({ check: 'state', transactionId: null, ...problem });
  return {
    ok: problems.length === 0,
    transactions: walked.transactionCount,
    entries: walked.entryCount,
    accounts,
    stateRecords: stateLog.records,
    firstBrokenTransactionId: problems.find((problem) => problem.transactionId !== null)?.transactionId ?? null,
    firstBrokenTable: stateLog.problems[0]?.table ?? null,
    head: combinedHead({
      transactionId: walked.expectedId - 1,
      transactionHash: walked.previousHash,
      stateSeq: stateLog.head.seq,
      stateHash: stateLog.head.hash,
    }),
    problems,
    newEvents,
    daysChecked: days.days.size,
  };
}

/** The report of a check that could not start (the checkpoint does not fit this ledger). */
export function emptyReport(head: LedgerHead): IncrementalReport {
  return {
    ok: false,
    transactions: 0,
    entries: 0,
    accounts: 0,
    stateRecords: 0,
    firstBrokenTransactionId: null,
    firstBrokenTable: null,
    head,
    problems: [],
    newEvents: 0,
    daysChecked: 0,
  };
}

/**
 * A checkpoint's head and state, vouched for by a full verify: the state is read first, as one
 * snapshot, then the whole ledger is verified; when writes landed in between, the stretch from the
 * snapshot to the verified head is checked incrementally, which proves the snapshot's balances and
 * day totals are those the verified entries and events lead to. `report` is what failed, if anything.
 */
export async function verifiedCheckpointState(
  db: Database,
  timeZone: string,
  verifyAll: () => Promise<VerifyReport>,
  threads?: VerifyThreads,
): Promise<{ report: VerifyReport; checkpoint: { head: LedgerHead; state: CheckpointState } | null }> {
  const snapshot = await snapshotCheckpointState(db, timeZone);
  const report = await verifyAll();
  if (!report.ok) return { report, checkpoint: null };
  if (report.head.hash === snapshot.head.hash) return { report, checkpoint: snapshot };
  const since = await verifySince(db, snapshot.head, snapshot.state, timeZone, threads);
  return since.ok ? { report, checkpoint: snapshot } : { report: since, checkpoint: null };
}
