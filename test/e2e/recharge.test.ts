import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, seededLedger, type Ledger } from '../helpers/cli.js';

/** llama-3.1-groq costs 0.05 credits per tool call, so any amount of credits is spent exactly. */
async function spend(ledger: Ledger, user: string, credits: number): Promise<void> {
  await ledger.ok(['usage', 'record', '--user', user, '--model', 'llama-3.1-groq', '--tool-calls', String(Math.round(credits * 20)), '--quiet']);
}

type Purchase = { id: number; account: string; packageName: string; method: string; status: string; origin: string; priceCents: number; millicredits: number };
type Rule = {
  account: string;
  thresholdMillicredits: number;
  packageName: string;
  method: string;
  monthlyCapCents: number;
  armed: boolean;
  balanceMillicredits: number;
  monthSpentCents: number;
  monthRecharges: number;
};
type Event = { id: string; type: string; text: string; data: Record<string, unknown> };

describe(`automatic recharge on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  let dir: string;
  let eventsFile: string;

  const purchases = async (): Promise<Purchase[]> => (await ledger.ok(['purchases', '--json'])).json<{ purchases: Purchase[] }>().purchases;
  const recharges = async (): Promise<Purchase[]> => (await purchases()).filter((purchase) => purchase.origin === 'recharge');
  const rules = async (): Promise<Rule[]> => (await ledger.ok(['recharge', '--json'])).json<{ rules: Rule[] }>().rules;
  const pending = async (): Promise<number> =>
    (await ledger.ok(['notify', 'channels', '--json'])).json<{ channels: { pending: number }[] }>().channels[0]!.pending;
  /** Delivers what is queued to the command channel and returns every event it has received so far. */
  const delivered = async (): Promise<Event[]> => {
    await ledger.ok(['notify', 'run', '--quiet']);
    if (!existsSync(eventsFile)) return [];
    return readFileSync(eventsFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Event);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-recharge-'));
    eventsFile = join(dir, 'events.jsonl');
    ledger = await seededLedger();
    await ledger.ok(['notify', 'channel', 'add', 'command', `cat >> '${eventsFile}'`]);
    await ledger.ok(['transfer', '1000', '--from', 'org', '--to', 'Engineering']);
  });
  afterAll(async () => {
    await ledger?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('buys the package by card inside the usage write that leaves the balance below the threshold', async () => {
    const set = (
      await ledger.ok([
        'recharge',
        'set',
        '--for',
        'Engineering',
        '--threshold',
        '200',
        '--package',
        'basic',
        '--method',
        'card',
        '--monthly-cap',
        '10',
        '--json',
      ])
    ).json();
    expect(set).toMatchObject({ account: 'Engineering', thresholdMillicredits: 200_000, packageName: 'basic', method: 'card', monthlyCapCents: 1000 });
    await spend(ledger, 'ada@example.com', 790); // 210 left: above the threshold, nothing happens
    expect((await rules())[0]).toMatchObject({ account: 'Engineering', balanceMillicredits: 210_000, monthSpentCents: 0, monthRecharges: 0 });

    await spend(ledger, 'ada@example.com', 20); // 190 left: below, so the same command buys basic
    expect((await rules())[0]).toMatchObject({ balanceMillicredits: 190_000 + 1_000_000, monthSpentCents: 1000, monthRecharges: 1, monthlyCapCents: 1000 });
    const [made, ...more] = await recharges();
    expect(more).toEqual([]);
    expect(made).toMatchObject({
      account: 'Engineering',
      packageName: 'basic',
      method: 'card',
      status: 'settled',
      origin: 'recharge',
      priceCents: 1000,
      millicredits: 1_000_000,
    });
    expect(await pending()).toBe(1); // recharge.done was queued with the purchase

    const events = await delivered();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'recharge.done',
      data: {
        account: 'Engineering',
        purchaseId: made!.id,
        packageName: 'basic',
        method: 'card',
        status: 'settled',
        priceCents: 1000,
        monthSpentCents: 1000,
        monthlyCapCents: 1000,
      },
    });
    expect(events[0]!.text).toContain('Automatic recharge of Engineering');
    // (No low-balance notice: the recharge is a top-up, 1,190 credits are the new 100%.)
    const table = await ledger.ok(['recharge']);
    expect(table.stdout).toContain('€10.00 of €10.00 (1×)');
  });

  it('refuses the next crossing this month when the package would pass the monthly cap, and notifies it once', async () => {
    await spend(ledger, 'ada@example.com', 10); // 1,180: back above the threshold
    await spend(ledger, 'ada@example.com', 1000); // 180: below again, but the cap of €10 is spent
    expect((await rules())[0]).toMatchObject({ balanceMillicredits: 180_000, monthSpentCents: 1000, monthRecharges: 1 });
    const refused = (await delivered()).filter((event) => event.type === 'recharge.refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      data: { account: 'Engineering', packageName: 'basic', priceCents: 1000, monthSpentCents: 1000, monthlyCapCents: 1000 },
    });
    expect(refused[0]!.text).toContain('refused');

    // Further spending below the threshold is the same crossing: no second refusal, no purchase.
    await spend(ledger, 'ada@example.com', 30);
    const recheck = await ledger.run(['recharge', 'run', '--json']);
    expect(recheck.exitCode).toBe(0);
    expect(recheck.json()).toEqual({ rules: 1, schedules: 0, recharges: [] });
    expect((await delivered()).filter((event) => event.type.startsWith('recharge.')).map((event) => event.type)).toEqual(['recharge.done', 'recharge.refused']);
    expect((await rules())[0]).toMatchObject({ balanceMillicredits: 150_000, monthSpentCents: 1000, monthRecharges: 1 });
  });

  it('with SEPA records a pending recharge and makes no second one while it is pending', async () => {
    await ledger.ok(['transfer', '1000', '--from', 'org', '--to', 'Marketing']);
    await ledger.ok(['recharge', 'set', '--for', 'Marketing', '--threshold', '200', '--package', 'basic', '--method', 'sepa', '--monthly-cap', '100']);
    await spend(ledger, 'don@example.com', 850); // 150 left, and nothing credited yet
    const sepa = (await recharges()).filter((purchase) => purchase.account === 'Marketing');
    expect(sepa).toHaveLength(1);
    expect(sepa[0]).toMatchObject({ method: 'sepa', status: 'pending', origin: 'recharge', packageName: 'basic' });
    // Nothing was credited, so the low-balance notice comes too.
    const events = (await delivered()).filter((event) => event.data.account === 'Marketing');
    expect(events.map((event) => event.type)).toEqual(['recharge.done', 'balance.low']);
    expect(events[0]).toMatchObject({ data: { status: 'pending', method: 'sepa', purchaseId: sepa[0]!.id } });
    expect(events[0]!.text).toContain('pending until settled');

    // Still below the threshold while the SEPA debit is pending: no second recharge, by a write or by
    // cron; `recharge run --quiet` prints nothing, twice.
    await spend(ledger, 'don@example.com', 50);
    for (let run = 0; run < 2; run += 1) {
      const cron = await ledger.run(['recharge', 'run', '--quiet']);
      expect([cron.exitCode, cron.stdout, cron.stderr]).toEqual([0, '', '']);
    }
    expect((await recharges()).filter((purchase) => purchase.account === 'Marketing')).toHaveLength(1);
    expect((await rules()).find((rule) => rule.account === 'Marketing')).toMatchObject({
      balanceMillicredits: 100_000,
      monthSpentCents: 1000,
      monthRecharges: 1,
    });
  });

  it('credits the SEPA recharge when settled, and the next crossing recharges again', async () => {
    const [pendingSepa] = (await recharges()).filter((purchase) => purchase.account === 'Marketing');
    const settled = await ledger.ok(['purchases', 'settle', String(pendingSepa!.id)]);
    expect(settled.stdout).toContain('Marketing');
    expect((await rules()).find((rule) => rule.account === 'Marketing')).toMatchObject({
      balanceMillicredits: 1_100_000,
      armed: true,
      monthSpentCents: 1000,
      monthlyCapCents: 10_000,
    });
    await spend(ledger, 'don@example.com', 950); // 150 left: a new crossing
    const again = (await recharges()).filter((purchase) => purchase.account === 'Marketing');
    expect(again.map((purchase) => purchase.status)).toEqual(['settled', 'pending']);
    expect((await rules()).find((rule) => rule.account === 'Marketing')).toMatchObject({ monthSpentCents: 2000, monthRecharges: 2 });
  });

  it('recharge run says what it checked, and recharge off stops a rule', async () => {
    const cron = await ledger.ok(['recharge', 'run']);
    expect(cron.stdout.trim()).toBe('Checked 2 rule(s): no recharge due.');
    const count = (await recharges()).length;

    const off = await ledger.ok(['recharge', 'off', '--for', 'Marketing']);
    expect(off.stdout.trim()).toBe('Marketing is no longer recharged automatically.');
    expect((await rules()).map((rule) => rule.account)).toEqual(['Engineering']);
    await ledger.ok(['transfer', '1000', '--from', 'org', '--to', 'Marketing']);
    await spend(ledger, 'don@example.com', 1000);
    expect((await recharges()).length).toBe(count);
    const again = await ledger.ok(['recharge', 'off', '--for', 'Marketing']);
    expect(again.stdout.trim()).toBe('Marketing had no automatic recharge.');

    const invoice = await ledger.run(['recharge', 'set', '--threshold', '100', '--package', 'basic', '--method', 'invoice', '--monthly-cap', '50', '--json']);
    expect(invoice.exitCode).toBe(2);
    const unknown = await ledger.run([
      'recharge',
      'set',
      '--for',
      'Nowhere',
      '--threshold',
      '100',
      '--package',
      'basic',
      '--method',
      'card',
      '--monthly-cap',
      '50',
      '--json',
    ]);
    expect(unknown.exitCode).toBe(4);
    expect((await ledger.ok(['verify', '--json'])).json().ok).toBe(true);
  });
});
