import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, seededLedger, type Ledger } from '../helpers/cli.js';
import {
  RATES,
  berlinDay,
  csvMillicredits,
  csvRecords,
  footedCents,
  footedShareTenths,
  importUsage,
  parseCsv,
  plainNumber,
  priceOf,
  seeded,
  type UsageEvent,
} from '../helpers/readBack.js';

/**
 * `credits report` on a ledger whose usage the test posted itself: every figure is recomputed
 * here from the events and the default rate card (each part rounded up to the whole
 * millicredit), with days taken in Europe/Berlin by Intl, not by the program.
 */

const USERS = [
  { email: 'ada@example.com', dept: 'Engineering', weight: 5 },
  { email: 'grace@example.com', dept: 'Engineering', weight: 4 },
  { email: 'don@example.com', dept: 'Marketing', weight: 4 },
  { email: 'tim@example.com', dept: 'Research', weight: 1 },
];
const COST_CENTRES: Record<string, string | null> = { Engineering: 'CC-100', Marketing: 'CC-200', Research: null };
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-3.5-sonnet', 'claude-3-haiku', 'llama-3.1-groq'];
/** No workflow here: that feature is kept for the month-boundary events below. */
const FEATURES = ['chat', 'summarize', 'translate', 'analyze'];

function generateEvents(): UsageEvent[] {
  const next = seeded(4_2026);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const weighted = USERS.flatMap((user) => Array.from({ length: user.weight }, () => user));
  const events: UsageEvent[] = [];
  const from = Date.parse('2026-02-20T00:00:00Z');
  const to = Date.parse('2026-05-06T00:00:00Z');
  for (let index = 0; index < 260; index += 1) {
    const user = pick(weighted);
    const at = new Date(from + Math.floor((next() * (to - from)) / 1000) * 1000).toISOString();
    events.push({
      eventId: `r-${index}`,
      user: user.email,
      model: pick(MODELS),
      inputTokens: Math.floor(next() * 3000),
      outputTokens: Math.floor(next() * 1500),
      toolCalls: next() < 0.3 ? 1 + Math.floor(next() * 3) : 0,
      feature: pick(FEATURES),
      at,
    });
  }
  return events;
}

/** The only workflow usage: at the edges of months, as seen from Berlin (CET until 29 March, then CEST). */
const BOUNDARY_EVENTS: UsageEvent[] = [
  { eventId: 'b-feb', user: 'tim@example.com', model: 'gpt-4o', inputTokens: 1000, feature: 'workflow', at: '2026-02-28T22:59:59Z' }, // 23:59:59 CET: 28 February
  { eventId: 'b-mar-1', user: 'tim@example.com', model: 'gpt-4o', inputTokens: 2000, feature: 'workflow', at: '2026-02-28T23:30:00Z' }, // 00:30 CET: 1 March
  { eventId: 'b-mar-31', user: 'tim@example.com', model: 'gpt-4o', inputTokens: 3000, feature: 'workflow', at: '2026-03-31T21:30:00Z' }, // 23:30 CEST: 31 March
  { eventId: 'b-apr-1', user: 'tim@example.com', model: 'gpt-4o', inputTokens: 4000, feature: 'workflow', at: '2026-03-31T22:30:00Z' }, // 00:30 CEST: 1 April
  { eventId: 'b-apr-30', user: 'tim@example.com', model: 'gpt-4o', inputTokens: 5000, feature: 'workflow', at: '2026-04-30T21:59:59Z' }, // 23:59:59 CEST: 30 April
  { eventId: 'b-may-1', user: 'tim@example.com', model: 'gpt-4o', inputTokens: 6000, feature: 'workflow', at: '2026-04-30T22:00:00Z' }, // 00:00 CEST: 1 May
];

const EVENTS = [...generateEvents(), ...BOUNDARY_EVENTS];
const DEPT_OF: Record<string, string> = Object.fromEntries(USERS.map((user) => [user.email, user.dept]));

type Row = { key: string; detail: string | null; events: number; millicredits: number; credits: number; valueCents: number; sharePercent: number };
type Report = {
  by: string;
  period: { firstDay: string; lastDay: string; label: string };
  department: string | null;
  rows: Row[];
  totals: { events: number; millicredits: number; credits: number; valueCents: number; sharePercent: number };
};

/** What the report must say, from the events posted: grouped, biggest spend first, then by key. */
function expected(by: string, firstDay: string, lastDay: string, dept?: string): { rows: Row[]; totals: Report['totals'] } {
  const groups = new Map<string, { detail: string | null; events: number; millicredits: number }>();
  for (const event of EVENTS) {
    const day = berlinDay(event.at);
    if (day < firstDay || day > lastDay) continue;
    const department = DEPT_OF[event.user]!;
    if (dept !== undefined && department !== dept) continue;
    const [key, detail] =
      by === 'user'
        ? [event.user, department]
        : by === 'dept'
          ? [department, COST_CENTRES[department] ?? null]
          : by === 'model'
            ? [event.model, RATES[event.model]!.tier]
            : by === 'feature'
              ? [event.feature ?? 'chat', null]
              : [day, null];
    const group = groups.get(key) ?? { detail, events: 0, millicredits: 0 };
    group.events += 1;
    group.millicredits += priceOf(event);
    groups.set(key, group);
  }
  const total = [...groups.values()].reduce((sum, group) => sum + group.millicredits, 0);
  const sorted = [...groups.entries()]
    .map(([key, group]) => ({ key, detail: group.detail, events: group.events, millicredits: group.millicredits, credits: group.millicredits / 1000 }))
    .sort((a, b) => b.millicredits - a.millicredits || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  // Values and shares foot: lines rounded by largest remainder to the total rounded once, and to 100.0%.
  const cents = footedCents(sorted.map((row) => row.millicredits));
  const shares = footedShareTenths(sorted.map((row) => row.millicredits));
  const rows = sorted.map((row, index) => ({ ...row, valueCents: cents[index]!, sharePercent: shares[index]! / 10 }));
  return {
    rows,
    totals: {
      events: rows.reduce((sum, row) => sum + row.events, 0),
      millicredits: total,
      credits: total / 1000,
      valueCents: Math.floor((total + 500) / 1000),
      sharePercent: total === 0 ? 0 : 100,
    },
  };
}

const euros = (millicredits: number): string => {
  const cents = Math.floor((millicredits + 500) / 1000);
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
};

describe(`report on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  let dir: string;
  const report = async (args: string[]): Promise<Report> => (await ledger.ok(['report', ...args, '--json'])).json<Report>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-report-'));
    ledger = await seededLedger();
    await ledger.ok(['dept', 'add', 'Research']);
    await ledger.ok(['user', 'add', 'grace@example.com', '--dept', 'Engineering']);
    await ledger.ok(['user', 'add', 'tim@example.com', '--dept', 'Research']);
    await ledger.ok(['transfer', '4000', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['transfer', '3000', '--from', 'org', '--to', 'Marketing']);
    await ledger.ok(['transfer', '1500', '--from', 'org', '--to', 'Research']);
    await importUsage(ledger, EVENTS);
  });
  afterAll(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['user', 'dept', 'model', 'feature', 'day'])('--by %s --month 2026-03: the figures posted, biggest first, with totals', async (by) => {
    const result = await report(['--by', by, '--month', '2026-03']);
    const want = expected(by, '2026-03-01', '2026-03-31');
    expect(want.rows.length).toBeGreaterThan(2);
    expect(result).toEqual({ by, period: { firstDay: '2026-03-01', lastDay: '2026-03-31', label: '2026-03' }, department: null, ...want });
    const millicredits = result.rows.map((row) => row.millicredits);
    expect(millicredits).toEqual([...millicredits].sort((a, b) => b - a));
    expect(result.rows.reduce((sum, row) => sum + row.sharePercent, 0)).toBeCloseTo(100, 0);
  });

  it('--since/--until takes both days whole, in Berlin', async () => {
    const byDay = await report(['--by', 'day', '--since', '2026-03-10', '--until', '2026-04-05']);
    expect(byDay).toEqual({
      by: 'day',
      period: { firstDay: '2026-03-10', lastDay: '2026-04-05', label: '2026-03-10 to 2026-04-05' },
      department: null,
      ...expected('day', '2026-03-10', '2026-04-05'),
    });
    expect(byDay.rows.map((row) => row.key).sort()).toEqual(expect.arrayContaining(['2026-03-10', '2026-04-05']));
    expect(byDay.rows.every((row) => row.key >= '2026-03-10' && row.key <= '2026-04-05')).toBe(true);
  });

  it('--dept keeps one department only', async () => {
    const engineering = await report(['--by', 'user', '--month', '2026-04', '--dept', 'Engineering']);
    expect(engineering.department).toBe('Engineering');
    expect(engineering.rows.map((row) => row.key).sort()).toEqual(['ada@example.com', 'grace@example.com']);
    expect(engineering).toMatchObject(expected('user', '2026-04-01', '2026-04-30', 'Engineering'));
    expect(engineering.totals.millicredits).toBeLessThan(expected('user', '2026-04-01', '2026-04-30').totals.millicredits);
    const missing = await ledger.run(['report', '--dept', 'Nowhere', '--json']);
    expect(missing.exitCode).toBe(4);
    expect(JSON.parse(missing.stderr).error.code).toBe('DEPARTMENT_NOT_FOUND');
  });

  it('cuts months at midnight in Europe/Berlin: 22:30Z on 31 March is April', async () => {
    const workflow = async (month: string): Promise<Row | undefined> =>
      (await report(['--by', 'feature', '--month', month])).rows.find((row) => row.key === 'workflow');
    const cost = (id: string): number => priceOf(BOUNDARY_EVENTS.find((event) => event.eventId === id)!);
    // March: 00:30 on 1 March and 23:30 on 31 March, not 23:59:59 on 28 February nor 00:30 on 1 April.
    expect(await workflow('2026-03')).toMatchObject({ events: 2, millicredits: cost('b-mar-1') + cost('b-mar-31') });
    // April: 00:30 on 1 April (22:30Z on 31 March) and 23:59:59 on 30 April, not midnight on 1 May.
    expect(await workflow('2026-04')).toMatchObject({ events: 2, millicredits: cost('b-apr-1') + cost('b-apr-30') });
  });

  it('an empty period has no rows and zero totals', async () => {
    const empty = await report(['--by', 'user', '--month', '2025-01']);
    expect(empty.rows).toEqual([]);
    expect(empty.totals).toEqual({ events: 0, millicredits: 0, credits: 0, valueCents: 0, sharePercent: 0 });
  });

  it('prints a table with a total row when not asked for JSON', async () => {
    const want = expected('dept', '2026-04-01', '2026-04-30');
    const result = await ledger.ok(['report', '--by', 'dept', '--month', '2026-04']);
    expect(result.stdout).toContain('Usage by department, 2026-04');
    const lines = result.stdout.split('\n');
    const position = (name: string): number => lines.findIndex((line) => line.includes(name));
    expect(position(want.rows[0]!.key)).toBeLessThan(position(want.rows[1]!.key));
    const total = lines.find((line) => line.includes('Total'))!;
    expect(total).toContain(want.totals.events.toLocaleString('en-US'));
    const [whole, cents] = euros(want.totals.millicredits).split('.');
    expect(total).toContain(`€${Number(whole).toLocaleString('en-US')}.${cents}`);
  });

  it('--format csv: a header row, one row per group, plain dot-decimal numbers', async () => {
    const result = await ledger.ok(['report', '--by', 'user', '--month', '2026-03', '--format', 'csv']);
    const rows = parseCsv(result.stdout);
    expect(rows[0]).toEqual(['user', 'department', 'events', 'credits', 'euros', 'share_percent']);
    const want = expected('user', '2026-03-01', '2026-03-31');
    expect(rows.slice(1)).toHaveLength(want.rows.length);
    csvRecords(result.stdout).forEach((record, index) => {
      const row = want.rows[index]!;
      expect(record.user).toBe(row.key);
      expect(record.department).toBe(row.detail);
      expect(plainNumber(record.events!)).toBe(row.events);
      expect(csvMillicredits(record.credits!)).toBe(row.millicredits);
      expect(record.euros).toMatch(/^\d+\.\d{2}$/);
      expect(record.euros).toBe(`${Math.floor(row.valueCents / 100)}.${String(row.valueCents % 100).padStart(2, '0')}`);
      expect(plainNumber(record.share_percent!)).toBe(row.sharePercent);
    });
  });

  it('--output writes the file whole (csv or json from the name), replacing an older one, no temp file left', async () => {
    const csvPath = join(dir, 'april.csv');
    writeFileSync(csvPath, 'an older report\n');
    const written = await ledger.ok(['report', '--by', 'dept', '--month', '2026-04', '--output', csvPath]);
    expect(written.stdout).toContain(csvPath);
    const records = csvRecords(readFileSync(csvPath, 'utf8'));
    const want = expected('dept', '2026-04-01', '2026-04-30');
    expect(records.map((record) => [record.department, record.cost_centre, Number(record.events), csvMillicredits(record.credits!)])).toEqual(
      want.rows.map((row) => [row.key, row.detail ?? '', row.events, row.millicredits]),
    );

    const jsonPath = join(dir, 'april.json');
    const info = (await ledger.ok(['report', '--by', 'model', '--month', '2026-04', '--output', jsonPath, '--json'])).json();
    expect(info).toMatchObject({ path: jsonPath, format: 'json', rows: expected('model', '2026-04-01', '2026-04-30').rows.length });
    expect(JSON.parse(readFileSync(jsonPath, 'utf8'))).toEqual({
      by: 'model',
      period: { firstDay: '2026-04-01', lastDay: '2026-04-30', label: '2026-04' },
      department: null,
      ...expected('model', '2026-04-01', '2026-04-30'),
    });

    const explicit = join(dir, 'days.txt');
    await ledger.ok(['report', '--by', 'day', '--month', '2026-04', '--format', 'csv', '--output', explicit]);
    const days = parseCsv(readFileSync(explicit, 'utf8'));
    expect(days[0]).toEqual(['day', 'events', 'credits', 'euros', 'share_percent']);
    expect(days.slice(1).map((row) => [row[0], csvMillicredits(row[2]!)])).toEqual(
      expected('day', '2026-04-01', '2026-04-30').rows.map((row) => [row.key, row.millicredits]),
    );
    expect(readdirSync(dir).sort()).toEqual(['april.csv', 'april.json', 'days.txt']);
  });

  it('refuses a bad --by, --month, period or --format with exit 2 and writes nothing to stdout', async () => {
    const cases: [string[], string][] = [
      [['--by', 'week'], 'USAGE'],
      [['--month', '2026-13'], 'INVALID_DATE'],
      [['--since', '2026-04-10', '--until', '2026-04-01'], 'INVALID_DATE'],
      [['--month', '2026-04', '--since', '2026-04-01'], 'USAGE'],
      [['--format', 'table', '--output', join(dir, 'never.txt')], 'INVALID_VALUE'],
    ];
    // Read-only calls: run side by side.
    const results = await Promise.all(cases.map(([args]) => ledger.run(['report', ...args, '--json'])));
    results.forEach((result, index) => {
      expect({ args: cases[index]![0], exitCode: result.exitCode, code: JSON.parse(result.stderr).error.code, stdout: result.stdout }).toEqual({
        args: cases[index]![0],
        exitCode: 2,
        code: cases[index]![1],
        stdout: '',
      });
    });
    expect(readdirSync(dir)).not.toContain('never.txt');
  });
});
