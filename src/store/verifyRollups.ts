import type { SqlReader } from './driver.js';
import type { Note, UsageEventRow } from './verify.js';

/**
 * The rollup checks of verify.ts (checkRollups) without their two GROUP BY scans of usage_events:
 * a threaded verify's workers sum the events as their walk reads them (RollupTally), and the
 * findings come out as the SQL's would. Events are written in the order of their transactions,
 * so a worker sums one transaction at a time and compares it with its usage_batches rows as it
 * goes; a range whose events are not in that order is reported as such, and verify then runs on
 * one thread (the SQL's grouping does not care about order, and neither does its answer).
 */

/** As checkRollups: at most this many findings of each of the two checks. */
const MAX_ROLLUP_FINDINGS = 5;
const PAGE_SIZE = 5000;

/** One key of usage_daily's event side: user, department, model, feature; events and their cost (decimal text). */
export type DailyTotal = [userId: number, departmentId: number, model: string, feature: string, events: number, costMillicredits: string];

/** What one range's events say about the rollups. */
export type RangeRollups = {
  /** False when an event's transaction is out of order or outside the range: the tally is void. */
  orderly: boolean;
  /** Transactions whose usage_batches rows do not match their events, one per mismatching row, ascending, at most 5. */
  batchMismatches: number[];
  daily: DailyTotal[];
};

type BatchSum = { events: number; costMillicredits: bigint; drawnFromOrgMillicredits: bigint };
type BatchRow = {
  transactionId: number;
  departmentId: number;
  userId: number;
  model: string;
  feature: string;
  events: string | null;
  total: string | null;
  drawn: string | null;
};

const keyOf = (departmentId: number, userId: number, model: string, feature: string): string => `${departmentId}\u0000${userId}\u0000${model}\u0000${feature}`;

/** SQL's `stored IS NOT computed` for a stored value read as text (an integer, or a real a hand edit left). */
function differs(stored: string | null, computed: bigint | number): boolean {
  if (stored === null) return true;
  if (/^-?\d+$/.test(stored)) return BigInt(stored) !== BigInt(computed);
  return Number(stored) !== Number(computed);
}

/** usage_batches rows of transactions afterTransactionId..lastTransactionId, in key order, a page at a time. */
class BatchRows {
  private page: BatchRow[] = [];
  private index = 0;
  private done = false;

  constructor(
    private readonly db: SqlReader,
    private readonly afterTransactionId: number,
    private readonly lastTransactionId: number,
  ) {}

  async peek(): Promise<BatchRow | undefined> {
    if (this.index >= this.page.length && !this.done) {
      const last = this.page[this.page.length - 1];
      const columns = `SELECT transaction_id AS transactionId, department_id AS departmentId, user_id AS userId, model, feature, CAST(event_count AS TEXT) AS events,
          CAST(millicredits AS TEXT) AS total, CAST(drawn_from_org_millicredits AS TEXT) AS drawn FROM usage_batches`;
      const order = 'ORDER BY transaction_id, department_id, user_id, model, feature LIMIT ?';
      this.page =
        last === undefined
          ? await this.db.all<BatchRow>(`${columns} WHERE transaction_id > ? AND transaction_id <= ? ${order}`, [
              this.afterTransactionId,
              this.lastTransactionId,
              PAGE_SIZE,
            ])
          : await this.db.all<BatchRow>(
              `${columns} WHERE (transaction_id, department_id, user_id, model, feature) > (?, ?, ?, ?, ?) AND transaction_id <= ? ${order}`,
              [last.transactionId, last.departmentId, last.userId, last.model, last.feature, this.lastTransactionId, PAGE_SIZE],
            );
      this.index = 0;
      if (this.page.length === 0) this.done = true;
    }
    return this.page[this.index];
  }

  take(): void {
    this.index += 1;
  }
}

/** Sums the events of one range as a walk reads them (UsageEventObserver) and compares each transaction with its batch rows. */
export class RollupTally {
  private orderly = true;
  private runTransactionId: number | null = null;
  private run = new Map<string, BatchSum>();
  private readonly daily = new Map<string, { row: DailyTotal; costMillicredits: bigint }>();
  private readonly mismatches: number[] = [];
  private readonly batches: BatchRows;

  /** The range's transactions: after afterTransactionId (use -Infinity-like MIN for the first range) up to lastTransactionId. */
  constructor(
    db: SqlReader,
    private readonly afterTransactionId: number,
    private readonly lastTransactionId: number,
    /** False for an incremental verify: it sums the new events per day itself (verifyDays.ts). */
    private readonly tallyDaily = true,
  ) {
    this.batches = new BatchRows(db, afterTransactionId, lastTransactionId);
  }

  readonly observe = async (page: readonly UsageEventRow[]): Promise<void> => {
    if (!this.orderly) return;
    for (const event of page) {
      const transactionId = event.transactionId;
      if (transactionId !== this.runTransactionId) {
        if (
          transactionId <= this.afterTransactionId ||
          transactionId > this.lastTransactionId ||
          (this.runTransactionId !== null && transactionId < this.runTransactionId)
        ) {
          this.orderly = false;
          return;
        }
        await this.closeRun();
        this.runTransactionId = transactionId;
      }
      const cost = BigInt(event.costMillicredits);
      const batchKey = keyOf(event.departmentId, event.userId, event.model, event.feature);
      const sum = this.run.get(batchKey);
      if (sum === undefined) this.run.set(batchKey, { events: 1, costMillicredits: cost, drawnFromOrgMillicredits: BigInt(event.drawnFromOrgMillicredits) });
      else {
        sum.events += 1;
        sum.costMillicredits += cost;
        sum.drawnFromOrgMillicredits += BigInt(event.drawnFromOrgMillicredits);
      }
      if (!this.tallyDaily) continue;
      const day = this.daily.get(batchKey);
      if (day === undefined) this.daily.set(batchKey, { row: [event.userId, event.departmentId, event.model, event.feature, 1, ''], costMillicredits: cost });
      else {
        day.row[4] += 1;
        day.costMillicredits += cost;
      }
    }
  };

  async finish(): Promise<RangeRollups> {
    if (this.orderly) {
      await this.closeRun();
      // Batch rows of transactions after the last one with events: none of their events exist.
      for (let row = await this.batches.peek(); row !== undefined; row = await this.batches.peek()) {
        this.mismatch(row.transactionId);
        this.batches.take();
      }
    }
    return {
      orderly: this.orderly,
      batchMismatches: this.mismatches,
      daily: [...this.daily.values()].map(({ row, costMillicredits }) => {
        row[5] = costMillicredits.toString();
        return row;
      }),
    };
  }

  private mismatch(transactionId: number): void {
    if (this.mismatches.length < MAX_ROLLUP_FINDINGS) this.mismatches.push(transactionId);
  }

  /** The transaction whose events just ended against its batch rows (and batch rows of event-less transactions before it). */
  private async closeRun(): Promise<void> {
    const transactionId = this.runTransactionId;
    if (transactionId === null) return;
    for (let row = await this.batches.peek(); row !== undefined && row.transactionId <= transactionId; row = await this.batches.peek()) {
      this.batches.take();
      if (row.transactionId < transactionId) {
        this.mismatch(row.transactionId);
        continue;
      }
      const key = keyOf(row.departmentId, row.userId, row.model, row.feature);
      const sum = this.run.get(key);
      this.run.delete(key);
      if (sum === undefined || differs(row.events, sum.events) || differs(row.total, sum.costMillicredits) || differs(row.drawn, sum.drawnFromOrgMillicredits))
        this.mismatch(transactionId);
    }
    // Keys with events but no batch row.
    for (let left = this.run.size; left > 0; left -= 1) this.mismatch(transactionId);
    this.run = new Map();
  }
}

/** Compares byte-wise as SQLite's BINARY collation does (UTF-16 order differs past the BMP). */
function binaryCompare(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * checkRollups over the ranges' tallies: usage_daily's sums against the events' (usage_daily is
 * read grouped, ordered as the SQL's own join emits them: the daily keys in order, then keys only
 * the events have), then the batch mismatches the ranges found, in order.
 */
export async function checkTalliedRollups(db: SqlReader, ranges: readonly RangeRollups[], note: Note): Promise<void> {
  const events = new Map<string, { row: DailyTotal; costMillicredits: bigint }>();
  for (const range of ranges) {
    for (const row of range.daily) {
      const key = keyOf(row[1], row[0], row[2], row[3]);
      const known = events.get(key);
      if (known === undefined) events.set(key, { row: [...row], costMillicredits: BigInt(row[5]) });
      else {
        known.row[4] += row[4];
        known.costMillicredits += BigInt(row[5]);
      }
    }
  }
  const stored = await db.all<{ userId: number; departmentId: number; model: string; feature: string; events: string | null; total: string | null }>(
    `SELECT user_id AS userId, department_id AS departmentId, model, feature, CAST(sum(event_count) AS TEXT) AS events, CAST(sum(millicredits) AS TEXT) AS total
     FROM usage_daily GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
  );
  const found: { userId: number; model: string; feature: string }[] = [];
  for (const row of stored) {
    const key = keyOf(row.departmentId, row.userId, row.model, row.feature);
    const sum = events.get(key);
    events.delete(key);
    if (sum === undefined || differs(row.events, sum.row[4]) || differs(row.total, sum.costMillicredits)) found.push(row);
  }
  const onlyEvents = [...events.values()]
    .map(({ row }) => row)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1] || binaryCompare(a[2], b[2]) || binaryCompare(a[3], b[3]));
  for (const row of onlyEvents) found.push({ userId: row[0], model: row[2], feature: row[3] });
  for (const row of found.slice(0, MAX_ROLLUP_FINDINGS)) {
    note({ check: 'rollup', transactionId: null, message: `usage totals for user ${row.userId}, ${row.model}, ${row.feature} do not match the events` });
  }
  const batchMismatches = ranges.flatMap((range) => range.batchMismatches).slice(0, MAX_ROLLUP_FINDINGS);
  for (const transactionId of batchMismatches) {
    note({ check: 'rollup', transactionId, message: `the usage totals of transaction ${transactionId} do not match its events` });
  }
}
