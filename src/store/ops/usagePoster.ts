import { formatCreditsText, formatMillicreditsPlain } from '../../core/amountText.js';
import { outsideScope, type DepartmentScope } from '../scope.js';
import { CreditsError, assert } from '../../core/errors.js';
import type { Entry } from '../../core/ledger.js';
import { describeRule, ruleApplies, softLimitWarning, type LimitRule, type LimitWarning } from '../../core/limits.js';
import { emailKey } from '../../core/names.js';
import { priceUsage, type PricedUsage } from '../../core/pricing.js';
import type { Tier } from '../../core/rateCard.js';
import { periodBounds, type Period, type PeriodBounds } from '../../core/time.js';
import type { UsageRecord } from '../../core/usageRecord.js';
import { tagsJson, type Tags } from '../../core/tags.js';
import type { SqlValue, WriteTx } from '../driver.js';
import type { LedgerWriter } from '../ledgerWriter.js';
import { ORG_ACCOUNT_ID, WORLD_ACCOUNT_ID } from '../orgRepo.js';
import { RateBook, type RateRow, drawnFromOrgInMonth, loadLimits, loadRates, usedAndHeldInPeriod } from '../usageRepo.js';
import { UsageDigest } from '../usageDigest.js';
import { queueEvent } from '../notify/outbox.js';
import { queuePausedNotice } from '../notify/paused.js';
import { armedRechargeRule, rechargeAccount } from '../notify/watchers.js';

export type PostedUsage = {
  status: 'accepted' | 'duplicate';
  eventId: string | null;
  transactionId: number;
  user: string;
  department: string;
  departmentId: number;
  model: string;
  modelName: string;
  tier: Tier;
  feature: string;
  occurredAtMs: number;
  priced: PricedUsage;
  costMillicredits: number;
  departmentBalanceMillicredits: number;
  drawnFromOrgMillicredits: number;
  /** The soft limits this event leaves passed (none for a duplicate: it changed nothing). */
  warnings: LimitWarning[];
  /** The event's tags ({} without any). */
  tags: Tags;
};

type UserInfo = { id: number; email: string; departmentId: number; department: string; overdraftFrom: number | null; overdraftMaxMillicredits: number };
type Rollup = {
  dayKey: string;
  userId: number;
  departmentId: number;
  model: string;
  tier: string;
  feature: string;
  events: number;
  millicredits: number;
  drawnFromOrgMillicredits: number;
};

type StoredEvent = {
  eventId: string;
  transactionId: number;
  occurredAtMs: number;
  userId: number;
  model: string;
  feature: string;
  inputTokens: number;
  outputTokens: number;
  toolCalls: number;
  images: number;
  imageSize: string;
  dbAccess: number;
  /** Stored tags text (JSON, keys sorted), or null. */
  tags: string | null;
};

/**
 * Whether a re-sent event is the one already posted. The time counts only when the sender gave
 * one: an event sent without `at` means "now", which differs on every retry.
 */
function sameEvent(stored: StoredEvent, record: UsageRecord, userId: number): boolean {
  return (
    stored.tags === tagsJson(record.tags) &&
    stored.userId === userId &&
    stored.model === record.model &&
    stored.feature === record.feature &&
    stored.inputTokens === record.inputTokens &&
    stored.outputTokens === record.outputTokens &&
    stored.toolCalls === record.toolCalls &&
    stored.images === record.images &&
    stored.imageSize === record.imageSize &&
    stored.dbAccess === (record.dbAccess ? 1 : 0) &&
    (record.occurredAtMs === null || stored.occurredAtMs === record.occurredAtMs)
  );
}

type BatchTotal = { departmentId: number; userId: number; model: string; feature: string; events: number; millicredits: number; drawn: number };

type LimitUse = { key: string; rule: LimitRule; periodKey: string };
/**
 * How an event meets the limits: 'enforce' refuses one that would pass a limit; 'count' (the
 * capture of a hold within its maximum, whose checks were made when it was placed) only counts it.
 */
type LimitMode = 'enforce' | 'count';

/** What a hold keeps, and of whom: enough to add it to or take it from the running totals. */
export type HeldAmounts = {
  id: number;
  userId: number;
  departmentId: number;
  model: string;
  tier: Tier;
  maxMillicredits: number;
  fromOrgMillicredits: number;
};
type PostingPlan = { limitKeys: readonly LimitUse[]; shortfall: number; drawKey: string | null; entries: Entry[] };
const NO_LIMIT_USES: readonly LimitUse[] = Object.freeze([]);

/** A total the checks need that is not in memory yet: a limit's use in a period (rule set) or a department's overdraft drawn in a month. */
class NeedRead {
  constructor(
    readonly rule: LimitRule | null,
    readonly bounds: PeriodBounds,
    readonly key: string,
  ) {}
}

/** The department has too few credits for the event: refused unless a recharge rule can cover it first. */
class ShortOfCredits {
  constructor(readonly error: CreditsError) {}
}

/** The map under `key`, added empty when missing. */
function childMap<K, K2, V>(map: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let child = map.get(key);
  if (child === undefined) {
    child = new Map<K2, V>();
    map.set(key, child);
  }
  return child;
}

function nothingToPrice(): CreditsError {
  return new CreditsError('INVALID_VALUE', 'this event has nothing to price: every count is zero', {
    hint: 'pass --input-tokens, --output-tokens, --tool-calls or --images',
  });
}

/** An open hold's capture names an event id already posted on its own: the caller mixed up ids. */
function postedWithoutHold(eventId: string | null, holdId: number): CreditsError {
  return new CreditsError('IDEMPOTENCY_CONFLICT', `event id "${eventId}" was already posted, not through hold ${holdId}`, {
    hint: `capture with another --event-id, or release the hold (\`credits usage release ${holdId}\`)`,
  });
}

const SELECT_STORED_EVENT = `SELECT event_id AS eventId, transaction_id AS transactionId, occurred_at_ms AS occurredAtMs, user_id AS userId, model, feature,
  input_tokens AS inputTokens, output_tokens AS outputTokens, tool_calls AS toolCalls, images, image_size AS imageSize, db_access AS dbAccess, tags FROM usage_events`;

const INSERT_EVENT_HEAD = `INSERT INTO usage_events (transaction_id, event_id, occurred_at_ms, user_id, department_id, model, tier, feature, input_tokens, output_tokens,
  tool_calls, images, image_size, db_access, cost_millicredits, drawn_from_org_millicredits, tags) VALUES`;
const EVENT_VALUES = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const INSERT_EVENT_SQL = `${INSERT_EVENT_HEAD} ${EVENT_VALUES} ON CONFLICT (event_id) DO NOTHING`;
/**
 * Remote imports send thousands of rows as one JSON text that SQLite unpacks itself: a libSQL
 * request with 17 bound values per row spends most of its time encoding them.
 */
const INSERT_EVENTS_FROM_JSON = `INSERT INTO usage_events (transaction_id, event_id, occurred_at_ms, user_id, department_id, model, tier, feature, input_tokens, output_tokens,
  tool_calls, images, image_size, db_access, cost_millicredits, drawn_from_org_millicredits, tags)
  SELECT ${Array.from({ length: 17 }, (_unused, index) => `json_extract(value, '$[${index}]')`).join(', ')} FROM json_each(?)`;
const ROWS_PER_INSERT = 5000;

/** Caches the local day or month of the last instant asked: events of one import mostly share it. */
class PeriodCache {
  private readonly last = new Map<string, PeriodBounds>();
  constructor(private readonly timeZone: string) {}

  of(instantMs: number, period: Period): PeriodBounds {
    const cached = this.last.get(period);
    if (cached && instantMs >= cached.startMs && instantMs < cached.endMs) return cached;
    const bounds = periodBounds(instantMs, period, this.timeZone);
    this.last.set(period, bounds);
    return bounds;
  }
}

/**
 * Prices and posts usage events inside one write transaction. Every check (event id, rate,
 * limits, balance, overdraft) runs before anything of an event is written, so a refused event
 * leaves no trace and the next one can go on. All accepted events of one poster form one ledger
 * transaction (a batch: entries summed per account, its hash covering every event's line), and
 * the state the checks need is read once and kept current in memory: a batch of thousands of
 * events costs a handful of reads and one row per event.
 */
/** One event with its user, rate and price, as post() works them out before any check. */
type Pricing = { record: UsageRecord; user: UserInfo; rate: RateRow; occurredAtMs: number; priced: PricedUsage };

export class UsagePoster {
  private readonly users = new Map<string, UserInfo>();
  private readonly usedByLimitPeriod = new Map<string, number>();
  /** What the open holds under each limit keep, by rule id (read with the rule's first period total, then kept current). */
  private readonly heldByRule = new Map<number, number>();
  private readonly drawnByDepartmentMonth = new Map<string, number>();
  /** Day totals in the order first seen (the rows written), found through rollupIndex. */
  private readonly rollups: Rollup[] = [];
  private readonly rollupIndex = new Map<string, Map<number, Map<string, Map<string, Rollup>>>>();
  private readonly batchTotals: BatchTotal[] = [];
  private readonly batchTotalIndex = new Map<number, Map<string, Map<string, BatchTotal>>>();
  private readonly knownEvents = new Map<string, StoredEvent>();
  /** Event ids already looked up (found or not), so the remote path reads each once per batch. */
  private readonly lookedUp = new Set<string>();
  /** Remote only: event rows sent at the end as one JSON argument per statement (see INSERT_EVENTS_FROM_JSON). */
  private readonly bufferedRows: SqlValue[][] = [];
  private readonly periods: PeriodCache;
  private digest = new UsageDigest();
  private transactionId: number;
  /** Departments told in this write that their usage is paused (one notice per department). */
  private readonly pausedNoticed = new Set<number>();
  private readonly claimsByInsert: boolean;
  private readonly limitsReached: { rule: LimitRule; periodKey: string; user: string; department: string }[] = [];
  /** Soft limits found passed in this write, by rule and period: each is notified once (finish). */
  private readonly softPassed = new Map<string, LimitWarning | null>();
  /**
   * The department scope the next events are posted for: the transaction's own (a scoped API
   * token), or set per event by the group commit, which posts several callers' events together.
   */
  scope: DepartmentScope | null;

  private constructor(
    private readonly tx: WriteTx,
    private readonly ledger: LedgerWriter,
    private readonly rates: RateBook,
    private readonly limits: LimitRule[],
    private readonly timeZone: string,
    private readonly nowMs: number,
    private readonly actor: string,
    private readonly memo: string,
  ) {
    this.periods = new PeriodCache(timeZone);
    this.claimsByInsert = tx.insertIfAbsent !== undefined;
    this.scope = tx.scope ?? null;
    this.transactionId = ledger.openBatch({ kind: 'usage', actor, memo, createdAtMs: nowMs, idempotencyKey: null, reversesTransactionId: null });
  }

  static async open(tx: WriteTx, ledger: LedgerWriter, options: { timeZone: string; actor: string; nowMs: number; memo?: string }): Promise<UsagePoster> {
    const [rates, limits] = await Promise.all([loadRates(tx), loadLimits(tx)]);
    await ledger.load([WORLD_ACCOUNT_ID, ORG_ACCOUNT_ID]);
    return new UsagePoster(tx, ledger, new RateBook(rates), limits, options.timeZone, options.nowMs, options.actor, options.memo ?? 'usage');
  }

  /** Reads users and earlier events of a batch in a few queries instead of one per event. */
  async prefetch(records: readonly { user: string; eventId: string | null }[]): Promise<void> {
    await this.prefetchUsers(
      records.map((record) => record.user),
      false,
    );
    // Locally the insert itself finds duplicates (see post); remotely one read per batch is cheaper.
    const ids = this.claimsByInsert
      ? []
      : [...new Set(records.map((record) => record.eventId).filter((id): id is string => id !== null && !this.lookedUp.has(id)))];
    for (const id of ids) this.lookedUp.add(id);
    for (let start = 0; start < ids.length; start += 5000) {
      const slice = ids.slice(start, start + 5000);
      const rows = await this.tx.all<StoredEvent>(`${SELECT_STORED_EVENT} WHERE event_id IN (SELECT value FROM json_each(?))`, [JSON.stringify(slice)]);
      for (const row of rows) this.knownEvents.set(row.eventId, row);
    }
    const departments = new Set<number>();
    for (const user of this.users.values()) departments.add(user.departmentId);
    await this.ledger.load(departments);
  }

  /** Reads the users of these emails not in memory yet (and, unless told not to, their departments' accounts). */
  async prefetchUsers(allEmails: readonly string[], loadDepartments = true): Promise<void> {
    const emails = [...new Set(allEmails)].filter((email) => !this.users.has(email));
    for (let start = 0; start < emails.length; start += 500) {
      const slice = emails.slice(start, start + 500);
      const rows = await this.tx.all<UserInfo & { emailKey: string | null }>(
        `SELECT u.id AS id, u.email AS email, u.email_key AS emailKey, u.department_id AS departmentId, a.name AS department,
           a.overdraft_from_account_id AS overdraftFrom, a.overdraft_max_millicredits AS overdraftMaxMillicredits
         FROM users u JOIN accounts a ON a.id = u.department_id
         WHERE u.email_key IN (SELECT value FROM json_each(?)) OR (u.email_key IS NULL AND u.email IN (SELECT value FROM json_each(?)))`,
        [JSON.stringify(slice.map(emailKey)), JSON.stringify(slice)],
      );
      this.rememberUsers(slice, rows);
    }
    if (!loadDepartments) return;
    const departments = new Set<number>();
    for (const email of allEmails) {
      const user = this.users.get(email);
      if (user) departments.add(user.departmentId);
    }
    await this.ledger.load(departments);
  }

  /** Each asked email to its user, the way findUser resolves it: a keyless legacy row by exact spelling first, else by key. */
  private rememberUsers(emails: readonly string[], rows: readonly (UserInfo & { emailKey: string | null })[]): void {
    const byKey = new Map<string, UserInfo>();
    const legacyByEmail = new Map<string, UserInfo>();
    for (const { emailKey: key, ...user } of rows) {
      if (key === null) legacyByEmail.set(user.email, user);
      else byKey.set(key, user);
    }
    for (const email of emails) {
      const user = legacyByEmail.get(email) ?? byKey.get(emailKey(email));
      if (user) this.users.set(email, user);
    }
  }

  /**
   * Posts one event. Synchronous when everything it needs is in memory (the usual case in an
   * import: users prefetched, limit and overdraft totals read once per period); a promise only
   * when it must read first. Either way the checks and writes are the same.
   */
  post(record: UsageRecord): PostedUsage | Promise<PostedUsage> {
    if (!this.users.has(record.user) || (!this.claimsByInsert && record.eventId !== null && !this.lookedUp.has(record.eventId)))
      return this.postAfterReads(record);
    const pricing = this.priceOf(record);
    const known = this.knownBefore(record, pricing);
    if (known) return known;
    const { user, rate, occurredAtMs, priced } = pricing;
    let plan: PostingPlan | NeedRead | ShortOfCredits;
    try {
      plan = this.planInMemory(user, rate.model, rate.tier, occurredAtMs, priced.totalMillicredits);
    } catch (error) {
      // The refusal may be of an event posted before: the slow path looks that up (see postAfterReads).
      if (this.claimsByInsert && record.eventId !== null) return this.postAfterReads(record);
      throw error;
    }
    if (plan instanceof NeedRead || plan instanceof ShortOfCredits) return this.postAfterReads(record);
    return this.write(pricing, plan);
  }

  /** post() with the reads it may need first: users, earlier events, limit and overdraft totals. */
  private async postAfterReads(record: UsageRecord): Promise<PostedUsage> {
    if (!this.users.has(record.user) || (!this.claimsByInsert && record.eventId !== null && !this.lookedUp.has(record.eventId))) await this.prefetch([record]);
    const pricing = this.priceOf(record);
    const known = this.knownBefore(record, pricing);
    if (known) return known;
    const { user, rate, occurredAtMs, priced } = pricing;
    let plan: PostingPlan;
    try {
      plan = await this.plan(record, user, rate.model, rate.tier, occurredAtMs, priced.totalMillicredits);
    } catch (error) {
      // A refused event may be one posted before (a re-run import after credits ran out): that is a duplicate, not a refusal.
      const stored = this.claimsByInsert && record.eventId !== null ? await this.findStored(record.eventId) : undefined;
      if (stored) return this.duplicateOf(stored, pricing);
      throw error;
    }
    return this.write(pricing, plan);
  }

  /**
   * Checks a hold as if its maximum were spent now (limits counting the open holds, the
   * department's available credits, its overdraft, a recharge at a refusal, the paused notice)
   * and keeps its credits in the running totals; the caller writes the hold's row. Returns the
   * user, the rate in force and what the department's overdraft would draw from org.
   */
  async reserveHold(
    email: string,
    model: string,
    maxMillicredits: number,
  ): Promise<{ user: UserInfo; rate: RateRow; fromOrgMillicredits: number; warnings: LimitWarning[] }> {
    if (!this.users.has(email)) await this.prefetchUsers([email]);
    const user = this.userOf(email);
    const rate = this.rates.at(model, this.nowMs);
    const plan = await this.plan({ eventId: null, model: rate.model }, user, rate.model, rate.tier, this.nowMs, maxMillicredits);
    const fromOrgMillicredits = plan.shortfall;
    this.keep({ id: 0, userId: user.id, departmentId: user.departmentId, model: rate.model, tier: rate.tier, maxMillicredits, fromOrgMillicredits }, 1);
    // The hold counts as spent under its limits: holding past a soft limit warns as spending past it does.
    return { user, rate, fromOrgMillicredits, warnings: this.softWarnings(plan.limitKeys, user) };
  }

  /** Takes a hold's credits out of the running totals before its row is closed (released here, or captured by captureHold). */
  async releaseHold(hold: HeldAmounts): Promise<void> {
    await this.ledger.load([hold.departmentId, ORG_ACCOUNT_ID]);
    this.keep(hold, -1);
  }

  /**
   * Adds (+1) or takes away (-1) what a hold keeps: of its department and org (the ledger
   * writer), and of every limit it falls under whose total is in memory (one read later sees the
   * hold's row as written, so a total read after this is right as well).
   */
  private keep(hold: HeldAmounts, sign: 1 | -1): void {
    const fromDepartment = hold.maxMillicredits - hold.fromOrgMillicredits;
    if (sign > 0) this.ledger.reserve(hold.departmentId, fromDepartment, hold.fromOrgMillicredits);
    else this.ledger.unreserve(hold.departmentId, fromDepartment, hold.fromOrgMillicredits);
    const subject = { userId: hold.userId, departmentId: hold.departmentId, model: hold.model, tier: hold.tier };
    for (const rule of this.limits) {
      const held = this.heldByRule.get(rule.id);
      if (held !== undefined && ruleApplies(rule, subject)) this.heldByRule.set(rule.id, held + sign * hold.maxMillicredits);
    }
  }

  /**
   * Posts the usage event of an open hold, exactly as post() would (price, rollups, batch,
   * chain), with the hold's own credits no longer kept. Within the hold (a cost up to its
   * maximum, the user still in its department) the checks made when it was placed stand: limits
   * only count the event, and the credits it kept pay for it. A cost past the maximum is
   * HOLD_EXCEEDED, or with `allowOver` (and after a move to another department) the event gets
   * every check on its whole cost. Refused, the hold keeps its credits as before.
   */
  async captureHold(record: UsageRecord, hold: HeldAmounts, allowOver: boolean): Promise<PostedUsage> {
    if (!this.users.has(record.user) || (!this.claimsByInsert && record.eventId !== null && !this.lookedUp.has(record.eventId))) await this.prefetch([record]);
    const pricing = this.priceOf(record);
    if (this.knownBefore(record, pricing)) throw postedWithoutHold(record.eventId, hold.id);
    const cost = pricing.priced.totalMillicredits;
    if (cost > hold.maxMillicredits && !allowOver) {
      throw new CreditsError(
        'HOLD_EXCEEDED',
        `this costs ${formatMillicreditsPlain(cost)} credits, more than the ${formatMillicreditsPlain(hold.maxMillicredits)} hold ${hold.id} keeps`,
        {
          hint: 'add --allow-over (API: "allowOver": true) to post it with every check on its whole cost; the hold stays open until then',
          details: { holdId: hold.id, costMillicredits: cost, maxMillicredits: hold.maxMillicredits },
        },
      );
    }
    const within = cost <= hold.maxMillicredits && pricing.user.departmentId === hold.departmentId;
    await this.readLimitTotals(pricing.user, pricing.rate.model, pricing.rate.tier, pricing.occurredAtMs);
    await this.releaseHold(hold);
    try {
      const { user, rate, occurredAtMs } = pricing;
      const plan = await this.plan(record, user, rate.model, rate.tier, occurredAtMs, cost, within ? 'count' : 'enforce');
      const outcome = this.write(pricing, plan);
      const posted = outcome instanceof Promise ? await outcome : outcome;
      if (posted.status === 'duplicate') throw postedWithoutHold(record.eventId, hold.id);
      return posted;
    } catch (error) {
      this.keep(hold, 1);
      throw error;
    }
  }

  private userOf(email: string): UserInfo {
    const user = this.users.get(email);
    // Checked here, in the write transaction that posts the event: a user moved to another
    // department a moment ago is already in the other department. An unknown user and another
    // department's are the same refusal to a scoped caller.
    if (this.scope !== null && user?.departmentId !== this.scope.departmentId) throw outsideScope(this.scope, `user "${email}"`);
    if (!user) throw new CreditsError('USER_NOT_FOUND', `--user: no user "${email}"`, { hint: 'add them with `credits user add EMAIL --dept NAME`' });
    return user;
  }

  /** What both paths of post() start from: who, when, at which rate, for how much. */
  private priceOf(record: UsageRecord): Pricing {
    const user = this.userOf(record.user);
    const occurredAtMs = record.occurredAtMs ?? this.nowMs;
    const rate = this.rates.at(record.model, occurredAtMs);
    return { record, user, rate, occurredAtMs, priced: priceUsage(rate, record) };
  }

  /** A repeat of an event already seen, or a refusal of an event with nothing to price; undefined to go on. */
  private knownBefore(record: UsageRecord, pricing: Pricing): PostedUsage | undefined {
    const known = record.eventId === null ? undefined : this.knownEvents.get(record.eventId);
    if (known) return this.duplicateOf(known, pricing);
    if (pricing.priced.totalMillicredits <= 0) throw nothingToPrice();
    return undefined;
  }

  private result(
    status: PostedUsage['status'],
    transactionId: number,
    drawnFromOrgMillicredits: number,
    { record, user, rate, occurredAtMs, priced }: Pricing,
    warnings: LimitWarning[] = [],
  ): PostedUsage {
    return {
      status,
      eventId: record.eventId,
      transactionId,
      user: user.email,
      department: user.department,
      departmentId: user.departmentId,
      model: rate.model,
      modelName: rate.displayName,
      tier: rate.tier,
      feature: record.feature,
      occurredAtMs,
      priced,
      costMillicredits: priced.totalMillicredits,
      departmentBalanceMillicredits: this.ledger.balanceOf(user.departmentId),
      drawnFromOrgMillicredits,
      warnings,
      tags: record.tags ?? {},
    };
  }

  private duplicateOf(stored: StoredEvent, pricing: Pricing): PostedUsage {
    const { record, user } = pricing;
    if (!sameEvent(stored, record, user.id)) {
      throw new CreditsError('IDEMPOTENCY_CONFLICT', `event id "${record.eventId}" was already posted with different content`, {
        hint: 'an event id names one interaction; resend it unchanged or use a new id',
      });
    }
    return this.result('duplicate', stored.transactionId, 0, pricing);
  }

  /** Writes an event whose checks passed; a promise only when the insert finds its id already stored. */
  private write(pricing: Pricing, plan: PostingPlan): PostedUsage | Promise<PostedUsage> {
    const { record, user, rate, occurredAtMs, priced } = pricing;
    const { limitKeys, shortfall, drawKey, entries } = plan;
    const cost = priced.totalMillicredits;
    const dbAccess = record.dbAccess ? 1 : 0;
    const tags = tagsJson(record.tags);
    const insertArgs = [
      this.transactionId,
      record.eventId,
      occurredAtMs,
      user.id,
      user.departmentId,
      rate.model,
      rate.tier,
      record.feature,
      record.inputTokens,
      record.outputTokens,
      record.toolCalls,
      record.images,
      record.imageSize,
      dbAccess,
      cost,
      shortfall,
      tags,
    ];
    if (this.claimsByInsert) {
      if (!this.tx.insertIfAbsent!(INSERT_EVENT_SQL, insertArgs)) {
        return this.findStored(record.eventId!).then((stored) => {
          assert(stored, 'an event id that conflicts on insert is stored');
          return this.duplicateOf(stored, pricing);
        });
      }
    } else {
      this.bufferedRows.push(insertArgs);
    }
    this.ledger.addToBatch(entries);
    this.digest.add({
      eventId: record.eventId,
      occurredAtMs,
      userId: user.id,
      departmentId: user.departmentId,
      model: rate.model,
      feature: record.feature,
      inputTokens: record.inputTokens,
      outputTokens: record.outputTokens,
      toolCalls: record.toolCalls,
      images: record.images,
      imageSize: record.imageSize,
      dbAccess,
      costMillicredits: cost,
      drawnFromOrgMillicredits: shortfall,
      tags,
    });
    this.countUse(user, limitKeys, cost, drawKey, shortfall);
    // Locally the unique index finds a repeat within the batch as well (see claimsByInsert).
    if (record.eventId !== null && !this.claimsByInsert) {
      const { inputTokens, outputTokens, toolCalls, images, imageSize } = record;
      this.knownEvents.set(record.eventId, {
        eventId: record.eventId,
        transactionId: this.transactionId,
        occurredAtMs,
        userId: user.id,
        model: rate.model,
        feature: record.feature,
        inputTokens,
        outputTokens,
        toolCalls,
        images,
        imageSize,
        dbAccess,
        tags,
      });
    }
    this.addRollup(this.periods.of(occurredAtMs, 'day').key, user, rate.model, rate.tier, record.feature, cost, shortfall);
    return this.result('accepted', this.transactionId, shortfall, pricing, this.softWarnings(limitKeys, user));
  }

  /**
   * The soft limits among these that the running totals (used plus held) now put past their
   * amount; the first time one is found in this write, it is noted for its notification.
   */
  private softWarnings(limitKeys: readonly LimitUse[], user: UserInfo): LimitWarning[] {
    const warnings: LimitWarning[] = [];
    for (const { key, rule, periodKey } of limitKeys) {
      if (rule.kind !== 'soft') continue;
      const spent = (this.usedByLimitPeriod.get(key) ?? 0) + (this.heldByRule.get(rule.id) ?? 0);
      const warning = softLimitWarning(rule, { user: user.email, department: user.department }, periodKey, spent);
      if (warning === null) continue;
      if (!this.softPassed.has(key)) this.softPassed.set(key, warning);
      // The organisation's spending is not a department-bound caller's to see (as `limits` hides
      // organisation limits from it); the notification still goes out.
      if (this.scope !== null && rule.scope === 'organisation') continue;
      warnings.push(warning);
    }
    return warnings;
  }

  /** Adds a written event to the running limit and overdraft totals, noting each limit it uses up. */
  private countUse(user: UserInfo, limitKeys: readonly LimitUse[], cost: number, drawKey: string | null, shortfall: number): void {
    for (const { key, rule, periodKey } of limitKeys) {
      const before = this.usedByLimitPeriod.get(key) ?? 0;
      this.usedByLimitPeriod.set(key, before + cost);
      if (rule.kind === 'hard' && before < rule.amountMillicredits && before + cost >= rule.amountMillicredits)
        this.limitsReached.push({ rule, periodKey, user: user.email, department: user.department });
    }
    if (drawKey !== null) this.drawnByDepartmentMonth.set(drawKey, (this.drawnByDepartmentMonth.get(drawKey) ?? 0) + shortfall);
  }

  /** Every check of one event, writing nothing, reading first what planInMemory asks for. */
  private async plan(
    record: { eventId: string | null; model: string },
    user: UserInfo,
    model: string,
    tier: Tier,
    occurredAtMs: number,
    cost: number,
    limits: LimitMode = 'enforce',
  ): Promise<PostingPlan> {
    let recharged = false;
    for (;;) {
      const plan = this.planInMemory(user, model, tier, occurredAtMs, cost, limits);
      if (plan instanceof ShortOfCredits) {
        // An event posted before is a duplicate, not a reason to buy credits (postAfterReads finds it).
        if (this.claimsByInsert && record.eventId !== null && (await this.findStored(record.eventId))) throw plan.error;
        if (!recharged && (await this.rechargeWhenShort(user, cost))) {
          recharged = true;
          continue;
        }
        await this.notePaused(user, record, cost);
        throw plan.error;
      }
      if (!(plan instanceof NeedRead)) return plan;
      await this.readTotal(plan, user);
    }
  }

  /** Reads a total the checks asked for into memory. */
  private async readTotal(need: NeedRead, user: UserInfo): Promise<void> {
    if (need.rule !== null) {
      const { used, held } = await usedAndHeldInPeriod(this.tx, need.rule, need.bounds);
      this.usedByLimitPeriod.set(need.key, used);
      this.heldByRule.set(need.rule.id, held);
    } else this.drawnByDepartmentMonth.set(need.key, await drawnFromOrgInMonth(this.tx, user.departmentId, need.bounds));
  }

  /**
   * Reads every limit total an event of this user and model counts in, before a hold is taken
   * out of them: read after, they would count the hold again from its row, still open until the
   * capture closes it.
   */
  private async readLimitTotals(user: UserInfo, model: string, tier: Tier, occurredAtMs: number): Promise<void> {
    for (;;) {
      const need = this.checkLimits(user, model, tier, occurredAtMs, 0, 'count');
      if (!(need instanceof NeedRead)) return;
      await this.readTotal(need, user);
    }
  }

  /**
   * Every check of one event, writing nothing: limits, then the department's credits and its
   * overdraft. Returns what must be read first when a total it needs is not in memory yet; the
   * checks before it passed and change nothing, so running it again after the read is the same.
   */
  private planInMemory(
    user: UserInfo,
    model: string,
    tier: Tier,
    occurredAtMs: number,
    cost: number,
    limits: LimitMode = 'enforce',
  ): PostingPlan | NeedRead | ShortOfCredits {
    const limitKeys = this.checkLimits(user, model, tier, occurredAtMs, cost, limits);
    if (limitKeys instanceof NeedRead) return limitKeys;
    // What open holds keep is not the department's to spend (nor, through its overdraft, org's).
    const departmentBalance = this.ledger.balanceOf(user.departmentId);
    const departmentHeld = this.ledger.heldOf(user.departmentId);
    const fromDepartment = Math.min(cost, Math.max(0, departmentBalance - departmentHeld));
    const shortfall = cost - fromDepartment;
    let drawKey: string | null = null;
    if (shortfall > 0) {
      const canDraw = this.overdraftLeft(user, occurredAtMs);
      if (canDraw instanceof NeedRead) return canDraw;
      if (shortfall > canDraw.left || shortfall > this.ledger.availableOf(ORG_ACCOUNT_ID)) {
        const held = departmentHeld > 0 ? ` (${formatMillicreditsPlain(departmentHeld)} of them held for calls in progress)` : '';
        return new ShortOfCredits(
          new CreditsError(
            'INSUFFICIENT_CREDITS',
            `${user.department} has ${formatMillicreditsPlain(departmentBalance)} credits${held}, this costs ${formatMillicreditsPlain(cost)}: AI features are paused until new credits are loaded`,
            {
              hint: `transfer credits to ${user.department} or buy a package --for it`,
              details: { account: user.department, balanceMillicredits: departmentBalance, heldMillicredits: departmentHeld, neededMillicredits: cost },
            },
          ),
        );
      }
      drawKey = canDraw.key;
    }
    const entries: Entry[] = [{ accountId: WORLD_ACCOUNT_ID, amountMillicredits: cost }];
    if (fromDepartment > 0) entries.push({ accountId: user.departmentId, amountMillicredits: -fromDepartment });
    if (shortfall > 0) entries.push({ accountId: ORG_ACCOUNT_ID, amountMillicredits: -shortfall });
    this.ledger.assertCovered(entries);
    return { limitKeys, shortfall, drawKey, entries };
  }

  private async findStored(eventId: string): Promise<StoredEvent | undefined> {
    return this.tx.get<StoredEvent>(`${SELECT_STORED_EVENT} WHERE event_id = ?`, [eventId]);
  }

  /** Refuses the event when any applicable hard limit would be passed; returns the limit periods it counts in, or the total to read first. */
  private checkLimits(user: UserInfo, model: string, tier: Tier, occurredAtMs: number, cost: number, mode: LimitMode): readonly LimitUse[] | NeedRead {
    if (this.limits.length === 0) return NO_LIMIT_USES;
    const limitKeys: LimitUse[] = [];
    const subject = { userId: user.id, departmentId: user.departmentId, model, tier };
    for (const rule of this.limits) {
      if (!ruleApplies(rule, subject)) continue;
      const bounds = this.periods.of(occurredAtMs, rule.period);
      const key = `${rule.id}|${bounds.key}`;
      const used = this.usedByLimitPeriod.get(key);
      const held = this.heldByRule.get(rule.id);
      if (used === undefined || held === undefined) return new NeedRead(rule, bounds, key);
      // Open holds under the limit count as spent: each may be captured in this period. A soft
      // limit is only counted here; write() and reserveHold() warn when it is passed.
      if (mode === 'enforce' && rule.kind === 'hard' && used + held + cost > rule.amountMillicredits) {
        const left = Math.max(0, rule.amountMillicredits - used - held);
        const heldText = held > 0 ? ` (${formatMillicreditsPlain(held)} held for calls in progress)` : '';
        throw new CreditsError(
          'LIMIT_EXCEEDED',
          `${describeRule(rule, { user: user.email, department: user.department })} (${formatMillicreditsPlain(rule.amountMillicredits)} credits) would be passed: ${formatMillicreditsPlain(left)} left${heldText}, this costs ${formatMillicreditsPlain(cost)}`,
          {
            hint: 'AI features are paused for this until the period ends or the limit is raised (`credits limits set`)',
            details: { limitId: rule.id, leftMillicredits: left, heldMillicredits: held, costMillicredits: cost, periodKey: bounds.key },
          },
        );
      }
      limitKeys.push({ key, rule, periodKey: bounds.key });
    }
    return limitKeys;
  }

  /** How much more the department may draw from org this calendar month (its overdraft rule), or the total to read first. */
  private overdraftLeft(user: UserInfo, occurredAtMs: number): { left: number; key: string | null } | NeedRead {
    if (user.overdraftFrom === null || user.overdraftMaxMillicredits <= 0) return { left: 0, key: null };
    const bounds = this.periods.of(occurredAtMs, 'month');
    const key = `${user.departmentId}|${bounds.key}`;
    const drawn = this.drawnByDepartmentMonth.get(key);
    if (drawn === undefined) return new NeedRead(null, bounds, key);
    // The overdraft parts of open holds are as good as drawn.
    return { left: Math.max(0, user.overdraftMaxMillicredits - drawn - this.ledger.heldDrawOf(user.departmentId)), key };
  }

  private addRollup(dayKey: string, user: UserInfo, model: string, tier: string, feature: string, cost: number, drawn: number): void {
    // Nested maps by day, user, model and feature (a user's department is fixed within a poster): no key text per event.
    const byModel = childMap(this.batchTotalIndex, user.id);
    const byFeature = childMap(byModel, model);
    const total = byFeature.get(feature);
    if (total) {
      total.events += 1;
      total.millicredits += cost;
      total.drawn += drawn;
    } else {
      const added = { departmentId: user.departmentId, userId: user.id, model, feature, events: 1, millicredits: cost, drawn };
      byFeature.set(feature, added);
      this.batchTotals.push(added);
    }
    const byUser = childMap(this.rollupIndex, dayKey);
    const dayByModel = childMap(byUser, user.id);
    const dayByFeature = childMap(dayByModel, model);
    const rollup = dayByFeature.get(feature);
    if (rollup) {
      rollup.events += 1;
      rollup.millicredits += cost;
      rollup.drawnFromOrgMillicredits += drawn;
    } else {
      const added = {
        dayKey,
        userId: user.id,
        departmentId: user.departmentId,
        model,
        tier,
        feature,
        events: 1,
        millicredits: cost,
        drawnFromOrgMillicredits: drawn,
      };
      dayByFeature.set(feature, added);
      this.rollups.push(added);
    }
  }

  /**
   * An armed recharge rule of the department buys its package inside this write when an event
   * finds too few credits (within the monthly cap, as watchers.ts decides). The usage batch is
   * closed around the purchase, so the ledger keeps one transaction per kind, in order. True
   * when credits arrived at once (card, PayPal): the event is then checked again.
   */
  private async rechargeWhenShort(user: UserInfo, costMillicredits: number): Promise<boolean> {
    const rule = await armedRechargeRule(this.tx, user.departmentId, this.nowMs);
    if (rule === null) return false;
    this.closeBatch();
    const outcome = await rechargeAccount(
      this.tx,
      this.ledger,
      rule,
      { name: user.department, balanceMillicredits: this.ledger.balanceOf(user.departmentId) },
      // A target rule buys at least the event's cost, so the event it was refused for fits.
      { nowMs: this.nowMs, actor: this.actor, neededMillicredits: costMillicredits },
    );
    this.transactionId = this.ledger.openBatch({
      kind: 'usage',
      actor: this.actor,
      memo: this.memo,
      createdAtMs: this.nowMs,
      idempotencyKey: null,
      reversesTransactionId: null,
    });
    return outcome === 'credited';
  }

  /** Tells the department's owners, once per crossing, that its usage is refused for want of credits. */
  private async notePaused(user: UserInfo, record: { model: string }, cost: number): Promise<void> {
    if (this.pausedNoticed.has(user.departmentId)) return;
    this.pausedNoticed.add(user.departmentId);
    this.ledger.notePaused(user.departmentId);
    await queuePausedNotice(this.tx, {
      accountId: user.departmentId,
      account: user.department,
      balanceMillicredits: this.ledger.balanceOf(user.departmentId),
      neededMillicredits: cost,
      user: user.email,
      model: record.model,
      nowMs: this.nowMs,
    });
  }

  /** Writes the open batch as its ledger transaction, with its events (remote) and per-transaction totals. */
  private closeBatch(): void {
    this.ledger.closeBatch(this.digest.detail());
    this.digest = new UsageDigest();
    for (let start = 0; start < this.bufferedRows.length; start += ROWS_PER_INSERT) {
      this.tx.run(INSERT_EVENTS_FROM_JSON, [JSON.stringify(this.bufferedRows.slice(start, start + ROWS_PER_INSERT))]);
    }
    this.bufferedRows.length = 0;
    this.tx.runMany(
      'INSERT INTO usage_batches (transaction_id, department_id, user_id, model, feature, event_count, millicredits, drawn_from_org_millicredits) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      this.batchTotals.map((total) => [
        this.transactionId,
        total.departmentId,
        total.userId,
        total.model,
        total.feature,
        total.events,
        total.millicredits,
        total.drawn,
      ]),
    );
    this.batchTotals.length = 0;
    this.batchTotalIndex.clear();
  }

  /**
   * One `limit.soft_exceeded` event per soft limit and period: the dedupe key makes later writes
   * in the same period queue nothing; within this write each is queued once (null once queued).
   */
  private queueSoftPassed(): void {
    for (const [key, warning] of this.softPassed) {
      if (warning === null) continue;
      this.softPassed.set(key, null);
      queueEvent(this.tx, {
        type: 'limit.soft_exceeded',
        text: `The ${warning.message}. Usage goes on: a soft limit warns, it never refuses.`,
        data: {
          limitId: warning.limitId,
          limit: warning.limit,
          user: warning.user,
          department: warning.department,
          period: warning.period,
          periodKey: warning.periodKey,
          amountMillicredits: warning.amountMillicredits,
          spentMillicredits: warning.spentMillicredits,
        },
        dedupeKey: `soft-limit|${warning.limitId}|${warning.periodKey}`,
        nowMs: this.nowMs,
      });
    }
  }

  /** Closes the batch transaction and writes the day totals; call once, after the last post. */
  finish(): void {
    this.closeBatch();
    for (const reached of this.limitsReached) {
      const name = describeRule(reached.rule, { user: reached.user, department: reached.department });
      queueEvent(this.tx, {
        type: 'limit.reached',
        text: `The ${name} (${formatCreditsText(reached.rule.amountMillicredits)} credits) is used up for ${reached.periodKey}: further usage it covers is refused until the period ends.`,
        data: { limitId: reached.rule.id, limit: name, amountMillicredits: reached.rule.amountMillicredits, periodKey: reached.periodKey },
        dedupeKey: `limit|${reached.rule.id}|${reached.periodKey}`,
        nowMs: this.nowMs,
      });
    }
    this.limitsReached.length = 0;
    this.queueSoftPassed();
    this.tx.runMany(
      `INSERT INTO usage_daily (day_key, user_id, department_id, model, tier, feature, event_count, millicredits, drawn_from_org_millicredits) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(day_key, user_id, department_id, model, feature) DO UPDATE SET event_count = event_count + excluded.event_count,
         millicredits = millicredits + excluded.millicredits, drawn_from_org_millicredits = drawn_from_org_millicredits + excluded.drawn_from_org_millicredits`,
      this.rollups.map((rollup) => [
        rollup.dayKey,
        rollup.userId,
        rollup.departmentId,
        rollup.model,
        rollup.tier,
        rollup.feature,
        rollup.events,
        rollup.millicredits,
        rollup.drawnFromOrgMillicredits,
      ]),
    );
    this.rollups.length = 0;
    this.rollupIndex.clear();
  }
}
