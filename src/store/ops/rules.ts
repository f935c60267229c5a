import { outsideScope, scopeOf } from '../scope.js';
import { CreditsError } from '../../core/errors.js';
import type { LimitKind, LimitRule, LimitScope } from '../../core/limits.js';
import type { Tier } from '../../core/rateCard.js';
import { periodBounds } from '../../core/time.js';
import type { Database, SqlReader, WriteTx } from '../driver.js';
import { heldUnderRule } from '../holdRepo.js';
import { runMutation, type MutationRequest } from '../mutation.js';
import { RateBook, loadLimits, loadRates, usedInPeriod, type RateRow } from '../usageRepo.js';

export type RateChange = {
  model: string;
  displayName?: string | undefined;
  tier?: Tier | undefined;
  inputPer1kMillicredits?: number | undefined;
  outputPer1kMillicredits?: number | undefined;
  toolCallMillicredits?: number | undefined;
  effectiveFromMs: number;
};

/** A new rate row from its effective time on; what is not given is kept from the rate in force. */
export async function setRate(db: Database, request: MutationRequest, change: RateChange) {
  return runMutation(db, request, async ({ tx }) => {
    const book = new RateBook(await loadRates(tx));
    let current: RateRow | undefined;
    try {
      current = book.at(change.model, change.effectiveFromMs);
    } catch {
      current = undefined;
    }
    const tier = change.tier ?? current?.tier;
    const input = change.inputPer1kMillicredits ?? current?.inputPer1kMillicredits;
    const output = change.outputPer1kMillicredits ?? current?.outputPer1kMillicredits;
    if (tier === undefined || input === undefined || output === undefined) {
      throw new CreditsError('MISSING_FLAG', `model "${change.model}" is new: --tier, --input and --output are required`, {
        hint: 'for example --tier standard --input 1.2 --output 2.4',
      });
    }
    const rate = {
      model: change.model,
      displayName: change.displayName ?? current?.displayName ?? change.model,
      tier,
      inputPer1kMillicredits: input,
      outputPer1kMillicredits: output,
      toolCallMillicredits: change.toolCallMillicredits ?? current?.toolCallMillicredits ?? 0,
      effectiveFromMs: change.effectiveFromMs,
    };
    tx.run(
      'INSERT INTO model_rates (model, display_name, tier, input_per_1k_millicredits, output_per_1k_millicredits, tool_call_millicredits, effective_from_ms, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [
        rate.model,
        rate.displayName,
        rate.tier,
        rate.inputPer1kMillicredits,
        rate.outputPer1kMillicredits,
        rate.toolCallMillicredits,
        rate.effectiveFromMs,
        request.nowMs,
      ],
    );
    return { rate, previous: current ?? null };
  });
}

export type LimitTarget = {
  scope: LimitScope;
  userId: number | null;
  departmentId: number | null;
  model: string | null;
  tier: Tier | null;
  period: 'day' | 'month';
  amountMillicredits: number;
  kind: LimitKind;
};

/**
 * Sets a limit; a rule of the same kind for exactly the same target and period is replaced, not
 * duplicated. A hard and a soft rule for one target are two rules (warn at 40, refuse at 50).
 */
export async function setLimit(db: Database, request: MutationRequest, target: LimitTarget) {
  return runMutation(db, request, async ({ tx }) => {
    const existing = (await loadLimits(tx)).find(
      (rule) =>
        rule.scope === target.scope &&
        rule.userId === target.userId &&
        rule.departmentId === target.departmentId &&
        rule.model === target.model &&
        rule.tier === target.tier &&
        rule.period === target.period &&
        rule.kind === target.kind,
    );
    if (existing) {
      tx.run('UPDATE limits SET amount_millicredits = ? WHERE id = ?', [target.amountMillicredits, existing.id]);
      return { limitId: existing.id, replaced: true, previousMillicredits: existing.amountMillicredits, ...target };
    }
    const row = await tx.get<{ id: number | null }>('SELECT max(id) AS id FROM limits');
    const limitId = (row?.id ?? 0) + 1;
    tx.run(
      'INSERT INTO limits (id, scope, user_id, department_id, model, tier, period, amount_millicredits, created_at_ms, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        limitId,
        target.scope,
        target.userId,
        target.departmentId,
        target.model,
        target.tier,
        target.period,
        target.amountMillicredits,
        request.nowMs,
        target.kind,
      ],
    );
    return { limitId, replaced: false, previousMillicredits: null, ...target };
  });
}

export async function removeLimit(db: Database, request: MutationRequest, limitId: number) {
  return runMutation(db, request, async ({ tx }) => {
    const found = (await loadLimits(tx)).find((rule) => rule.id === limitId);
    await checkLimitScope(tx, found, limitId);
    if (!found) throw new CreditsError('LIMIT_NOT_FOUND', `no limit ${limitId}`, { hint: 'see `credits limits` for the ids' });
    tx.run('DELETE FROM limits WHERE id = ?', [limitId]);
    return { limitId, kind: found.kind, removed: true };
  });
}

/** A bound principal reaches the limits of its department and of its department's users only. */
async function checkLimitScope(tx: WriteTx, rule: LimitRule | undefined, limitId: number): Promise<void> {
  const scope = scopeOf(tx);
  if (scope === null || (rule !== undefined && rule.departmentId === scope.departmentId)) return;
  const userId = rule?.userId ?? null;
  const user = userId === null ? undefined : await tx.get<{ departmentId: number }>('SELECT department_id AS departmentId FROM users WHERE id = ?', [userId]);
  if (user?.departmentId !== scope.departmentId) throw outsideScope(scope, `limit ${limitId}`);
}

/** Whether a limit belongs to a department: its own, or one of its users'. */
export async function limitInDepartment(db: SqlReader, departmentId: number): Promise<(rule: LimitRule) => boolean> {
  const users = new Set((await db.all<{ id: number }>('SELECT id FROM users WHERE department_id = ?', [departmentId])).map((row) => row.id));
  return (rule) => rule.departmentId === departmentId || (rule.userId !== null && users.has(rule.userId));
}

export type LimitStatus = LimitRule & {
  periodKey: string;
  usedMillicredits: number;
  /** What open holds under the limit keep (counted as spent until captured or released). */
  heldMillicredits: number;
  leftMillicredits: number;
  user: string | null;
  department: string | null;
};

/** Every limit with what was used and what is left in the period that holds `instantMs`. */
export async function limitStatuses(db: SqlReader, instantMs: number, timeZone: string, filter?: (rule: LimitRule) => boolean): Promise<LimitStatus[]> {
  const rules = (await loadLimits(db)).filter((rule) => (filter ? filter(rule) : true));
  const names = await db.all<{ kind: string; id: number; name: string }>(
    "SELECT 'user' AS kind, id, email AS name FROM users UNION ALL SELECT 'department', id, name FROM accounts",
  );
  const nameOf = (kind: string, id: number | null): string | null =>
    id === null ? null : (names.find((row) => row.kind === kind && row.id === id)?.name ?? null);
  const statuses: LimitStatus[] = [];
  for (const rule of rules) {
    const bounds = periodBounds(instantMs, rule.period, timeZone);
    const used = await usedInPeriod(db, rule, bounds);
    const held = await heldUnderRule(db, rule, instantMs);
    statuses.push({
      ...rule,
      periodKey: bounds.key,
      usedMillicredits: used,
      heldMillicredits: held,
      leftMillicredits: Math.max(0, rule.amountMillicredits - used - held),
      user: nameOf('user', rule.userId),
      department: nameOf('department', rule.departmentId),
    });
  }
  return statuses;
}
