import { createHash } from 'node:crypto';
import { formatMillicreditsPlain } from '../../core/amountText.js';
import { CreditsError } from '../../core/errors.js';
import { usageHashDetail, type Entry } from '../../core/ledger.js';
import { describeRule, ruleApplies, type LimitRule } from '../../core/limits.js';
import { priceUsage, type PricedUsage } from '../../core/pricing.js';
import type { Tier } from '../../core/rateCard.js';
import { localDateKey, periodBounds } from '../../core/time.js';
import type { UsageRecord } from '../../core/usageRecord.js';
import type { WriteTx } from '../driver.js';
import type { LedgerWriter } from '../ledgerWriter.js';
import { ORG_ACCOUNT_ID, WORLD_ACCOUNT_ID } from '../orgRepo.js';
import { RateBook, loadLimits, loadRates, usedInPeriod } from '../usageRepo.js';

export type PostedUsage = {
  status: 'accepted' | 'duplicate';
  eventId: string | null;
  transactionId: number;
  user: string;
  department: string;
  model: string;
  modelName: string;
  tier: Tier;
  feature: string;
  occurredAtMs: number;
  priced: PricedUsage;
  costMillicredits: number;
  departmentBalanceMillicredits: number;
  drawnFromOrgMillicredits: number;
};

type UserInfo = { id: number; email: string; departmentId: number; department: string; overdraftFrom: number | null; overdraftMaxMillicredits: number };
type RollupKey = string;
type Rollup = { dayKey: string; userId: number; departmentId: number; model: string; tier: string; feature: string; events: number; millicredits: number };

/** The content of a usage event as given (time as given, not resolved), for event-id idempotency. */
export function usageRequestHash(record: UsageRecord): string {
  return createHash('sha256')
    .update(JSON.stringify([record.user, record.model, record.inputTokens, record.outputTokens, record.toolCalls, record.feature, record.images, record.imageSize, record.dbAccess, record.occurredAtMs]))
    .digest('hex');
}

/**
 * Prices and posts usage events inside one write transaction: every check (event id, rate,
 * limits, balance, overdraft) runs before anything of an event is written, so a refused event
 * leaves no trace and the next one can go on. State it needs is read once per transaction and
 * kept current in memory: a batch of thousands of events costs a handful of reads.
 */
export class UsagePoster {
  private readonly users = new Map<string, UserInfo>();
  private readonly usedByLimitPeriod = new Map<string, number>();
  private readonly drawnByDepartmentMonth = new Map<string, number>();
  private readonly rollups = new Map<RollupKey, Rollup>();
  private readonly knownEvents = new Map<string, { requestHash: string; transactionId: number }>();

  private constructor(
    private readonly tx: WriteTx,
    private readonly ledger: LedgerWriter,
    private readonly rates: RateBook,
    private readonly limits: LimitRule[],
    private readonly timeZone: string,
    private readonly actor: string,
    private readonly nowMs: number,
  ) {}

  static async open(tx: WriteTx, ledger: LedgerWriter, options: { timeZone: string; actor: string; nowMs: number }): Promise<UsagePoster> {
    const [rates, limits] = await Promise.all([loadRates(tx), loadLimits(tx)]);
    return new UsagePoster(tx, ledger, new RateBook(rates), limits, options.timeZone, options.actor, options.nowMs);
  }

  /** Reads users and earlier events of a batch in two queries instead of one per event. */
  async prefetch(records: readonly UsageRecord[]): Promise<void> {
    const emails = [...new Set(records.map((record) => record.user))].filter((email) => !this.users.has(email));
    for (let start = 0; start < emails.length; start += 500) {
      const slice = emails.slice(start, start + 500);
      const rows = await this.tx.all<UserInfo>(
        `SELECT u.id AS id, u.email AS email, u.department_id AS departmentId, a.name AS department, a.overdraft_from_account_id AS overdraftFrom,
           a.overdraft_max_millicredits AS overdraftMaxMillicredits
         FROM users u JOIN accounts a ON a.id = u.department_id WHERE u.email IN (${slice.map(() => '?').join(',')}) COLLATE NOCASE`,
        slice,
      );
      for (const row of rows) this.users.set(row.email.toLowerCase(), row);
    }
    const ids = [...new Set(records.map((record) => record.eventId).filter((id): id is string => id !== null && !this.knownEvents.has(id)))];
    for (let start = 0; start < ids.length; start += 500) {
      const slice = ids.slice(start, start + 500);
      const rows = await this.tx.all<{ eventId: string; requestHash: string; transactionId: number }>(
        `SELECT event_id AS eventId, request_hash AS requestHash, transaction_id AS transactionId FROM usage_events WHERE event_id IN (${slice.map(() => '?').join(',')})`,
        slice,
      );
      for (const row of rows) this.knownEvents.set(row.eventId, row);
    }
    const departments = new Set<number>([WORLD_ACCOUNT_ID, ORG_ACCOUNT_ID]);
    for (const user of this.users.values()) departments.add(user.departmentId);
    await this.ledger.load(departments);
  }

  async post(record: UsageRecord): Promise<PostedUsage> {
    await this.prefetch([record]);
    const user = this.users.get(record.user);
    if (!user) throw new CreditsError('USER_NOT_FOUND', `--user: no user "${record.user}"`, { hint: 'add them with `credits user add EMAIL --dept NAME`' });
    const occurredAtMs = record.occurredAtMs ?? this.nowMs;
    const rate = this.rates.at(record.model, occurredAtMs);
    const priced = priceUsage(rate, { ...record, model: rate.model });
    const cost = priced.totalMillicredits;
    const requestHash = usageRequestHash(record);
    const base = { eventId: record.eventId, user: user.email, department: user.department, model: rate.model, modelName: rate.displayName, tier: rate.tier, feature: record.feature, occurredAtMs, priced, costMillicredits: cost };

    if (record.eventId !== null) {
      const known = this.knownEvents.get(record.eventId);
      if (known) {
        if (known.requestHash !== requestHash) {
          throw new CreditsError('IDEMPOTENCY_CONFLICT', `event id "${record.eventId}" was already posted with different content`, {
            hint: 'an event id names one interaction; resend it unchanged or use a new id',
          });
        }
        return { ...base, status: 'duplicate', transactionId: known.transactionId, departmentBalanceMillicredits: this.ledger.balanceOf(user.departmentId), drawnFromOrgMillicredits: 0 };
      }
    }
    if (cost <= 0) {
      throw new CreditsError('INVALID_VALUE', 'this event has nothing to price: every count is zero', { hint: 'pass --input-tokens, --output-tokens, --tool-calls or --images' });
    }

    const subject = { userId: user.id, departmentId: user.departmentId, model: rate.model, tier: rate.tier };
    const limitKeys: string[] = [];
    for (const rule of this.limits) {
      if (!ruleApplies(rule, subject)) continue;
      const bounds = periodBounds(occurredAtMs, rule.period, this.timeZone);
      const key = `${rule.id}|${bounds.key}`;
      let used = this.usedByLimitPeriod.get(key);
      if (used === undefined) {
        used = await usedInPeriod(this.tx, rule, bounds);
        this.usedByLimitPeriod.set(key, used);
      }
      if (used + cost > rule.amountMillicredits) {
        const left = Math.max(0, rule.amountMillicredits - used);
        throw new CreditsError('LIMIT_EXCEEDED', `${describeRule(rule, { user: user.email, department: user.department })} (${formatMillicreditsPlain(rule.amountMillicredits)} credits) would be passed: ${formatMillicreditsPlain(left)} left, this costs ${formatMillicreditsPlain(cost)}`, {
          hint: 'AI features are paused for this until the period ends or the limit is raised (`credits limits set`)',
          details: { limitId: rule.id, leftMillicredits: left, costMillicredits: cost, periodKey: bounds.key },
        });
      }
      limitKeys.push(key);
    }

    const departmentBalance = this.ledger.balanceOf(user.departmentId);
    const fromDepartment = Math.min(cost, Math.max(0, departmentBalance));
    const shortfall = cost - fromDepartment;
    let drawKey: string | null = null;
    if (shortfall > 0 || departmentBalance <= 0) {
      const canDraw = await this.overdraftLeft(user, occurredAtMs);
      if (departmentBalance + canDraw.left <= 0 || shortfall > canDraw.left || shortfall > this.ledger.balanceOf(ORG_ACCOUNT_ID)) {
        throw new CreditsError('INSUFFICIENT_CREDITS', `${user.department} has ${formatMillicreditsPlain(departmentBalance)} credits, this costs ${formatMillicreditsPlain(cost)}: AI features are paused until new credits are loaded`, {
          hint: `transfer credits to ${user.department} or buy a package --for it`,
          details: { account: user.department, balanceMillicredits: departmentBalance, neededMillicredits: cost },
        });
      }
      drawKey = canDraw.key;
    }

    const entries: Entry[] = [{ accountId: WORLD_ACCOUNT_ID, amountMillicredits: cost }];
    if (fromDepartment > 0) entries.push({ accountId: user.departmentId, amountMillicredits: -fromDepartment });
    if (shortfall > 0) entries.push({ accountId: ORG_ACCOUNT_ID, amountMillicredits: -shortfall });
    const facts = {
      eventId: record.eventId,
      occurredAtMs,
      userId: user.id,
      model: rate.model,
      feature: record.feature,
      inputTokens: record.inputTokens,
      outputTokens: record.outputTokens,
      toolCalls: record.toolCalls,
      images: record.images,
      imageSize: record.imageSize,
      dbAccess: record.dbAccess ? 1 : 0,
      costMillicredits: cost,
    };
    const posted = this.ledger.postLoaded(
      { kind: 'usage', actor: this.actor, memo: rate.model, createdAtMs: this.nowMs, idempotencyKey: null, reversesTransactionId: null, entries },
      usageHashDetail(facts),
    );
    this.tx.run(
      `INSERT INTO usage_events (transaction_id, event_id, request_hash, occurred_at_ms, user_id, department_id, model, tier, feature, input_tokens, output_tokens, tool_calls, images, image_size, db_access, cost_millicredits)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [posted.transactionId, record.eventId, requestHash, occurredAtMs, user.id, user.departmentId, rate.model, rate.tier, record.feature, record.inputTokens, record.outputTokens, record.toolCalls, record.images, record.imageSize, facts.dbAccess, cost],
    );
    for (const key of limitKeys) this.usedByLimitPeriod.set(key, (this.usedByLimitPeriod.get(key) ?? 0) + cost);
    if (drawKey !== null) this.drawnByDepartmentMonth.set(drawKey, (this.drawnByDepartmentMonth.get(drawKey) ?? 0) + shortfall);
    if (record.eventId !== null) this.knownEvents.set(record.eventId, { requestHash, transactionId: posted.transactionId });
    this.addRollup(localDateKey(occurredAtMs, this.timeZone), user, rate.model, rate.tier, record.feature, cost);
    return { ...base, status: 'accepted', transactionId: posted.transactionId, departmentBalanceMillicredits: this.ledger.balanceOf(user.departmentId), drawnFromOrgMillicredits: shortfall };
  }

  /** How much more the department may draw from org this calendar month (its overdraft rule). */
  private async overdraftLeft(user: UserInfo, occurredAtMs: number): Promise<{ left: number; key: string | null }> {
    if (user.overdraftFrom === null || user.overdraftMaxMillicredits <= 0) return { left: 0, key: null };
    const bounds = periodBounds(occurredAtMs, 'month', this.timeZone);
    const key = `${user.departmentId}|${bounds.key}`;
    let drawn = this.drawnByDepartmentMonth.get(key);
    if (drawn === undefined) {
      const row = await this.tx.get<{ drawn: number | null }>(
        `SELECT -sum(e.amount_millicredits) AS drawn FROM usage_events u JOIN entries e ON e.transaction_id = u.transaction_id AND e.account_id = ?
         WHERE u.department_id = ? AND u.occurred_at_ms >= ? AND u.occurred_at_ms < ?`,
        [ORG_ACCOUNT_ID, user.departmentId, bounds.startMs, bounds.endMs],
      );
      drawn = row?.drawn ?? 0;
      this.drawnByDepartmentMonth.set(key, drawn);
    }
    return { left: Math.max(0, user.overdraftMaxMillicredits - drawn), key };
  }

  private addRollup(dayKey: string, user: UserInfo, model: string, tier: string, feature: string, cost: number): void {
    const key = `${dayKey}|${user.id}|${user.departmentId}|${model}|${feature}`;
    const rollup = this.rollups.get(key);
    if (rollup) {
      rollup.events += 1;
      rollup.millicredits += cost;
    } else {
      this.rollups.set(key, { dayKey, userId: user.id, departmentId: user.departmentId, model, tier, feature, events: 1, millicredits: cost });
    }
  }

  /** Writes the day totals; call once, after the last post, in the same transaction. */
  finish(): void {
    this.tx.runMany(
      `INSERT INTO usage_daily (day_key, user_id, department_id, model, tier, feature, event_count, millicredits) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(day_key, user_id, department_id, model, feature) DO UPDATE SET event_count = event_count + excluded.event_count, millicredits = millicredits + excluded.millicredits`,
      [...this.rollups.values()].map((rollup) => [rollup.dayKey, rollup.userId, rollup.departmentId, rollup.model, rollup.tier, rollup.feature, rollup.events, rollup.millicredits]),
    );
    this.rollups.clear();
  }
}
