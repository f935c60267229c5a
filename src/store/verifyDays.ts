import { periodBounds, type PeriodBounds } from '../core/time.js';
import type { UsageEventRow } from './verify.js';

/** One day-total key's sums over some events: day, user, department, model, feature, events, cost, drawn from the org (decimal text). */
export type DaySum = [
  dayKey: string,
  userId: number,
  departmentId: number,
  model: string,
  feature: string,
  events: number,
  millicredits: string,
  drawn: string,
];

/**
 * Plain numbers, not BigInt (three allocations per event were a tenth of the walk): `unsafe`
 * when a sum went past 2^53, which the check then reports instead of comparing a rounded figure.
 */
type Sums = { events: number; millicredits: number; drawn: number; unsafe: boolean };

export const dayTotalKey = (userId: number, departmentId: number, model: string, feature: string): string =>
  `${userId}\u0000${departmentId}\u0000${model}\u0000${feature}`;

/**
 * Sums usage events per local day and usage_daily key, as the writer did (usagePoster.ts): the
 * incremental verify compares the day totals of the days new events fall on. An event's day is
 * found through a one-day cache: events of one import mostly share it.
 */
export class DayTally {
  readonly days = new Map<string, Map<string, Sums & { row: DaySum }>>();
  private bounds: PeriodBounds | undefined;

  constructor(private readonly timeZone: string) {}

  readonly observe = (page: readonly UsageEventRow[]): void => {
    for (const event of page) {
      const at = event.occurredAtMs;
      let bounds = this.bounds;
      if (bounds === undefined || at < bounds.startMs || at >= bounds.endMs) {
        bounds = periodBounds(at, 'day', this.timeZone);
        this.bounds = bounds;
      }
      const sum = this.sumOf(bounds.key, event.userId, event.departmentId, event.model, event.feature);
      sum.events += 1;
      sum.millicredits += event.costMillicredits;
      sum.drawn += event.drawnFromOrgMillicredits;
      if (!Number.isSafeInteger(sum.millicredits) || !Number.isSafeInteger(sum.drawn)) sum.unsafe = true;
    }
  };

  /** Adds another tally's sums (a worker thread's, in order). */
  merge(rows: readonly DaySum[]): void {
    for (const [dayKey, userId, departmentId, model, feature, events, millicredits, drawn] of rows) {
      const sum = this.sumOf(dayKey, userId, departmentId, model, feature);
      sum.events += events;
      sum.millicredits += Number(millicredits);
      sum.drawn += Number(drawn);
      if (!Number.isSafeInteger(sum.millicredits) || !Number.isSafeInteger(sum.drawn) || !Number.isSafeInteger(Number(millicredits))) sum.unsafe = true;
    }
  }

  rows(): DaySum[] {
    return [...this.days.values()].flatMap((day) =>
      [...day.values()].map(
        ({ row, events, millicredits, drawn }): DaySum => [row[0], row[1], row[2], row[3], row[4], events, String(millicredits), String(drawn)],
      ),
    );
  }

  private sumOf(dayKey: string, userId: number, departmentId: number, model: string, feature: string): Sums & { row: DaySum } {
    let day = this.days.get(dayKey);
    if (day === undefined) {
      day = new Map();
      this.days.set(dayKey, day);
    }
    const key = dayTotalKey(userId, departmentId, model, feature);
    let sum = day.get(key);
    if (sum === undefined) {
      sum = { events: 0, millicredits: 0, drawn: 0, unsafe: false, row: [dayKey, userId, departmentId, model, feature, 0, '0', '0'] };
      day.set(key, sum);
    }
    return sum;
  }
}
