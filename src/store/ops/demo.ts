import { quotePackage } from '../../core/packages.js';
import { addLocalDays, localDateKey, localMidnightUtc, weekdayOf } from '../../core/time.js';
import type { UsageRecord } from '../../core/usageRecord.js';
import type { Database } from '../driver.js';
import { LedgerWriter } from '../ledgerWriter.js';
import { UsagePoster } from './usagePoster.js';
import { watchBalances } from '../notify/watchers.js';
import type { MutationRequest } from '../mutation.js';
import { addDepartment, addUser } from './organisation.js';
import { buyCredits, transferCredits } from './money.js';
import { seededRandom as random } from '../../core/random.js';

const DAY_MS = 86_400_000;

export const DEMO_DEPARTMENTS = [
  { name: 'Engineering', costCenter: 'CC-100', users: ['ada', 'linus', 'grace'], allocation: 40_000 },
  { name: 'Marketing', costCenter: 'CC-200', users: ['don', 'peggy'], allocation: 15_000 },
  { name: 'Sales', costCenter: 'CC-300', users: ['joan', 'pete'], allocation: 10_000 },
  { name: 'Support', costCenter: 'CC-400', users: ['roger', 'bert'], allocation: 8_000 },
];

export type DemoSummary = { departments: number; users: number; purchases: number; transfers: number; usageEvents: number };

/**
 * A sample organisation so a newcomer sees every command working at once. Built through the same
 * operations a person would run, so it is as valid (and verifiable) as any other ledger.
 */
export async function loadDemo(db: Database, actor: string, nowMs: number, timeZone: string): Promise<DemoSummary> {
  const startMs = nowMs - 90 * DAY_MS;
  const request = (command: string, atMs: number): MutationRequest => ({ command, args: { demo: true }, actor, nowMs: atMs });
  let users = 0;
  for (const department of DEMO_DEPARTMENTS) {
    await addDepartment(db, request('dept add', startMs), { name: department.name, costCenter: department.costCenter });
    for (const user of department.users) {
      await addUser(db, request('user add', startMs), { email: `${user}@demo.example`, department: department.name });
      users += 1;
    }
  }
  await buyCredits(db, request('buy', startMs + DAY_MS), { quote: quotePackage('enterprise', 'card'), accountName: 'org' });
  let transfers = 0;
  for (const department of DEMO_DEPARTMENTS) {
    await transferCredits(db, request('transfer', startMs + 2 * DAY_MS), {
      from: 'org',
      to: department.name,
      millicredits: department.allocation * 1000,
      reason: 'quarterly budget',
    });
    transfers += 1;
  }
  // Posted in time order, so transaction numbers follow the clock as in a real ledger.
  const usage = demoUsage(nowMs, timeZone, startMs + 3 * DAY_MS);
  const sepaAtMs = nowMs - 2 * DAY_MS;
  await postDemoUsage(
    db,
    actor,
    timeZone,
    usage.filter((record) => record.occurredAtMs! < sepaAtMs),
  );
  await buyCredits(db, request('buy', sepaAtMs), { quote: quotePackage('team', 'sepa'), accountName: 'org' });
  await postDemoUsage(
    db,
    actor,
    timeZone,
    usage.filter((record) => record.occurredAtMs! >= sepaAtMs),
  );
  const usageEvents = usage.length;
  return { departments: DEMO_DEPARTMENTS.length, users, purchases: 2, transfers, usageEvents };
}

const DEMO_MODELS = ['gpt-4o-mini', 'gpt-4o-mini', 'claude-3.5-sonnet', 'claude-3-haiku', 'gpt-4o', 'gpt-3.5-turbo'];
const DEMO_FEATURES = ['chat', 'chat', 'summarize', 'translate', 'analyze'] as const;

/**
 * Usage for every working hour since the allocations: fewer events at weekends, a slow upward
 * trend, and one planted spike on the last working day at least two days ago (grace runs a large analysis) for `anomalies`.
 */
function demoUsage(nowMs: number, timeZone: string, fromMs: number): UsageRecord[] {
  const next = random(20261125);
  const records: UsageRecord[] = [];
  const today = localDateKey(nowMs, timeZone);
  // Two days ago, or the working day before when that was a weekend: a weekend spike of 12x a
  // quiet weekend day would not stand out against the weekday baseline.
  let spikeDay = addLocalDays(today, -2);
  while (weekdayOf(spikeDay) === 0 || weekdayOf(spikeDay) === 6) spikeDay = addLocalDays(spikeDay, -1);
  let id = 0;
  for (let day = localDateKey(fromMs, timeZone); day <= today; day = addLocalDays(day, 1)) {
    const midnightMs = localMidnightUtc(day, timeZone);
    const weekday = weekdayOf(day);
    const weekend = weekday === 0 || weekday === 6;
    for (const department of DEMO_DEPARTMENTS) {
      for (const user of department.users) {
        const events = Math.round(
          (weekend ? 1 : 6) * (0.6 + next()) * (department.name === 'Engineering' ? 2 : 1) * (day === spikeDay && user === 'grace' ? 12 : 1),
        );
        for (let index = 0; index < events; index += 1) {
          const occurredAtMs = midnightMs + Math.floor((8 + next() * 10) * 3_600_000);
          if (occurredAtMs > nowMs) continue;
          id += 1;
          records.push({
            user: `${user}@demo.example`,
            model: DEMO_MODELS[Math.floor(next() * DEMO_MODELS.length)]!,
            inputTokens: 200 + Math.floor(next() * 3000),
            outputTokens: 100 + Math.floor(next() * 1500),
            toolCalls: next() < 0.2 ? 1 + Math.floor(next() * 3) : 0,
            feature: DEMO_FEATURES[Math.floor(next() * DEMO_FEATURES.length)]!,
            images: 0,
            imageSize: 'standard',
            dbAccess: false,
            eventId: `demo-${id}`,
            occurredAtMs,
            tags: null,
          });
        }
      }
    }
  }
  return records.sort((a, b) => a.occurredAtMs! - b.occurredAtMs!);
}

async function postDemoUsage(db: Database, actor: string, timeZone: string, records: UsageRecord[]): Promise<void> {
  // One batch per day, posted at that day's last event, as a platform's nightly import would:
  // statements (by posting time) and reports (by event time) then tell the same story.
  const byDay = new Map<string, UsageRecord[]>();
  for (const record of records) {
    const day = localDateKey(record.occurredAtMs!, timeZone);
    const list = byDay.get(day) ?? [];
    list.push(record);
    byDay.set(day, list);
  }
  for (const dayRecords of byDay.values()) {
    const postedAtMs = dayRecords[dayRecords.length - 1]!.occurredAtMs!;
    await db.write(async (tx) => {
      const ledger = await LedgerWriter.open(tx);
      const poster = await UsagePoster.open(tx, ledger, { timeZone, actor, nowMs: postedAtMs, memo: 'demo usage' });
      await poster.prefetch(dayRecords);
      for (const record of dayRecords) await poster.post(record);
      poster.finish();
      await watchBalances(tx, ledger, { nowMs: postedAtMs, actor });
      ledger.finish();
    });
  }
}
