import { describe, expect, it } from 'vitest';
import { addLimitWarnings, describeRule, softLimitWarning, type LimitRule } from '../../src/core/limits.js';

const soft: LimitRule = {
  id: 4,
  scope: 'user',
  userId: 1,
  departmentId: null,
  model: null,
  tier: 'premium',
  period: 'day',
  amountMillicredits: 10_000,
  kind: 'soft',
};
const names = { user: 'ada@example.com', department: 'Eng' };

describe('soft limit warnings', () => {
  it('warn only past the amount, where a hard limit of the same amount would refuse, and never for a hard limit', () => {
    expect(softLimitWarning(soft, names, '2026-12-07', 10_000)).toBeNull();
    expect(softLimitWarning({ ...soft, kind: 'hard' }, names, '2026-12-07', 10_001)).toBeNull();
    expect(softLimitWarning(soft, names, '2026-12-07', 10_001)).toEqual({
      limitId: 4,
      kind: 'soft',
      limit: 'daily soft limit of ada@example.com on premium models',
      scope: 'user',
      user: 'ada@example.com',
      department: null,
      model: null,
      tier: 'premium',
      period: 'day',
      periodKey: '2026-12-07',
      amountMillicredits: 10_000,
      spentMillicredits: 10_001,
      message: 'daily soft limit of ada@example.com on premium models (10.0 credits) passed: 10.001 credits spent in 2026-12-07',
    });
    expect(describeRule({ ...soft, kind: 'hard', tier: null }, names)).toBe('daily limit of ada@example.com');
  });

  it('keep one warning per limit and period, the later replacing the earlier', () => {
    const at = (periodKey: string, spent: number) => softLimitWarning(soft, names, periodKey, spent)!;
    const list = [at('2026-12-06', 12_000)];
    addLimitWarnings(list, [at('2026-12-07', 11_000), at('2026-12-07', 13_000)]);
    addLimitWarnings(list, [at('2026-12-07', 12_500)]);
    expect(list.map((warning) => [warning.periodKey, warning.spentMillicredits])).toEqual([
      ['2026-12-06', 12_000],
      ['2026-12-07', 12_500],
    ]);
  });
});
