import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, freshLedger, type BalanceJson, type Ledger } from '../helpers/cli.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/receivers.js';

/** llama-3.1-groq costs 0.05 credits per tool call, so any amount of credits is spent exactly. */
function spend(ledger: Ledger, user: string, credits: number) {
  return ledger.run(['usage', 'record', '--user', user, '--model', 'llama-3.1-groq', '--tool-calls', String(Math.round(credits * 20)), '--json']);
}

async function percentOf(ledger: Ledger, account: string): Promise<number | null> {
  const balances = (await ledger.ok(['balance', '--json'])).json<BalanceJson>();
  return balances.accounts.find((row) => row.account === account)!.percentLeft;
}

describe(`percentage left, alert levels and the moment usage is paused on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  let receiver: WebhookReceiver;
  /** Events delivered so far, as [type, account] plus what a test looks at. */
  const delivered = async () => {
    await ledger.ok(['notify', 'run']);
    return receiver.requests.map((request) => request.json as { type: string; text: string; data: Record<string, unknown> });
  };

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    ledger = await freshLedger();
    await ledger.ok(['init', '--org', 'Test GmbH']);
    for (const [dept, user] of [
      ['Eng', 'ada@example.com'],
      ['Ops', 'bob@example.com'],
    ] as const) {
      await ledger.ok(['dept', 'add', dept]);
      await ledger.ok(['user', 'add', user, '--dept', dept]);
    }
    await ledger.ok(['notify', 'channel', 'add', 'webhook', receiver.url]);
    await ledger.ok(['buy', 'professional', '--method', 'card']);
  });
  afterAll(async () => {
    await ledger?.close();
    await receiver?.close();
  });

  it('measures against the month: a small top-up moves it a little, allocating the pool changes nothing for the organisation', async () => {
    const bad = await ledger.run(['notify', 'levels', 'set', '50,20,20', '--json']);
    expect(bad.exitCode).toBe(2);
    expect(JSON.parse(bad.stderr).error).toMatchObject({ code: 'INVALID_VALUE', message: 'LEVELS: 20 is given twice' });
    expect((await ledger.ok(['notify', 'levels', 'show', '--json'])).json()).toEqual({ levelsPercent: [20, 10, 0] });
    await ledger.ok(['notify', 'levels', 'set', '10,50,20,0']);
    expect((await ledger.ok(['notify', 'levels', 'show', '--json'])).json()).toEqual({ levelsPercent: [50, 20, 10, 0] });

    await ledger.ok(['transfer', '1000', '--from', 'org', '--to', 'Eng']);
    await ledger.ok(['transfer', '8900', '--from', 'org', '--to', 'Ops']); // nearly all of the pool handed out
    expect((await spend(ledger, 'ada@example.com', 400)).exitCode).toBe(0);
    await ledger.ok(['transfer', '5', '--from', 'org', '--to', 'Eng']);
    expect(await percentOf(ledger, 'Eng')).toBe(60.1); // 605 of 1,005, not 100%
    expect(await percentOf(ledger, 'org')).toBe(96); // 9,600 of the organisation's 10,000
    expect((await spend(ledger, 'ada@example.com', 250)).exitCode).toBe(0); // 355 of 1,005: below 50%

    const events = await delivered();
    expect(events.map((event) => [event.type, event.data.account, event.data.levelPercent])).toEqual([['balance.low', 'Eng', 50]]);
    expect(events[0]!.text).toBe("Eng is below 50% of this month's credits: 355.0 credits left of 1,005.0 (35.3%).");
    expect((await ledger.run(['check', '--dept', 'Eng', '--min-percent', '35.4'])).exitCode).toBe(3);
    expect((await ledger.run(['check', '--dept', 'Eng', '--min-percent', '35.3'])).exitCode).toBe(0);
    expect((await ledger.ok(['check', '--org', '--min-percent', '93.5', '--json'])).json()).toMatchObject({ ok: true, percentLeft: 93.5 });

    // For a user the tightest constraint counts: 350 of an economy-tier 1,000 a day (35.0%) is below Eng's 35.3%.
    const limit = (await ledger.ok(['limits', 'set', '--user', 'ada@example.com', '--tier', 'economy', '--daily', '1000', '--json'])).json<{
      limitId: number;
    }>();
    const low = await ledger.run(['check', '--user', 'ada@example.com', '--min-percent', '35.1', '--json']);
    expect(low.exitCode).toBe(3);
    expect(low.json()).toMatchObject({
      ok: false,
      percentLeft: 35,
      percentLimitedBy: `daily limit of ada@example.com on economy models (limit ${limit.limitId})`,
    });
    expect((await ledger.ok(['check', '--user', 'ada@example.com', '--min-percent', '35', '--json'])).json()).toMatchObject({ ok: true });
    await ledger.ok(['limits', 'remove', String(limit.limitId)]);
    expect((await ledger.ok(['check', '--user', 'ada@example.com', '--min-percent', '35.3', '--json'])).json()).toMatchObject({
      percentLimitedBy: 'Eng balance',
    });
  });

  it('tells the owners once when usage is refused for want of credits, though the balance is above 0', async () => {
    const before = receiver.requests.length;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const refused = await spend(ledger, 'ada@example.com', 400);
      expect(refused.exitCode).toBe(3);
      expect(JSON.parse(refused.stderr).error.code).toBe('INSUFFICIENT_CREDITS');
    }
    const paused = (await delivered()).slice(before);
    expect(paused.map((event) => [event.type, event.data.account, event.data.balanceMillicredits, event.data.neededMillicredits])).toEqual([
      ['usage.paused', 'Eng', 355_000, 400_000],
    ]);
    expect(paused[0]!.text).toContain('AI features of Eng are paused');
  });

  it('with a recharge rule, a refusal buys inside the same write: card posts the event, SEPA still refuses it', async () => {
    await ledger.ok(['recharge', 'set', '--for', 'Eng', '--threshold', '10', '--package', 'basic', '--method', 'card', '--monthly-cap', '100']);
    const posted = await spend(ledger, 'ada@example.com', 400);
    expect(posted.exitCode, posted.stderr).toBe(0);
    expect(posted.json().departmentBalanceMillicredits).toBe(955_000); // 355 + 1,000 - 400
    const before = receiver.requests.length;
    // The recharge cleared the pause and re-armed the rule (955 >= 10): the next refusal recharges
    // again (1,955 credits), is still short of 2,000, and speaks again.
    expect((await spend(ledger, 'ada@example.com', 2000)).exitCode).toBe(3);

    await ledger.ok(['transfer', '8850', '--from', 'Ops', '--to', 'org']); // Ops keeps 50
    await ledger.ok(['recharge', 'set', '--for', 'Ops', '--threshold', '10', '--package', 'basic', '--method', 'sepa', '--monthly-cap', '100']);
    expect((await spend(ledger, 'bob@example.com', 60)).exitCode).toBe(3);
    const pending = (await ledger.ok(['purchases', '--status', 'pending', '--json'])).json<{ purchases: { account: string; method: string }[] }>();
    expect(pending.purchases.map((row) => [row.account, row.method])).toEqual([['Ops', 'sepa']]);
    const events = (await delivered()).slice(before).filter((event) => event.type === 'recharge.done' || event.type === 'usage.paused');
    expect(events.map((event) => [event.type, event.data.account, event.data.balanceMillicredits])).toEqual([
      ['recharge.done', 'Eng', 355_000],
      ['recharge.done', 'Eng', 955_000],
      ['usage.paused', 'Eng', 1_955_000],
      ['recharge.done', 'Ops', 50_000],
      ['usage.paused', 'Ops', 50_000],
    ]);
    expect((await ledger.ok(['balance', 'Ops', '--json'])).json<BalanceJson>().accounts[0]!.millicredits).toBe(50_000);
    expect(events[0]!.text).toContain('1,000.0 credits for €10.00 by card');
    await ledger.ok(['verify']);
    // Last, as it posts in the future: a new month opens with what is left (Ops: 50 of an opening 50).
    const nextMonth = { CREDITS_NOW: new Date(Date.now() + 32 * 86_400_000).toISOString() };
    expect(await spend(ledger, 'bob@example.com', 5).then((result) => result.exitCode)).toBe(0);
    await ledger.ok(['usage', 'record', '--user', 'bob@example.com', '--model', 'llama-3.1-groq', '--tool-calls', '100'], { env: nextMonth });
    const later = (await ledger.ok(['balance', 'Ops', '--json'], { env: nextMonth })).json<BalanceJson>();
    expect(later.accounts[0]).toMatchObject({ millicredits: 40_000, percentLeft: 88.8 }); // 40 of an opening 45
  });
});
