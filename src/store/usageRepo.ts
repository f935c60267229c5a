import { didYouMean } from '../core/suggest.js';
import { CreditsError } from '../core/errors.js';
import type { LimitRule } from '../core/limits.js';
import { DEFAULT_RATE_CARD, type ModelRate } from '../core/rateCard.js';
import { addLocalDays, daysInMonth, type PeriodBounds } from '../core/time.js';
import type { SqlReader, SqlValue, WriteTx } from './driver.js';
import { heldUnderRuleSql, ruleSubjectSql } from './holdRepo.js';

export type RateRow = ModelRate & { id: number; effectiveFromMs: number; createdAtMs: number };

export function seedDefaultRates(tx: WriteTx, nowMs: number): void {
  tx.runMany(
    'INSERT INTO model_rates (model, display_name, tier, input_per_1k_millicredits, output_per_1k_millicredits, tool_call_millicredits, effective_from_ms, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, 0, ?)',
    DEFAULT_RATE_CARD.map((rate) => [
      rate.model,
      rate.displayName,
      rate.tier,
      rate.inputPer1kMillicredits,
      rate.outputPer1kMillicredits,
      rate.toolCallMillicredits,
      nowMs,
    ]),
  );
}

export async function loadRates(db: SqlReader): Promise<RateRow[]> {
  return db.all<RateRow>(
    `SELECT id, model, display_name AS displayName, tier, input_per_1k_millicredits AS inputPer1kMillicredits, output_per_1k_millicredits AS outputPer1kMillicredits,
       tool_call_millicredits AS toolCallMillicredits, effective_from_ms AS effectiveFromMs, created_at_ms AS createdAtMs
     FROM model_rates ORDER BY model, effective_from_ms, id`,
  );
}

/** The rate in force for `model` at `instantMs`: the latest effective one, later rows winning ties. */
export class RateBook {
  private readonly byModel = new Map<string, RateRow[]>();

  constructor(rows: readonly RateRow[]) {
    for (const row of rows) {
      const list = this.byModel.get(row.model) ?? [];
      list.push(row);
      this.byModel.set(row.model, list);
    }
  }

  models(): string[] {
    return [...this.byModel.keys()].sort();
  }

  at(model: string, instantMs: number): RateRow {
    const history = this.byModel.get(model);
    if (!history) {
      const guess = didYouMean(model, this.models());
      throw new CreditsError('MODEL_NOT_FOUND', `unknown model "${model}"${guess.suffix}`, {
        hint: `${guess.hint}known models: ${this.models().join(', ')}; add one with \`credits rates set\``,
      });
    }
    let found: RateRow | undefined;
    for (const row of history) if (row.effectiveFromMs <= instantMs) found = row;
    if (!found) {
      throw new CreditsError('MODEL_NOT_FOUND', `model "${model}" has no rate in force at ${new Date(instantMs).toISOString()}`, {
        hint: 'its first rate starts later; see `credits rates`',
      });
    }
    return found;
  }

  /** Rates scheduled after `instantMs`, for `rates` to show what is coming. */
  upcoming(instantMs: number): RateRow[] {
    return [...this.byModel.values()].flat().filter((row) => row.effectiveFromMs > instantMs);
  }
}

export async function loadLimits(db: SqlReader): Promise<LimitRule[]> {
  return db.all<LimitRule>(
    `SELECT id, scope, user_id AS userId, department_id AS departmentId, model, tier, period, amount_millicredits AS amountMillicredits, kind FROM limits ORDER BY id`,
  );
}

/** Day keys covered by a period, for the usage_daily rollup (keys sort as dates). */
function dayKeyRange(bounds: PeriodBounds): [string, string] {
  if (bounds.key.length === 10) return [bounds.key, bounds.key];
  return [`${bounds.key}-01`, addLocalDays(`${bounds.key}-01`, daysInMonth(bounds.key) - 1)];
}

/** The WHERE clause of the usage_daily rows a rule counts in one period. */
function usedInPeriodSql(rule: LimitRule, bounds: PeriodBounds): { where: string; args: SqlValue[] } {
  const [firstDay, lastDay] = dayKeyRange(bounds);
  const subject = ruleSubjectSql(rule);
  return { where: ['day_key BETWEEN ? AND ?', ...subject.where].join(' AND '), args: [firstDay, lastDay, ...subject.args] };
}

/** What a rule's subject has spent in one period, from the daily rollup (a few rows per day). */
export async function usedInPeriod(db: SqlReader, rule: LimitRule, bounds: PeriodBounds): Promise<number> {
  const { where, args } = usedInPeriodSql(rule, bounds);
  const row = await db.get<{ used: number | null }>(`SELECT sum(millicredits) AS used FROM usage_daily WHERE ${where}`, args);
  return row?.used ?? 0;
}

/**
 * In one read: what a rule's subject spent in the period, and what the open holds it covers keep
 * (in any period: a hold is spent when it is captured, whenever that is).
 */
export async function usedAndHeldInPeriod(db: SqlReader, rule: LimitRule, bounds: PeriodBounds): Promise<{ used: number; held: number }> {
  const used = usedInPeriodSql(rule, bounds);
  const held = heldUnderRuleSql(rule);
  const row = await db.get<{ used: number | null; held: number | null }>(
    `SELECT (SELECT sum(millicredits) FROM usage_daily WHERE ${used.where}) AS used, (SELECT sum(max_millicredits) FROM holds WHERE ${held.where}) AS held`,
    [...used.args, ...held.args],
  );
  return { used: row?.used ?? 0, held: row?.held ?? 0 };
}

/** Credits a department drew from org under its overdraft rule within the bounds (by event time). */
export async function drawnFromOrgInMonth(db: SqlReader, departmentId: number, bounds: PeriodBounds): Promise<number> {
  const [firstDay, lastDay] = dayKeyRange(bounds);
  const row = await db.get<{ drawn: number | null }>(
    'SELECT sum(drawn_from_org_millicredits) AS drawn FROM usage_daily WHERE department_id = ? AND day_key BETWEEN ? AND ?',
    [departmentId, firstDay, lastDay],
  );
  return row?.drawn ?? 0;
}
