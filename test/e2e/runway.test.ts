import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, freshLedger, type Ledger } from '../helpers/cli.js';
import { dayRange, importUsage } from '../helpers/readBack.js';

/**
 * The runway past month end, with the clock pinned to Wednesday 10 June 2026, 14:00 in Berlin.
 * Engineering bought 5,000 credits on 20 May, and ada spent exactly 100 credits every day from
 * then to 9 June (2,000 tool calls of llama-3.1-groq at 0.05 credits): 2,900 are left, and a flat
 * history projects exactly 100 a day. So the end of each day from today is 2,800, 2,700, ...
 * and 0 on 8 July: 28 days from today.
 */

const NOW = '2026-06-10T12:00:00Z';

type Runway = { runsOutOn: string | null; days: number | null; outlook: string; horizonDays: number; inflowMillicredits: number; rechargeCount: number };
type CheckJson = { ok: boolean; minDays: number | null; runway: Pick<Runway, 'runsOutOn' | 'days' | 'outlook' | 'horizonDays'> | null };

describe(`runway on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  const at = { env: { CREDITS_NOW: NOW } };
  const runway = async (): Promise<Runway> =>
    (await ledger.ok(['forecast', '--dept', 'Engineering', '--json'], at)).json<{ depletionDayKey: string | null; runway: Runway }>().runway;
  const check = (minDays: string, json = true) => ledger.run(['check', '--dept', 'Engineering', '--min-days', minDays, ...(json ? ['--json'] : [])], at);

  beforeAll(async () => {
    ledger = await freshLedger();
    const start = { env: { CREDITS_NOW: '2026-05-20T05:00:00Z' } };
    await ledger.ok(['init', '--org', 'Runway GmbH'], start);
    await ledger.ok(['dept', 'add', 'Engineering'], start);
    await ledger.ok(['user', 'add', 'ada@example.com', '--dept', 'Engineering'], start);
    await ledger.ok(['buy', 'standard', '--method', 'card', '--for', 'Engineering'], start);
    const events = dayRange('2026-05-20', '2026-06-09').map((day) => ({
      eventId: `ada-${day}`,
      user: 'ada@example.com',
      model: 'llama-3.1-groq',
      toolCalls: 2000,
      at: `${day}T09:00:00Z`,
    }));
    await importUsage(ledger, events, { CREDITS_NOW: NOW });
  }, 120_000);
  afterAll(async () => {
    await ledger.close();
  });

  it('forecast gives the day credits run out past month end, and check --min-days fails below it with exit 3', async () => {
    const forecast = (await ledger.ok(['forecast', '--dept', 'Engineering', '--json'], at)).json();
    expect(forecast.depletionDayKey).toBeNull();
    expect(forecast.runway).toMatchObject({ runsOutOn: '2026-07-08', days: 28, outlook: 'runs-out', horizonDays: 365, rechargeCount: 0 });
    const text = await ledger.ok(['forecast', '--dept', 'Engineering'], at);
    expect(text.stdout).toMatch(/Runway\s+2026-07-08 \(in 28 days\)/);

    const enough = await check('28');
    expect(enough.exitCode).toBe(0);
    expect(enough.json<CheckJson>()).toMatchObject({ ok: true, minDays: 28, runway: { runsOutOn: '2026-07-08', days: 28 } });
    const short = await check('29');
    expect(short.exitCode).toBe(3);
    expect(short.json<CheckJson>()).toMatchObject({ ok: false, minDays: 29, runway: { runsOutOn: '2026-07-08', days: 28, outlook: 'runs-out' } });
    expect(JSON.parse(short.stderr).error).toMatchObject({ code: 'BUDGET_LOW' });
    expect(JSON.parse(short.stderr).error.message).toContain('run out on 2026-07-08');
  });

  it('refuses a --min-days that is not a whole number of days from 1 to 365, naming the flag', async () => {
    for (const bad of ['0', '1.5', '366']) {
      const result = await check(bad, false);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain('--min-days');
    }
  });

  it('counts a pending purchase on its expected day, and a recharge rule within its monthly cap', async () => {
    // 1,000 credits by SEPA, expected on 13 June: ten days more.
    await ledger.ok(['buy', 'basic', '--method', 'sepa', '--for', 'Engineering'], at);
    expect(await runway()).toMatchObject({ runsOutOn: '2026-07-18', days: 38, inflowMillicredits: 1_000_000, rechargeCount: 0 });
    expect((await check('40')).exitCode).toBe(3);

    // Basic (1,000 credits, €10) by card below 500 credits, at most €10 a month: bought once, on
    // 14 July at 400 credits; the next crossing on 24 July is over July's cap; none left on 28 July.
    await ledger.ok(['recharge', 'set', '--for', 'Engineering', '--threshold', '500', '--package', 'basic', '--method', 'card', '--monthly-cap', '10'], at);
    expect(await runway()).toMatchObject({ runsOutOn: '2026-07-28', days: 48, rechargeCount: 1 });
    const extended = await check('40');
    expect(extended.exitCode).toBe(0);
    expect(extended.json<CheckJson>().runway).toMatchObject({ days: 48 });
  });
});
