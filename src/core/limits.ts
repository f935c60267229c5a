import { formatCreditsText } from './amountText.js';
import { CreditsError } from './errors.js';
import type { Period } from './time.js';
import type { Tier } from './rateCard.js';

export type LimitScope = 'user' | 'department' | 'organisation';
/** A hard limit refuses an event that would pass it; a soft one never refuses, it warns. */
export type LimitKind = 'hard' | 'soft';
export const LIMIT_KINDS: readonly LimitKind[] = ['hard', 'soft'];

/** One rule shape for every limit: who, optionally which model or tier, per day or month, how much. */
export type LimitRule = {
  id: number;
  scope: LimitScope;
  userId: number | null;
  departmentId: number | null;
  model: string | null;
  tier: Tier | null;
  period: Period;
  amountMillicredits: number;
  kind: LimitKind;
};

export type UsageSubject = { userId: number; departmentId: number; model: string; tier: Tier };

export function ruleApplies(rule: LimitRule, subject: UsageSubject): boolean {
  if (rule.scope === 'user' && rule.userId !== subject.userId) return false;
  if (rule.scope === 'department' && rule.departmentId !== subject.departmentId) return false;
  if (rule.model !== null && rule.model !== subject.model) return false;
  if (rule.tier !== null && rule.tier !== subject.tier) return false;
  return true;
}

export type RuleNames = { user?: string | undefined; department?: string | undefined };

/** "daily limit of ada@example.com on gpt-4o", for messages and tables. */
export function describeRule(rule: LimitRule, names: RuleNames): string {
  const who =
    rule.scope === 'user'
      ? (names.user ?? `user ${rule.userId}`)
      : rule.scope === 'department'
        ? (names.department ?? `department ${rule.departmentId}`)
        : 'the organisation';
  const what = rule.model !== null ? ` on ${rule.model}` : rule.tier !== null ? ` on ${rule.tier} models` : '';
  return `${rule.period === 'day' ? 'daily' : 'monthly'} ${rule.kind === 'soft' ? 'soft ' : ''}limit of ${who}${what}`;
}

/**
 * A soft limit its subject has spent past in one period: what `usage record`, imports, holds,
 * the API and `check` answer with in `warnings`. `spentMillicredits` is what the limit counts
 * after the write (used plus open holds under it, as a hard limit counts them).
 */
export type LimitWarning = {
  limitId: number;
  kind: 'soft';
  limit: string;
  scope: LimitScope;
  user: string | null;
  department: string | null;
  model: string | null;
  tier: Tier | null;
  period: Period;
  periodKey: string;
  amountMillicredits: number;
  spentMillicredits: number;
  message: string;
};

/**
 * The warning of a soft rule whose spending is past it, else null. Past means more than the
 * limit: a soft limit warns exactly where a hard limit of the same amount would refuse.
 */
export function softLimitWarning(rule: LimitRule, names: RuleNames, periodKey: string, spentMillicredits: number): LimitWarning | null {
  if (rule.kind !== 'soft' || spentMillicredits <= rule.amountMillicredits) return null;
  const limit = describeRule(rule, names);
  return {
    limitId: rule.id,
    kind: 'soft',
    limit,
    scope: rule.scope,
    user: rule.scope === 'user' ? (names.user ?? null) : null,
    department: rule.scope === 'department' ? (names.department ?? null) : null,
    model: rule.model,
    tier: rule.tier,
    period: rule.period,
    periodKey,
    amountMillicredits: rule.amountMillicredits,
    spentMillicredits,
    message: `${limit} (${formatCreditsText(rule.amountMillicredits)} credits) passed: ${formatCreditsText(spentMillicredits)} credits spent in ${periodKey}`,
  };
}

/**
 * Adds warnings to a list, one per limit and period: a later one of the same limit and period
 * replaces the earlier, since it says where the spending stands after the later write.
 */
export function addLimitWarnings(into: LimitWarning[], more: readonly LimitWarning[]): void {
  for (const warning of more) {
    const index = into.findIndex((known) => known.limitId === warning.limitId && known.periodKey === warning.periodKey);
    if (index < 0) into.push(warning);
    else into[index] = warning;
  }
}

export function parsePeriodFlags(daily: string | undefined, monthly: string | undefined): { period: Period; text: string; flag: string } {
  if (daily !== undefined && monthly !== undefined) {
    throw new CreditsError('USAGE', '--daily and --monthly cannot be combined', { hint: 'set one limit per command' });
  }
  if (daily !== undefined) return { period: 'day', text: daily, flag: '--daily' };
  if (monthly !== undefined) return { period: 'month', text: monthly, flag: '--monthly' };
  throw new CreditsError('MISSING_FLAG', '--daily or --monthly is required', { hint: 'for example --daily 50 or --monthly 1000 (credits)' });
}
