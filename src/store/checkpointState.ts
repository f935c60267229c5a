import type { Database, SqlReader } from './driver.js';
import { type LedgerHead, combinedHead } from './ledgerHead.js';
import { GENESIS_HASH, chainHash } from './ledgerWriter.js';
import { nodeCrypto } from './nodeCrypto.js';
import { usageEventLine, type UsageEventFacts } from './usageDigest.js';

/**
 * What a checkpoint commits to besides the chains' heads, so that `verify --since-checkpoint`
 * can check what was written after it without reading anything older (see verifySince.ts):
 * the balances, a digest of each day's usage totals, and where the usage events ended.
 */
export type CheckpointState = {
  /** The last usage event at the checkpoint (0: none yet), and a hash of its stored facts. */
  lastEventId: number;
  lastEventHash: string;
  /** The time zone the day totals were kept in (day keys depend on it). */
  timeZone: string;
  /** Every account's balance, by account id, in millicredits as decimal text. */
  balances: Record<string, string>;
  /** Each day's usage_daily rows as one digest (dayDigest), by day key. */
  dayTotals: Record<string, string>;
};

/** One usage_daily row with its numbers as stored text, in the order dayDigest hashes them. */
export type DailyRow = {
  dayKey: string;
  userId: number;
  departmentId: number;
  model: string;
  tier: string;
  feature: string;
  events: string;
  millicredits: string;
  drawn: string;
};

export const DAILY_COLUMNS = `day_key AS dayKey, user_id AS userId, department_id AS departmentId, model, tier, feature,
  CAST(event_count AS TEXT) AS events, CAST(millicredits AS TEXT) AS millicredits, CAST(drawn_from_org_millicredits AS TEXT) AS drawn`;
/** The primary key's order: the same for the checkpoint's read and the incremental one. */
export const DAILY_ORDER = 'ORDER BY day_key, user_id, department_id, model, feature';

/** A day's rows (in DAILY_ORDER), as 32 hex digits: enough to tell an edit, short enough for a year of days. */
export function dayDigest(rows: readonly Omit<DailyRow, 'dayKey'>[]): string {
  const hash = nodeCrypto().createHash('sha256');
  for (const row of rows) {
    hash.update(`${row.userId}\t${row.departmentId}\t${row.model}\t${row.tier}\t${row.feature}\t${row.events}\t${row.millicredits}\t${row.drawn}\n`);
  }
  return hash.digest('hex').slice(0, 32);
}

/** A usage event's stored facts and transaction as one hash: the checkpoint's mark of where the events ended. */
export function eventHash(row: UsageEventFacts & { transactionId: number }): string {
  return chainHash('', `${row.transactionId}\n${usageEventLine(row)}${row.tags ?? ''}`);
}

export const EVENT_COLUMNS = `id, transaction_id AS transactionId, event_id AS eventId, occurred_at_ms AS occurredAtMs, user_id AS userId, department_id AS departmentId,
  model, feature, input_tokens AS inputTokens, output_tokens AS outputTokens, tool_calls AS toolCalls, images, image_size AS imageSize, db_access AS dbAccess,
  cost_millicredits AS costMillicredits, drawn_from_org_millicredits AS drawnFromOrgMillicredits, tags`;

/** Where the chains end now, read from their last rows (no walk: verify's head only on an intact ledger). */
export async function readLedgerHead(db: SqlReader): Promise<LedgerHead> {
  const transaction = await db.get<{ id: number; hash: string }>('SELECT id, hash FROM ledger_transactions ORDER BY id DESC LIMIT 1');
  const record = await db.get<{ seq: number; hash: string }>('SELECT seq, hash FROM state_log WHERE hash IS NOT NULL ORDER BY seq DESC LIMIT 1');
  return combinedHead({
    transactionId: transaction?.id ?? 0,
    transactionHash: transaction?.hash ?? GENESIS_HASH,
    stateSeq: record?.seq ?? 0,
    stateHash: record?.hash ?? GENESIS_HASH,
  });
}

async function readState(db: SqlReader, timeZone: string): Promise<CheckpointState> {
  const balances: Record<string, string> = {};
  for (const row of await db.all<{ id: number; balance: string }>('SELECT id, CAST(balance_millicredits AS TEXT) AS balance FROM accounts ORDER BY id')) {
    balances[String(row.id)] = row.balance;
  }
  const dayTotals: Record<string, string> = {};
  let dayRows: DailyRow[] = [];
  const closeDay = (): void => {
    if (dayRows.length > 0) dayTotals[dayRows[0]!.dayKey] = dayDigest(dayRows);
    dayRows = [];
  };
  for (const row of await db.all<DailyRow>(`SELECT ${DAILY_COLUMNS} FROM usage_daily ${DAILY_ORDER}`)) {
    if (dayRows.length > 0 && dayRows[0]!.dayKey !== row.dayKey) closeDay();
    dayRows.push(row);
  }
  closeDay();
  const last = await db.get<UsageEventFacts & { id: number; transactionId: number }>(`SELECT ${EVENT_COLUMNS} FROM usage_events ORDER BY id DESC LIMIT 1`);
  return { lastEventId: last?.id ?? 0, lastEventHash: last ? eventHash(last) : '', timeZone, balances, dayTotals };
}

/**
 * The head and the state as one snapshot: read in a write transaction that is rolled back, so no
 * write lands between the reads (a few reads of small tables: accounts, a row per day and user).
 */
export async function snapshotCheckpointState(db: Database, timeZone: string): Promise<{ head: LedgerHead; state: CheckpointState }> {
  return db.write(async (tx) => ({ head: await readLedgerHead(tx), state: await readState(tx, timeZone) }), { dryRun: true });
}
