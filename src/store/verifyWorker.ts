// One range of a threaded verify (see verifyThreads.ts), built to dist/verifyWorker.cjs: opens the
// ledger file read-only, walks its range with the same code as a one-thread verify (walkLedger),
// sums its events for the rollup checks, and sends both back in one message.
import BetterSqlite3 from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { SqlReader, SqlValue } from './driver.js';
import { type UsageEventRow, walkLedger } from './verify.js';
import { DayTally } from './verifyDays.js';
import { RollupTally } from './verifyRollups.js';
import type { FromVerifyWorker, VerifyWorkerInput } from './verifyThreads.js';

const port = parentPort!;
const input = workerData as VerifyWorkerInput;

function readerOf(db: BetterSqlite3.Database): SqlReader {
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepared = (sql: string): BetterSqlite3.Statement => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  return {
    all: async <T extends object>(sql: string, args: SqlValue[] = []) => prepared(sql).all(...args) as T[],
    get: async <T extends object>(sql: string, args: SqlValue[] = []) => prepared(sql).get(...args) as T | undefined,
  };
}

async function verifyRange(): Promise<void> {
  let db: BetterSqlite3.Database | undefined;
  try {
    db = new BetterSqlite3(input.path, { readonly: true, fileMustExist: true });
    db.pragma(`busy_timeout = ${input.busyTimeoutMs}`);
    const reader = readerOf(db);
    const tally = new RollupTally(reader, input.afterBatchTransactionId, input.range.lastTransactionId, input.dayTimeZone === undefined);
    const days = input.dayTimeZone === undefined ? undefined : new DayTally(input.dayTimeZone);
    const observe =
      days === undefined
        ? tally.observe
        : async (page: readonly UsageEventRow[]) => {
            days.observe(page);
            await tally.observe(page);
          };
    const walked = await walkLedger(reader, input.range, observe);
    port.postMessage({ type: 'done', walked, rollups: await tally.finish(), ...(days ? { days: days.rows() } : {}) } satisfies FromVerifyWorker);
  } catch (error) {
    port.postMessage({ type: 'fail', message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies FromVerifyWorker);
  } finally {
    db?.close();
  }
}

void verifyRange();
