import { MAX_MILLICREDITS } from '../core/amounts.js';
import { MAX_HOLD_MS } from '../core/holds.js';
import { canonicalTransactionContent, type TransactionDraft, type TransactionKind } from '../core/ledger.js';
import type { SqlReader } from './driver.js';
import { GENESIS_HASH, chainHash } from './ledgerWriter.js';
import { type LedgerHead, combinedHead } from './ledgerHead.js';
import { checkStateLog } from './stateLogVerify.js';
import { ORG_ACCOUNT_ID, WORLD_ACCOUNT_ID } from './orgRepo.js';
import { UsageDigest, textUsageDetail, type UsageEventFacts } from './usageDigest.js';
import { reversalDetail, reversalEntries } from './reversals.js';

export type VerifyProblem = {
  check: 'chain' | 'balanced' | 'balance' | 'overdraft' | 'bound' | 'rollup' | 'sequence' | 'usage' | 'reversal' | 'state' | 'checkpoint' | 'hold';
  transactionId: number | null;
  account?: string;
  /** A 'state' problem: the table, the row's key (a JSON array of its primary key) and the field. */
  table?: string;
  rowKey?: string | null;
  field?: string | null;
  message: string;
};

export type VerifyReport = {
  ok: boolean;
  transactions: number;
  entries: number;
  accounts: number;
  stateRecords: number;
  firstBrokenTransactionId: number | null;
  /** The first table the state log says was changed outside credits. */
  firstBrokenTable: string | null;
  head: LedgerHead;
  problems: VerifyProblem[];
};

const PAGE_SIZE = 5000;
const MAX_PROBLEMS = 100;

type TransactionRow = {
  id: number;
  kind: TransactionKind;
  actor: string;
  memo: string;
  createdAtMs: number;
  idempotencyKey: string | null;
  reversesTransactionId: number | null;
  hash: string;
  purchaseId: number | null;
};

export type Note = (problem: VerifyProblem) => void;

/** `exact` is the stored integer read as text: a figure past 2^53 cannot round its way past the sums. */
type OwnEntry = { accountId: number; amountMillicredits: number; exact: bigint };

/** One reversed event of a reversal transaction, with the event as it is stored (null fields: no such event). */
type ReversalRow = {
  transactionId: number;
  usageEventId: number;
  eventTransactionId: number | null;
  departmentId: number | null;
  costMillicredits: number | null;
  drawnFromOrgMillicredits: number | null;
};

/** What the walk over the transactions carries from one transaction to the next. */
type ChainWalk = {
  note: Note;
  usage: UsageEventCursor;
  /** The reversed events of the current page's reversal transactions, by transaction. */
  reversals: Map<number, ReversalRow[]>;
  /** Balances summed from the entries, by account id, in BigInt so no sum can round. */
  recomputed: Map<number, bigint>;
  previousHash: string;
  expectedId: number;
  transactionCount: number;
  entryCount: number;
};

/** Walks the transactions of a range in id order, a page at a time, with their entries. */
async function walkTransactions(db: SqlReader, walk: ChainWalk, range: WalkRange): Promise<void> {
  let lastId = range.afterTransactionId;
  for (;;) {
    const transactions = await db.all<TransactionRow>(
      `SELECT t.id AS id, t.kind AS kind, t.actor AS actor, t.memo AS memo, t.created_at_ms AS createdAtMs, t.idempotency_key AS idempotencyKey,
         t.reverses_transaction_id AS reversesTransactionId, t.hash AS hash, p.id AS purchaseId
       FROM ledger_transactions t LEFT JOIN purchases p ON p.transaction_id = t.id WHERE t.id > ? AND t.id <= ? ORDER BY t.id LIMIT ?`,
      [lastId, range.lastTransactionId, PAGE_SIZE],
    );
    if (transactions.length === 0) break;
    const firstId = transactions[0]!.id;
    const pageLastId = transactions[transactions.length - 1]!.id;
    const entries = await db.all<{ transactionId: number; accountId: number; amount: number; exact: string }>(
      'SELECT transaction_id AS transactionId, account_id AS accountId, amount_millicredits AS amount, CAST(amount_millicredits AS TEXT) AS exact FROM entries WHERE transaction_id BETWEEN ? AND ? ORDER BY transaction_id, id',
      [firstId, pageLastId],
    );
    walk.reversals = await reversalsBetween(db, firstId, pageLastId);
    let entryIndex = 0;
    for (const transaction of transactions) {
      const own: OwnEntry[] = [];
      while (entryIndex < entries.length && entries[entryIndex]!.transactionId === transaction.id) {
        const entry = entries[entryIndex]!;
        const exact = BigInt(entry.exact);
        own.push({ accountId: entry.accountId, amountMillicredits: entry.amount, exact });
        walk.recomputed.set(entry.accountId, (walk.recomputed.get(entry.accountId) ?? 0n) + exact);
        entryIndex += 1;
      }
      await checkTransaction(walk, transaction, own);
    }
    lastId = pageLastId;
  }
}

/** One transaction: no gap before it, entries that sum to zero, its usage events, its place in the hash chain. */
async function checkTransaction(walk: ChainWalk, transaction: TransactionRow, own: OwnEntry[]): Promise<void> {
  const { note } = walk;
  if (transaction.id !== walk.expectedId) {
    note({ check: 'sequence', transactionId: transaction.id, message: `transaction ${walk.expectedId} is missing before ${transaction.id}` });
  }
  walk.expectedId = transaction.id + 1;
  walk.entryCount += own.length;
  const sum = own.reduce((total, entry) => total + entry.exact, 0n);
  if (own.length < 2 || sum !== 0n) {
    note({
      check: 'balanced',
      transactionId: transaction.id,
      message: `transaction ${transaction.id} has ${own.length} entries summing to ${sum}, not zero`,
    });
  }
  const { detail, textDetail } = await hashedDetail(walk, transaction, own);
  const draft: TransactionDraft = { ...transaction, entries: own };
  const hashWith = (withDetail: string): string => chainHash(walk.previousHash, canonicalTransactionContent(transaction.id, draft, withDetail));
  // A usage transaction written before the `usage2` digest matches the text digest instead.
  if (hashWith(detail) !== transaction.hash && !(textDetail !== undefined && hashWith(textDetail()) === transaction.hash)) {
    note({
      check: 'chain',
      transactionId: transaction.id,
      message: `transaction ${transaction.id} does not match its hash: it or an earlier one was altered`,
    });
  }
  walk.previousHash = transaction.hash;
  walk.transactionCount += 1;
}

/**
 * The detail a transaction's hash covers: its purchase, or the digest of its usage events, which
 * must also add up to what the transaction moves.
 */
async function hashedDetail(walk: ChainWalk, transaction: TransactionRow, own: OwnEntry[]): Promise<{ detail: string; textDetail?: () => string }> {
  if (transaction.kind === 'reversal') return { detail: checkReversal(walk, transaction, own) };
  if (transaction.kind !== 'usage') return { detail: transaction.purchaseId !== null ? `purchase:${transaction.purchaseId}` : '' };
  const batch = await walk.usage.take(transaction.id);
  const world = own.find((entry) => entry.accountId === WORLD_ACCOUNT_ID)?.exact ?? 0n;
  const org = own.find((entry) => entry.accountId === ORG_ACCOUNT_ID)?.exact ?? 0n;
  if (world !== batch.costMillicredits || -org !== batch.drawnFromOrgMillicredits) {
    walk.note({
      check: 'usage',
      transactionId: transaction.id,
      message: `usage transaction ${transaction.id} moves ${world} millicredits but its ${batch.events} events cost ${batch.costMillicredits}`,
    });
  }
  return { detail: batch.detail, textDetail: batch.textDetail };
}

/** The reversed events of the reversal transactions firstId..lastId (one indexed read per page). */
async function reversalsBetween(db: SqlReader, firstId: number, lastId: number): Promise<Map<number, ReversalRow[]>> {
  const rows = await db.all<ReversalRow>(
    `SELECT r.transaction_id AS transactionId, r.usage_event_id AS usageEventId, e.transaction_id AS eventTransactionId, e.department_id AS departmentId,
       e.cost_millicredits AS costMillicredits, e.drawn_from_org_millicredits AS drawnFromOrgMillicredits
     FROM usage_reversals r LEFT JOIN usage_events e ON e.id = r.usage_event_id WHERE r.transaction_id BETWEEN ? AND ? ORDER BY r.transaction_id, r.usage_event_id`,
    [firstId, lastId],
  );
  const byTransaction = new Map<number, ReversalRow[]>();
  for (const row of rows) {
    const list = byTransaction.get(row.transactionId) ?? [];
    list.push(row);
    byTransaction.set(row.transactionId, list);
  }
  return byTransaction;
}

/**
 * A reversal against the events it reverses: each one exists and was posted in the usage
 * transaction the reversal refers to (before it), and the reversal moves exactly what those
 * events' usage moved, turned round. Returns the detail its hash covers (the events' numbers).
 */
function checkReversal(walk: ChainWalk, transaction: TransactionRow, own: OwnEntry[]): string {
  const rows = walk.reversals.get(transaction.id) ?? [];
  const note = (message: string): void => walk.note({ check: 'reversal', transactionId: transaction.id, message });
  const events: { id: number; departmentId: number; costMillicredits: number; drawnFromOrgMillicredits: number }[] = [];
  for (const row of rows) {
    if (row.eventTransactionId === null || row.departmentId === null) {
      note(`reversal ${transaction.id} reverses usage event #${row.usageEventId}, which does not exist`);
      continue;
    }
    const refersTo = transaction.reversesTransactionId;
    if (row.eventTransactionId !== refersTo || refersTo === null || refersTo >= transaction.id) {
      note(
        `reversal ${transaction.id} reverses usage event #${row.usageEventId} of transaction ${row.eventTransactionId}, but refers to transaction ${refersTo}`,
      );
    }
    events.push({
      id: row.usageEventId,
      departmentId: row.departmentId,
      costMillicredits: row.costMillicredits ?? 0,
      drawnFromOrgMillicredits: row.drawnFromOrgMillicredits ?? 0,
    });
  }
  if (rows.length > 0 && events.length === rows.length) {
    const expected = new Map(reversalEntries(events).map((entry) => [entry.accountId, BigInt(entry.amountMillicredits)]));
    const moved = new Map(own.map((entry) => [entry.accountId, entry.exact]));
    const same = expected.size === moved.size && [...expected].every(([accountId, amount]) => moved.get(accountId) === amount);
    if (!same) note(`reversal ${transaction.id} does not move what its ${events.length} events' usage moved, turned round`);
  }
  return reversalDetail(rows.map((row) => row.usageEventId));
}

/** Reversal rows of no reversal transaction, and events reversed twice (the key forbids it; a rebuilt table might not). */
async function checkReversalRows(db: SqlReader, note: Note): Promise<void> {
  const strays = await db.get<{ n: number }>(
    `SELECT count(*) AS n FROM usage_reversals r LEFT JOIN ledger_transactions t ON t.id = r.transaction_id WHERE t.id IS NULL OR t.kind <> 'reversal'`,
  );
  if ((strays?.n ?? 0) > 0) note({ check: 'reversal', transactionId: null, message: `${strays?.n} reversed events belong to no reversal transaction` });
  const twice = await db.all<{ usageEventId: number; n: number }>(
    'SELECT usage_event_id AS usageEventId, count(*) AS n FROM usage_reversals GROUP BY usage_event_id HAVING count(*) > 1 LIMIT 5',
  );
  for (const row of twice) note({ check: 'reversal', transactionId: null, message: `usage event #${row.usageEventId} is reversed ${row.n} times` });
}

/**
 * Each account's stored balance against its entries, no account but the world's below zero, and
 * none (nor all of them together, minus the world) past the ledger's bound; returns the account count.
 */
export async function checkBalances(db: SqlReader, recomputed: ReadonlyMap<number, bigint>, note: Note, source = 'its entries sum to'): Promise<number> {
  const accounts = await db.all<{ id: number; name: string; kind: string; balance: string }>(
    'SELECT id, name, kind, CAST(balance_millicredits AS TEXT) AS balance FROM accounts ORDER BY id',
  );
  for (const account of accounts) {
    const fromEntries = recomputed.get(account.id) ?? 0n;
    const held = account.kind === 'world' ? -fromEntries : fromEntries;
    if (held > BigInt(MAX_MILLICREDITS)) {
      const what = account.kind === 'world' ? 'all accounts together hold' : `${account.name} holds`;
      note({
        check: 'bound',
        transactionId: null,
        account: account.name,
        message: `${what} ${held} millicredits, past the ledger's bound of ${MAX_MILLICREDITS}`,
      });
    }
    if (fromEntries !== BigInt(account.balance)) {
      note({
        check: 'balance',
        transactionId: null,
        account: account.name,
        message: `${account.name} shows ${account.balance} millicredits but ${source} ${fromEntries}`,
      });
    }
    if (account.kind !== 'world' && fromEntries < 0n) {
      note({ check: 'overdraft', transactionId: null, account: account.name, message: `${account.name} is below zero (${fromEntries} millicredits)` });
    }
  }
  return accounts.length;
}

/** The daily rollups and the usage batches against the usage events they sum. */
async function checkRollups(db: SqlReader, note: Note): Promise<void> {
  const rollupMismatch = await db.all<{ userId: number; model: string; feature: string }>(
    `SELECT coalesce(r.user_id, u.user_id) AS userId, coalesce(r.model, u.model) AS model, coalesce(r.feature, u.feature) AS feature
     FROM (SELECT user_id, department_id, model, feature, sum(event_count) AS n, sum(millicredits) AS total FROM usage_daily GROUP BY 1, 2, 3, 4) r
     FULL OUTER JOIN (SELECT user_id, department_id, model, feature, count(*) AS n, sum(cost_millicredits) AS total FROM usage_events GROUP BY 1, 2, 3, 4) u
       ON u.user_id = r.user_id AND u.department_id = r.department_id AND u.model = r.model AND u.feature = r.feature
     WHERE r.n IS NOT u.n OR r.total IS NOT u.total LIMIT 5`,
  );
  for (const row of rollupMismatch) {
    note({ check: 'rollup', transactionId: null, message: `usage totals for user ${row.userId}, ${row.model}, ${row.feature} do not match the events` });
  }

  const batchMismatch = await db.all<{ transactionId: number }>(
    `SELECT coalesce(b.transaction_id, u.transaction_id) AS transactionId
     FROM (SELECT transaction_id, department_id, user_id, model, feature, event_count AS n, millicredits AS total, drawn_from_org_millicredits AS drawn FROM usage_batches) b
     FULL OUTER JOIN (SELECT transaction_id, department_id, user_id, model, feature, count(*) AS n, sum(cost_millicredits) AS total, sum(drawn_from_org_millicredits) AS drawn
       FROM usage_events GROUP BY 1, 2, 3, 4, 5) u
       ON u.transaction_id = b.transaction_id AND u.department_id = b.department_id AND u.user_id = b.user_id AND u.model = b.model AND u.feature = b.feature
     WHERE b.n IS NOT u.n OR b.total IS NOT u.total OR b.drawn IS NOT u.drawn ORDER BY 1 LIMIT 5`,
  );
  for (const row of batchMismatch) {
    note({ check: 'rollup', transactionId: row.transactionId, message: `the usage totals of transaction ${row.transactionId} do not match its events` });
  }
}

/**
 * The holds (`usage hold`): each open one of a user and a department that exist; amounts,
 * times and states within bounds; each captured one matching the cost of its event; and no
 * account keeping more for open holds than its balance (recomputed from the entries).
 */
async function checkHolds(db: SqlReader, recomputed: ReadonlyMap<number, bigint>, note: Note): Promise<void> {
  const orphans = await db.all<{ id: number }>(
    `SELECT h.id AS id FROM holds h LEFT JOIN users u ON u.id = h.user_id LEFT JOIN accounts a ON a.id = h.department_id AND a.kind = 'department'
     WHERE h.status = 'open' AND (u.id IS NULL OR a.id IS NULL) ORDER BY h.id LIMIT 5`,
  );
  for (const row of orphans) note({ check: 'hold', transactionId: null, message: `open hold ${row.id} belongs to a user or department that does not exist` });
  const malformed = await db.all<{ id: number }>(
    `SELECT id FROM holds WHERE NOT (
       typeof(max_millicredits) = 'integer' AND max_millicredits > 0 AND max_millicredits <= ? AND typeof(from_org_millicredits) = 'integer'
       AND from_org_millicredits >= 0 AND from_org_millicredits <= max_millicredits AND expires_at_ms > created_at_ms AND expires_at_ms - created_at_ms <= ?
       AND status IN ('open', 'captured', 'released', 'expired') AND (status = 'open') = (closed_at_ms IS NULL)
       AND (status = 'captured') = (captured_event_id IS NOT NULL AND captured_millicredits IS NOT NULL)) ORDER BY id LIMIT 5`,
    [MAX_MILLICREDITS, MAX_HOLD_MS],
  );
  for (const row of malformed) note({ check: 'hold', transactionId: null, message: `hold ${row.id} has an amount, a time or a state out of bounds` });
  const captured = await db.all<{ id: number; eventId: string; captured: number; cost: number | null }>(
    `SELECT h.id AS id, h.captured_event_id AS eventId, h.captured_millicredits AS captured, e.cost_millicredits AS cost
     FROM holds h LEFT JOIN usage_events e ON e.event_id = h.captured_event_id
     WHERE h.status = 'captured' AND (e.id IS NULL OR e.cost_millicredits IS NOT h.captured_millicredits OR e.user_id IS NOT h.user_id) ORDER BY h.id LIMIT 5`,
  );
  for (const row of captured) {
    const what = row.cost === null ? `event ${row.eventId}, which is not posted (or not of its user)` : `${row.eventId}, whose cost is ${row.cost}`;
    note({ check: 'hold', transactionId: null, message: `captured hold ${row.id} says ${row.captured} millicredits for ${what}` });
  }
  const held = await db.all<{ accountId: number; name: string; held: string }>(
    `SELECT a.id AS accountId, a.name AS name, CAST(coalesce(CASE a.kind WHEN 'org' THEN (SELECT sum(from_org_millicredits) FROM holds WHERE status = 'open')
       ELSE (SELECT sum(max_millicredits - from_org_millicredits) FROM holds WHERE status = 'open' AND department_id = a.id) END, 0) AS TEXT) AS held
     FROM accounts a WHERE a.kind IN ('org', 'department') ORDER BY a.id`,
  );
  for (const row of held) {
    const balance = recomputed.get(row.accountId) ?? 0n;
    if (BigInt(row.held) > balance) {
      note({
        check: 'hold',
        transactionId: null,
        account: row.name,
        message: `${row.name} keeps ${row.held} millicredits for open holds but its entries sum to ${balance}`,
      });
    }
  }
}

/**
 * A stretch of the ledger one walk covers: the transactions after afterTransactionId up to
 * lastTransactionId, and the usage events after afterEventId up to lastEventId, with the chain's
 * state where the stretch begins. The whole ledger is one range (WHOLE_LEDGER); a threaded
 * verify (verifyThreads.ts) walks several, cut where the events change transaction.
 */
export type WalkRange = {
  afterTransactionId: number;
  lastTransactionId: number;
  afterEventId: number;
  lastEventId: number;
  /** The id the first transaction should have, and the stored hash of the one before it. */
  expectedId: number;
  previousHash: string;
};

export const WHOLE_LEDGER: WalkRange = {
  afterTransactionId: 0,
  lastTransactionId: Number.MAX_SAFE_INTEGER,
  afterEventId: 0,
  lastEventId: Number.MAX_SAFE_INTEGER,
  expectedId: 1,
  previousHash: GENESIS_HASH,
};

/** What a walk over a range found; the walks of consecutive ranges add up to that of their union (joinWalks). */
export type WalkResult = {
  /** At most MAX_PROBLEMS, in the order found. */
  problems: VerifyProblem[];
  /** Entry sums by account id, as decimal text (they are BigInt). */
  recomputed: [number, string][];
  transactionCount: number;
  entryCount: number;
  /** As after the range's last transaction (the range's own start values when it has none). */
  expectedId: number;
  previousHash: string;
  /** Usage events the range's walk paired with no usage transaction. */
  strays: number;
  /** Usage events the walk read. */
  usageEvents: number;
};

/** Sees every usage event a walk reads, once, in id order, a page at a time (the threaded rollups). */
export type UsageEventObserver = (page: readonly UsageEventRow[]) => Promise<void>;

/** The hash chain, zero sums, usage digests and reversals of one range, with the entry sums. */
export async function walkLedger(db: SqlReader, range: WalkRange, observe?: UsageEventObserver): Promise<WalkResult> {
  const problems: VerifyProblem[] = [];
  const walk: ChainWalk = {
    note: (problem) => {
      if (problems.length < MAX_PROBLEMS) problems.push(problem);
    },
    usage: new UsageEventCursor(db, range, observe),
    reversals: new Map(),
    recomputed: new Map<number, bigint>(),
    previousHash: range.previousHash,
    expectedId: range.expectedId,
    transactionCount: 0,
    entryCount: 0,
  };
  await walkTransactions(db, walk, range);
  return {
    problems,
    recomputed: [...walk.recomputed].map(([accountId, sum]) => [accountId, sum.toString()]),
    transactionCount: walk.transactionCount,
    entryCount: walk.entryCount,
    expectedId: walk.expectedId,
    previousHash: walk.previousHash,
    strays: await walk.usage.rest(),
    usageEvents: walk.usage.read,
  };
}

/** The walks of consecutive ranges, in order, as one walk of their union. */
export function joinWalks(walks: readonly WalkResult[]): WalkResult {
  const recomputed = new Map<number, bigint>();
  for (const walk of walks) for (const [accountId, sum] of walk.recomputed) recomputed.set(accountId, (recomputed.get(accountId) ?? 0n) + BigInt(sum));
  const last = walks[walks.length - 1]!;
  return {
    problems: walks.flatMap((walk) => walk.problems).slice(0, MAX_PROBLEMS),
    recomputed: [...recomputed].map(([accountId, sum]) => [accountId, sum.toString()]),
    transactionCount: walks.reduce((total, walk) => total + walk.transactionCount, 0),
    entryCount: walks.reduce((total, walk) => total + walk.entryCount, 0),
    expectedId: last.expectedId,
    previousHash: last.previousHash,
    strays: walks.reduce((total, walk) => total + walk.strays, 0),
    usageEvents: walks.reduce((total, walk) => total + walk.usageEvents, 0),
  };
}

/** The rollup checks' findings, by SQL (checkRollups) or from the events a threaded walk saw (verifyRollups.ts). */
export type RollupCheck = (note: Note) => Promise<void>;

/**
 * Recomputes everything the ledger stores twice: the hash chain, each transaction's zero sum,
 * the materialised balances, the usage rollups. Reads in pages so memory stays flat. `walked`
 * and `rollups` are a threaded verify's (verifyThreads.ts); without them this thread does all.
 */
export async function verifyLedger(db: SqlReader, threaded?: { walked: WalkResult; rollups: RollupCheck }): Promise<VerifyReport> {
  const walked = threaded?.walked ?? (await walkLedger(db, WHOLE_LEDGER));
  const problems: VerifyProblem[] = [...walked.problems];
  const note = (problem: VerifyProblem): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(problem);
  };
  const recomputed = new Map(walked.recomputed.map(([accountId, sum]) => [accountId, BigInt(sum)]));
  // Entries of no transaction are in no hash; the walk above never reads them.
  const orphans = await db.get<{ n: number }>('SELECT count(*) AS n FROM entries WHERE transaction_id > ? OR transaction_id < 1', [walked.expectedId - 1]);
  if ((orphans?.n ?? 0) > 0) note({ check: 'balanced', transactionId: null, message: `${orphans?.n} entries belong to no transaction` });
  if (walked.strays > 0) note({ check: 'usage', transactionId: null, message: `${walked.strays} usage events belong to no usage transaction` });
  const accountCount = await checkBalances(db, recomputed, note);
  await (threaded?.rollups ?? ((rollupNote: Note) => checkRollups(db, rollupNote)))(note);
  await checkReversalRows(db, note);
  await checkHolds(db, recomputed, note);
  const state = await checkStateLog(db);
  for (const problem of state.problems) note({ check: 'state', transactionId: null, ...problem });

  const firstBroken = problems.find((problem) => problem.transactionId !== null)?.transactionId ?? null;
  return {
    ok: problems.length === 0,
    transactions: walked.transactionCount,
    entries: walked.entryCount,
    accounts: accountCount,
    stateRecords: state.records,
    firstBrokenTransactionId: firstBroken,
    firstBrokenTable: state.problems[0]?.table ?? null,
    head: combinedHead({
      transactionId: walked.expectedId - 1,
      transactionHash: walked.previousHash,
      stateSeq: state.head.seq,
      stateHash: state.head.hash,
    }),
    problems,
  };
}

export type UsageEventRow = UsageEventFacts & { id: number; transactionId: number };

/**
 * Walks usage_events in id order alongside the transactions: events are written in the order of
 * their transactions, so one forward pass in pages pairs each batch with its events.
 */
class UsageEventCursor {
  private page: UsageEventRow[] = [];
  private index = 0;
  private lastId: number;
  private done = false;
  private strays = 0;
  /** Events read so far. */
  read = 0;

  constructor(
    private readonly db: SqlReader,
    private readonly range: WalkRange,
    private readonly observe: UsageEventObserver | undefined,
  ) {
    this.lastId = range.afterEventId;
  }

  private async peek(): Promise<UsageEventRow | undefined> {
    if (this.index >= this.page.length && !this.done) {
      this.page = await this.db.all<UsageEventRow>(
        `SELECT id, transaction_id AS transactionId, event_id AS eventId, occurred_at_ms AS occurredAtMs, user_id AS userId, department_id AS departmentId, model, feature,
           input_tokens AS inputTokens, output_tokens AS outputTokens, tool_calls AS toolCalls, images, image_size AS imageSize, db_access AS dbAccess,
           cost_millicredits AS costMillicredits, drawn_from_org_millicredits AS drawnFromOrgMillicredits, tags
         FROM usage_events WHERE id > ? AND id <= ? ORDER BY id LIMIT ?`,
        [this.lastId, this.range.lastEventId, PAGE_SIZE],
      );
      this.index = 0;
      this.read += this.page.length;
      if (this.page.length === 0) this.done = true;
      else this.lastId = this.page[this.page.length - 1]!.id;
      if (this.observe !== undefined && this.page.length > 0) await this.observe(this.page);
    }
    return this.page[this.index];
  }
  /** The digest and sums of the events of one usage transaction (events out of order count as strays). */
  async take(
    transactionId: number,
  ): Promise<{ detail: string; textDetail: () => string; events: number; costMillicredits: bigint; drawnFromOrgMillicredits: bigint }> {
    const digest = new UsageDigest();
    const rows: UsageEventRow[] = [];
    let events = 0;
    let costMillicredits = 0n;
    let drawnFromOrgMillicredits = 0n;
    // A row of the page in hand is taken without an await (an await suspends even on a plain value).
    for (
      let row = this.index < this.page.length ? this.page[this.index] : await this.peek();
      row !== undefined && row.transactionId <= transactionId;
      row = this.index < this.page.length ? this.page[this.index] : await this.peek()
    ) {
      this.index += 1;
      if (row.transactionId !== transactionId) {
        this.strays += 1;
        continue;
      }
      digest.add(row);
      rows.push(row);
      events += 1;
      costMillicredits += BigInt(row.costMillicredits);
      drawnFromOrgMillicredits += BigInt(row.drawnFromOrgMillicredits);
    }
    return { detail: digest.detail(), textDetail: () => textUsageDetail(rows), events, costMillicredits, drawnFromOrgMillicredits };
  }

  /** Events left after the last transaction: they belong to none. */
  async rest(): Promise<number> {
    let count = this.strays;
    while ((await this.peek()) !== undefined) {
      this.index += 1;
      count += 1;
    }
    return count;
  }
}
