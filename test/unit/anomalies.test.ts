import { describe, it, expect } from 'vitest';
import { CreditsError } from '../../src/core/errors.js';
import { DEFAULT_ANOMALY_OPTIONS, findAnomalies, type AnomalySubject, type SubjectSeries } from '../../src/core/anomalies.js';
import { median, medianAbsoluteDeviation } from '../../src/core/robustStats.js';
import { addLocalDays, localMidnightUtc, localParts } from '../../src/core/time.js';
import type { DayAmount } from '../../src/core/forecast.js';

function series(fromKey: string, toKey: string, amountOf: (dayKey: string, index: number) => number): DayAmount[] {
  const rows: DayAmount[] = [];
  for (let dayKey = fromKey, index = 0; dayKey <= toKey; dayKey = addLocalDays(dayKey, 1), index++)
    rows.push({ dayKey, millicredits: amountOf(dayKey, index) });
  return rows;
}

function noise(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 31 - 1;
  };
}

const isWeekend = (dayKey: string): boolean => [0, 6].includes(localParts(localMidnightUtc(dayKey, 'UTC'), 'UTC').weekday);

const ada: AnomalySubject = { kind: 'user', name: 'ada@example.com', department: 'Research' };

describe('robust statistics', () => {
  it('takes medians and MADs', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(medianAbsoluteDeviation([1, 1, 2, 2, 4, 6, 9])).toBe(1);
    expect(() => median([])).toThrow(CreditsError);
  });
});

describe('findAnomalies', () => {
  it('finds a spike and says how many times the baseline it is', () => {
    // 9, 10, 11 credits in turn; then 60 credits on 10 March.
    const days = series('2026-02-01', '2026-03-15', (dayKey, index) => (dayKey === '2026-03-10' ? 60_000 : ([9_000, 10_000, 11_000][index % 3] ?? 0)));
    const found = findAnomalies({ series: [{ subject: ada, days }], sinceKey: '2026-03-01' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      subject: ada,
      dayKey: '2026-03-10',
      millicredits: 60_000,
      baselineMillicredits: 10_000,
      baselineDays: 28,
      timesBaseline: 6,
      judgedAgainst: 'own',
    });
    // MAD 1,000 -> scale 1,482.6; (60,000 - 10,000) / 1,482.6 = 33.7.
    expect(found[0]?.score).toBe(33.7);
  });

  it('rounds times-baseline to one decimal and judges only from `since`', () => {
    const days = series('2026-02-01', '2026-03-15', (dayKey) => (dayKey === '2026-03-10' || dayKey === '2026-02-27' ? 123_456 : 20_000));
    const found = findAnomalies({ series: [{ subject: ada, days }], sinceKey: '2026-03-01' });
    expect(found.map((row) => row.dayKey)).toEqual(['2026-03-10']);
    expect(found[0]?.timesBaseline).toBe(6.2); // 6.1728
    // The earlier spike is in the window but does not move the median.
    expect(found[0]?.baselineMillicredits).toBe(20_000);
  });

  it('leaves ordinary noise alone', () => {
    const random = noise(7);
    const days = series('2026-01-01', '2026-03-31', () => Math.round(40_000 * (1 + 0.5 * random())));
    const found = findAnomalies({ series: [{ subject: ada, days }], sinceKey: '2026-02-01', options: { minMillicredits: 0 } });
    expect(found).toEqual([]);
  });

  it('leaves idle days out of the baseline', () => {
    // Works weekdays only: with the weekend zeros in, the median would be far lower.
    const days = series('2026-02-01', '2026-03-15', (dayKey) => (isWeekend(dayKey) ? 0 : 30_000));
    expect(findAnomalies({ series: [{ subject: ada, days }], sinceKey: '2026-03-01' })).toEqual([]);
    const spiked = days.map((row) => (row.dayKey === '2026-03-11' ? { ...row, millicredits: 100_000 } : row));
    expect(findAnomalies({ series: [{ subject: ada, days: spiked }], sinceKey: '2026-03-01' })).toMatchObject([
      { dayKey: '2026-03-11', baselineMillicredits: 30_000, baselineDays: 20, timesBaseline: 3.3 },
    ]);
  });

  it('needs a real amount, not only a high score', () => {
    // 0.5 credits a day to 5 credits: ten times, but below the 50-credit floor.
    const days = series('2026-02-01', '2026-03-15', (dayKey) => (dayKey === '2026-03-10' ? 5_000 : 500));
    expect(findAnomalies({ series: [{ subject: ada, days }], sinceKey: '2026-03-01' })).toEqual([]);
    expect(findAnomalies({ series: [{ subject: ada, days }], sinceKey: '2026-03-01', options: { minMillicredits: 5_000 } })).toHaveLength(1);
  });

  it('needs at least the times-baseline factor, not only a high score', () => {
    // Flat 100 credits, then 250: the score is 15, but it is only 2.5 times the median.
    const days = series('2026-02-01', '2026-03-15', (dayKey) => (dayKey === '2026-03-10' ? 250_000 : 100_000));
    expect(findAnomalies({ series: [{ subject: ada, days }], sinceKey: '2026-03-01' })).toEqual([]);
    expect(findAnomalies({ series: [{ subject: ada, days }], sinceKey: '2026-03-01', options: { minTimesBaseline: 2.5 } })).toHaveLength(1);
  });

  it('copes with MAD = 0 by a scale of a tenth of the median', () => {
    const days = series('2026-02-01', '2026-03-15', (dayKey) => (dayKey === '2026-03-10' ? 60_000 : dayKey === '2026-03-05' ? 12_000 : 10_000));
    const found = findAnomalies({ series: [{ subject: ada, days }], sinceKey: '2026-03-01' });
    // 12,000 is a score of 2 (2,000 / 1,000); 60,000 a score of 50.
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ dayKey: '2026-03-10', baselineMillicredits: 10_000, timesBaseline: 6, score: 50 });
    expect(found.every((row) => Number.isFinite(row.score))).toBe(true);
    expect(DEFAULT_ANOMALY_OPTIONS.scaleFloorFraction).toBe(0.1);
  });

  describe('a user with too little history', () => {
    const newcomer: AnomalySubject = { kind: 'user', name: 'new@example.com', department: 'Research' };
    const newcomerDays = [{ dayKey: '2026-03-10', millicredits: 200_000 }];

    it('is judged against the department per-user baseline the caller supplies', () => {
      // Research: 4 active users spending 80 credits together a day, 20 credits each.
      const departmentDays = series('2026-02-01', '2026-03-15', () => 80_000).map((row) => ({ ...row, activeUsers: 4 }));
      const found = findAnomalies({
        series: [{ subject: newcomer, days: newcomerDays }],
        departmentActivity: [{ department: 'Research', days: departmentDays }],
        sinceKey: '2026-03-01',
      });
      expect(found).toEqual([
        {
          subject: newcomer,
          dayKey: '2026-03-10',
          millicredits: 200_000,
          baselineMillicredits: 20_000,
          baselineDays: 28,
          timesBaseline: 10,
          score: 90,
          judgedAgainst: 'department',
        },
      ]);
    });

    it("is judged against a baseline derived from the department's users when none is supplied", () => {
      const colleagues: SubjectSeries[] = ['a', 'b', 'c'].map((name, offset) => ({
        subject: { kind: 'user', name: `${name}@example.com`, department: 'Research' },
        days: series('2026-02-01', '2026-03-15', () => 18_000 + offset * 2_000),
      }));
      const found = findAnomalies({ series: [...colleagues, { subject: newcomer, days: newcomerDays }], sinceKey: '2026-03-01' });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ subject: newcomer, judgedAgainst: 'department', baselineMillicredits: 20_000, timesBaseline: 10 });
    });

    it('is not judged at all when the department has no history either', () => {
      const found = findAnomalies({ series: [{ subject: newcomer, days: newcomerDays }], sinceKey: '2026-03-01' });
      expect(found).toEqual([]);
      const homeless = findAnomalies({ series: [{ subject: { kind: 'user', name: 'x@example.com' }, days: newcomerDays }], sinceKey: '2026-03-01' });
      expect(homeless).toEqual([]);
    });

    it('is judged against itself once it has 7 active days in the window', () => {
      const days = [...series('2026-03-01', '2026-03-07', () => 30_000), { dayKey: '2026-03-08', millicredits: 200_000 }];
      const departmentDays = series('2026-02-01', '2026-03-15', () => 80_000).map((row) => ({ ...row, activeUsers: 4 }));
      const found = findAnomalies({
        series: [{ subject: newcomer, days }],
        departmentActivity: [{ department: 'Research', days: departmentDays }],
        sinceKey: '2026-03-08',
      });
      expect(found).toMatchObject([{ judgedAgainst: 'own', baselineMillicredits: 30_000, baselineDays: 7 }]);
    });
  });

  it('judges departments against their own history only', () => {
    const research: AnomalySubject = { kind: 'department', name: 'Research' };
    const days = series('2026-02-01', '2026-03-15', (dayKey) => (dayKey === '2026-03-12' ? 900_000 : 200_000));
    expect(findAnomalies({ series: [{ subject: research, days }], sinceKey: '2026-03-01' })).toMatchObject([
      { subject: research, dayKey: '2026-03-12', judgedAgainst: 'own', timesBaseline: 4.5 },
    ]);
    const young = days.filter((row) => row.dayKey >= '2026-03-08');
    expect(findAnomalies({ series: [{ subject: research, days: young }], sinceKey: '2026-03-01' })).toEqual([]);
  });

  it('sorts by day, then the largest spend first', () => {
    const flat = (spikes: Record<string, number>) => series('2026-02-01', '2026-03-15', (dayKey) => spikes[dayKey] ?? 10_000);
    const found = findAnomalies({
      series: [
        { subject: { kind: 'user', name: 'b@example.com', department: 'Ops' }, days: flat({ '2026-03-05': 60_000, '2026-03-02': 70_000 }) },
        { subject: { kind: 'user', name: 'a@example.com', department: 'Ops' }, days: flat({ '2026-03-05': 90_000 }) },
        { subject: { kind: 'department', name: 'Ops' }, days: flat({ '2026-03-05': 60_000 }) },
      ],
      sinceKey: '2026-03-01',
    });
    expect(found.map((row) => [row.dayKey, row.subject.name, row.millicredits])).toEqual([
      ['2026-03-02', 'b@example.com', 70_000],
      ['2026-03-05', 'a@example.com', 90_000],
      ['2026-03-05', 'Ops', 60_000],
      ['2026-03-05', 'b@example.com', 60_000],
    ]);
  });

  it('stops at `until` and returns nothing for an empty input', () => {
    const days = series('2026-02-01', '2026-03-15', (dayKey) => (dayKey === '2026-03-10' ? 60_000 : 10_000));
    expect(findAnomalies({ series: [{ subject: ada, days }], sinceKey: '2026-03-01', untilKey: '2026-03-09' })).toEqual([]);
    expect(findAnomalies({ series: [], sinceKey: '2026-03-01' })).toEqual([]);
  });

  it('refuses options that make no sense', () => {
    const input = { series: [], sinceKey: '2026-03-01' };
    expect(() => findAnomalies({ ...input, options: { windowDays: 3 } })).toThrow(CreditsError);
    expect(() => findAnomalies({ ...input, options: { minActiveDays: 40 } })).toThrow(/minimum active days/);
    expect(() => findAnomalies({ ...input, options: { scaleFloorFraction: 0 } })).toThrow(/scaleFloorFraction/);
    expect(() => findAnomalies({ ...input, sinceKey: '2026-13-01' })).toThrow(CreditsError);
  });
});
