import { CreditsError } from './errors.js';
import type { Period } from './time.js';
import type { Tier } from './rateCard.js';

export type LimitScope = 'user' | 'department' | 'organisation';

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
  return `${rule.period === 'day' ? 'daily' : 'monthly'} limit of ${who}${what}`;
}

export function parsePeriodFlags(daily: string | undefined, monthly: string | undefined): { period: Period; text: string; flag: string } {
  if (daily !== undefined && monthly !== undefined) {
    throw new CreditsError('USAGE', '--daily and --monthly cannot be combined', { hint: 'set one limit per command' });
  }
  if (daily !== undefined) return { period: 'day', text: daily, flag: '--daily' };
  if (monthly !== undefined) return { period: 'month', text: monthly, flag: '--monthly' };
  throw new CreditsError('MISSING_FLAG', '--daily or --monthly is required', { hint: 'for example --daily 50 or --monthly 1000 (credits)' });
}
