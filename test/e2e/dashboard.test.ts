import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, TARGET, freshLedger, type BalanceJson, type Ledger } from '../helpers/cli.js';
import { addDays, dayRange } from '../helpers/readBack.js';

/**
 * The demo ledger (90 days of usage with a weekday pattern and a spike planted two days ago),
 * made and read with the clock pinned, through every reading command; then the dashboard and
 * `watch`, which refreshes until Ctrl-C.
 */

const NOW = '2026-06-10T12:00:00Z';
const TODAY = '2026-06-10';
const SPIKE_DAY = addDays(TODAY, -2);

type Dashboard = {
  monthKey: string;
  todayKey: string;
  balances: { account: string; costCenter: string | null; millicredits: number; percentLeft: number | null }[];
  totalMillicredits: number;
  burnRateMillicreditsPerDay: number;
  depletionDayKey: string | null;
  projectedBalanceAtMonthEndMillicredits: number;
  topUsers: { key: string; detail: string | null; events: number; millicredits: number }[];
  topModels: { key: string; detail: string | null; events: number; millicredits: number }[];
  last30Days: { dayKey: string; millicredits: number }[];
  alerts: { level: 'critical' | 'warning'; message: string }[];
};

describe(`the demo ledger, dashboard and watch on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  const pinned = { env: { CREDITS_NOW: NOW } };

  beforeAll(async () => {
    ledger = await freshLedger();
    const init = await ledger.ok(['init', '--demo'], pinned);
    expect(init.stdout).toContain('90 days');
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('report works on the demo by every grouping, and every grouping adds up to the same total', async () => {
    const groups = ['user', 'dept', 'model', 'feature', 'day'];
    const results = await Promise.all(groups.map((by) => ledger.run(['report', '--by', by, '--month', '2026-05', '--json'], pinned)));
    for (const result of results) expect(result.exitCode).toBe(0);
    const totals = results.map((result) => result.json().totals);
    expect(totals[0].millicredits).toBeGreaterThan(0);
    for (const total of totals) expect(total).toEqual(totals[0]);
    const byDept = results[1]!.json();
    expect(byDept.rows.map((row: { key: string; detail: string }) => [row.key, row.detail]).sort()).toEqual([
      ['Engineering', 'CC-100'],
      ['Marketing', 'CC-200'],
      ['Sales', 'CC-300'],
      ['Support', 'CC-400'],
    ]);
    // May has 31 days and the demo uses AI on every one of them.
    expect(results[4]!.json().rows).toHaveLength(31);
  });

  it('forecast works on the demo and judges its own accuracy on the complete months', async () => {
    const result = await ledger.run(['forecast', '--json'], pinned);
    expect(result.exitCode).toBe(0);
    const forecast = result.json();
    expect(forecast).toMatchObject({ monthKey: '2026-06', todayKey: TODAY, scope: 'organisation', method: 'weekday-level-trend', depletionDayKey: null });
    // The demo started 90 days ago, on 12 March: April and May are the complete months.
    expect(forecast.accuracy.months.map((month: { monthKey: string }) => month.monthKey)).toEqual(['2026-04', '2026-05']);
    expect(forecast.accuracy.judgedMonthCount).toBe(2);
    expect(typeof forecast.accuracy.meanAbsolutePercentError).toBe('number');
    // The Team package bought by SEPA two days ago is expected three days after it was made.
    expect(forecast.pending).toEqual([expect.objectContaining({ method: 'sepa', dayKey: addDays(SPIKE_DAY, 3), millicredits: 50_000_000 })]);
    expect(forecast.projectedBalanceAtMonthEndMillicredits).toBe(forecast.balanceMillicredits + 50_000_000 - forecast.projectedRemainingMillicredits);
    const text = await ledger.run(['forecast'], pinned);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain('Forecast 2026-06, organisation');
    expect(text.stdout).toMatch(/accuracy at mid-month: \d+\.\d% mean absolute error over 2 month\(s\)/);
  });

  it('anomalies finds the spike planted two days ago', async () => {
    const result = await ledger.run(['anomalies', '--json'], pinned);
    expect(result.exitCode).toBe(0);
    const { anomalies } = result.json();
    const grace = anomalies.find((row: { subject: { name: string } }) => row.subject.name === 'grace@demo.example');
    expect(grace).toMatchObject({ dayKey: SPIKE_DAY, judgedAgainst: 'own' });
    expect(grace.timesBaseline).toBeGreaterThan(10);
    expect(anomalies.every((row: { dayKey: string }) => row.dayKey === SPIKE_DAY)).toBe(true);
    const text = await ledger.run(['anomalies'], pinned);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`${SPIKE_DAY} +│ grace@demo\\.example`));
  });

  it('dashboard --json: balances, burn rate, the last 30 days and the open alerts', async () => {
    const [dashboardResult, balanceResult, reportResult] = await Promise.all([
      ledger.run(['dashboard', '--json'], pinned),
      ledger.run(['balance', '--json'], pinned),
      ledger.run(['report', '--by', 'day', '--since', addDays(TODAY, -29), '--until', TODAY, '--json'], pinned),
    ]);
    expect(dashboardResult.exitCode).toBe(0);
    const dashboard = dashboardResult.json<Dashboard>();
    expect(dashboard).toMatchObject({ monthKey: '2026-06', todayKey: TODAY, depletionDayKey: null });

    const { accounts } = balanceResult.json<BalanceJson>();
    expect(dashboard.balances.map((row) => [row.account, row.millicredits, row.percentLeft])).toEqual(
      accounts.map((row) => [row.account, row.millicredits, row.percentLeft]),
    );
    expect(dashboard.balances.find((row) => row.account === 'Engineering')?.costCenter).toBe('CC-100');
    expect(dashboard.totalMillicredits).toBe(accounts.reduce((sum, row) => sum + row.millicredits, 0));

    expect(dashboard.last30Days).toHaveLength(30);
    expect(dashboard.last30Days.map((day) => day.dayKey)).toEqual(dayRange(addDays(TODAY, -29), TODAY));
    const reported = new Map(reportResult.json().rows.map((row: { key: string; millicredits: number }) => [row.key, row.millicredits]));
    expect(dashboard.last30Days.map((day) => day.millicredits)).toEqual(dashboard.last30Days.map((day) => reported.get(day.dayKey) ?? 0));
    // Burn rate: the mean of the seven whole days before today.
    const week = dashboard.last30Days.slice(-8, -1).reduce((sum, day) => sum + day.millicredits, 0);
    expect(dashboard.burnRateMillicreditsPerDay).toBe(Math.round(week / 7));

    expect(dashboard.topUsers[0]?.key).toBe('grace@demo.example');
    expect(dashboard.topUsers.length).toBeLessThanOrEqual(5);
    expect(dashboard.topModels.length).toBeGreaterThan(0);
    expect(dashboard.alerts).toContainEqual({
      level: 'warning',
      message: expect.stringMatching(new RegExp(`^grace@demo\\.example spent [\\d.]+x the usual on ${SPIKE_DAY}$`)),
    });
  });

  it('dashboard prints one screen with a sparkline of the last 30 days', async () => {
    const result = await ledger.run(['dashboard'], pinned);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`Credits dashboard, ${TODAY}`);
    const sparkline = result.stdout.split('\n').find((line) => line.startsWith('Last 30 days'));
    expect(sparkline?.replace('Last 30 days  ', '')).toMatch(/^[ ▁▂▃▄▅▆▇█]{30}$/);
    expect(result.stdout).toContain('Top users 2026-06');
    expect(result.stdout).toContain(`grace@demo.example spent`);
  });

  it('watch --interval 0.3 refreshes until Ctrl-C, then exits 0 saying how often it refreshed', async () => {
    const child = execa('node', [BIN, '--db', ledger.location, 'watch', '--interval', '0.3'], {
      env: { CI: '1', NO_COLOR: '1' },
      extendEnv: true,
      reject: false,
      timeout: 30_000,
    });
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
    });
    const screensSoFar = (): number => seen.split('Credits dashboard, ').length - 1;
    const until = async (done: () => boolean, limitMs: number): Promise<void> => {
      for (const deadline = Date.now() + limitMs; !done() && Date.now() < deadline && child.exitCode === null; )
        await new Promise((resolve) => setTimeout(resolve, 50));
    };
    // A busy machine can take a while to start node: wait for the first screen, let it run for
    // 1.5 s, and give a slow second refresh a little longer before pressing Ctrl-C.
    await until(() => screensSoFar() >= 1, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await until(() => screensSoFar() >= 2, 5_000);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(0);
    const stdout = String(result.stdout);
    const screens = stdout.split('Credits dashboard, ').length - 1;
    expect(screens).toBeGreaterThanOrEqual(2);
    expect(stdout.trimEnd().split('\n').at(-1)).toBe(`Stopped watching after ${screens} refreshes.`);
    expect(String(result.stderr)).toBe('');
  });

  it('watch refuses an interval under 0.2 seconds (exit 2)', async () => {
    const result = await ledger.run(['watch', '--interval', '0.1', '--json']);
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(result.stderr).error.message).toContain('--interval');
  });
});

describe(`the demo made on a Tuesday, on a ${TARGET} ledger`, () => {
  it('plants its spike on the Friday before, since a weekend spike would not stand out', async () => {
    const ledger = await freshLedger();
    try {
      // 2026-12-01 is a Tuesday: two days before is a Sunday.
      const tuesday = { env: { CREDITS_NOW: '2026-12-01T19:00:00Z' } };
      await ledger.ok(['init', '--demo'], tuesday);
      const { anomalies } = (await ledger.ok(['anomalies', '--json'], tuesday)).json();
      expect(anomalies).toContainEqual(expect.objectContaining({ dayKey: '2026-11-27', subject: expect.objectContaining({ name: 'grace@demo.example' }) }));
    } finally {
      await ledger.close();
    }
  });
});
