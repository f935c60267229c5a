import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, balanceOf, seededLedger, type Ledger } from '../helpers/cli.js';

type Purchase = {
  id: number;
  account: string;
  packageName: string;
  quantity: number;
  status: string;
  origin: string;
  priceCents: number;
  millicredits: number;
};
type Schedule = { id: number; account: string; dayOfMonth: number; packageName: string; method: string; servedMonth: string | null };

describe(`recharge to a target and scheduled top-ups on a ${TARGET} ledger`, () => {
  let ledger: Ledger;

  const recharges = async (account: string): Promise<Purchase[]> =>
    (await ledger.ok(['purchases', '--json']))
      .json<{ purchases: Purchase[] }>()
      .purchases.filter((purchase) => purchase.origin === 'recharge' && purchase.account === account);
  const at = (iso: string) => ({ env: { CREDITS_NOW: iso } });

  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['transfer', '1000', '--from', 'org', '--to', 'Engineering']);
  });
  afterAll(async () => {
    await ledger?.close();
  });

  it('buys the cheapest packages that bring the balance back to the target when it falls below the threshold', async () => {
    const set = await ledger.ok([
      'recharge',
      'set',
      '--for',
      'Engineering',
      '--threshold',
      '500',
      '--target',
      '12000',
      '--method',
      'card',
      '--monthly-cap',
      '200',
      '--json',
    ]);
    expect(set.json()).toMatchObject({ account: 'Engineering', packageName: null, targetMillicredits: 12_000_000, thresholdMillicredits: 500_000 });
    // 0.05 credits a tool call: 600 credits spent, 400 left, below the threshold: 11,600 are missing.
    await ledger.ok(['usage', 'record', '--user', 'ada@example.com', '--model', 'llama-3.1-groq', '--tool-calls', '12000', '--quiet']);
    // Basic × 2 + Professional (12,000 credits, €115) beats Professional + Standard (€142.50) and Team (€450).
    const bought = await recharges('Engineering');
    expect(bought.map((purchase) => [purchase.packageName, purchase.quantity, purchase.millicredits, purchase.priceCents, purchase.status])).toEqual([
      ['basic', 2, 2_000_000, 2_000, 'settled'],
      ['professional', 1, 10_000_000, 9_500, 'settled'],
    ]);
    expect(await balanceOf(ledger, 'Engineering')).toBe(12_400_000);

    // 13,000 credits asked with 12,400 left: the refusal buys up to the event's cost (Basic, 600 short),
    // the event posts and leaves 400, and the next plan (€115 again) would pass the €200 cap: refused whole.
    await ledger.ok(['usage', 'record', '--user', 'ada@example.com', '--model', 'llama-3.1-groq', '--tool-calls', '260000', '--quiet']);
    expect((await recharges('Engineering')).map((purchase) => [purchase.packageName, purchase.quantity])).toEqual([
      ['basic', 2],
      ['professional', 1],
      ['basic', 1],
    ]);
    expect(await balanceOf(ledger, 'Engineering')).toBe(400_000);
    const listed = (await ledger.ok(['recharge', '--json'])).json<{ rules: object[] }>().rules;
    expect(listed).toEqual([
      expect.objectContaining({ account: 'Engineering', targetMillicredits: 12_000_000, monthSpentCents: 12_500, monthRecharges: 3, armed: false }),
    ]);
    // Next month's cap would let it buy again; the schedules below are tested alone.
    await ledger.ok(['recharge', 'off', '--for', 'Engineering']);
  });

  it('refuses bad flags with exit 2 (or 4 for an unknown schedule) and writes nothing', async () => {
    const refused = async (args: string[], code: string, exitCode = 2, names: string[] = []) => {
      const result = await ledger.run([...args, '--json']);
      const error = JSON.parse(result.stderr).error as { code: string; message: string };
      expect([args.join(' '), result.exitCode, error.code]).toEqual([args.join(' '), exitCode, code]);
      for (const name of names) expect(error.message).toContain(name);
    };
    const rule = ['recharge', 'set', '--for', 'Marketing', '--threshold', '500', '--method', 'card', '--monthly-cap', '50'];
    await refused([...rule, '--package', 'basic', '--target', '1000'], 'USAGE', 2, ['--package', '--target']);
    await refused([...rule, '--target', '499'], 'INVALID_VALUE', 2, ['--target', '--threshold']);
    await refused([...rule, '--package', 'basic', '--custom-discount', '20'], 'USAGE', 2, ['--custom-discount']);
    await refused(['recharge', 'schedule', '--monthly-on', '32', '--package', 'basic'], 'INVALID_VALUE', 2, ['--monthly-on']);
    await refused(['recharge', 'schedule', '--monthly-on', '1', '--package', 'basic', '--method', 'invoice'], 'USAGE', 2, ['--method']);
    await refused(['recharge', 'schedule', 'remove', '9'], 'SCHEDULE_NOT_FOUND', 4);
    const state = (await ledger.ok(['recharge', '--json'])).json<{ rules: object[]; schedules: object[] }>();
    expect([state.rules, state.schedules]).toEqual([[], []]);
  });

  it('buys a scheduled package once a month on or after its day (the 31st is the last day of February), however often run runs', async () => {
    const made = await ledger.ok(
      ['recharge', 'schedule', '--for', 'Marketing', '--monthly-on', '31', '--package', 'standard', '--json'],
      at('2027-02-10T09:00:00Z'),
    );
    expect(made.json()).toMatchObject({ id: 1, account: 'Marketing', dayOfMonth: 31, packageName: 'standard', method: 'card', servedMonth: null });
    const early = await ledger.ok(['recharge', 'run', '--json'], at('2027-02-27T12:00:00Z'));
    expect(early.json()).toEqual({ rules: 0, schedules: 1, recharges: [] });
    for (const iso of ['2027-02-28T08:00:00Z', '2027-02-28T09:00:00Z']) await ledger.ok(['recharge', 'run', '--quiet'], at(iso));
    const bought = await recharges('Marketing');
    expect(bought.map((purchase) => [purchase.packageName, purchase.millicredits, purchase.priceCents, purchase.status])).toEqual([
      ['standard', 5_000_000, 4_750, 'settled'],
    ]);
    expect(await balanceOf(ledger, 'Marketing')).toBe(5_000_000);
    const listed = (await ledger.ok(['recharge', '--json'], at('2027-02-28T10:00:00Z'))).json<{ schedules: Schedule[] }>().schedules;
    expect(listed).toEqual([{ id: 1, account: 'Marketing', dayOfMonth: 31, packageName: 'standard', method: 'card', servedMonth: '2027-02' }]);

    await ledger.ok(['recharge', 'schedule', 'remove', '1'], at('2027-03-01T10:00:00Z'));
    const after = await ledger.ok(['recharge', 'run', '--json'], at('2027-03-31T10:00:00Z'));
    expect(after.json()).toEqual({ rules: 0, schedules: 0, recharges: [] });
    expect((await ledger.ok(['verify', '--json'], at('2027-03-31T10:00:00Z'))).json().ok).toBe(true);
  });
});
