import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, freshLedger, type Ledger } from '../helpers/cli.js';
import { signatureValid, startWebhookReceiver, tally, type WebhookReceiver, type WebhookRequest } from '../helpers/receivers.js';

/** llama-3.1-groq costs 0.05 credits per tool call, so any amount of credits is spent exactly. */
function spend(ledger: Ledger, user: string, credits: number) {
  return ledger.run(['usage', 'record', '--user', user, '--model', 'llama-3.1-groq', '--tool-calls', String(Math.round(credits * 20)), '--json']);
}

async function spendOk(ledger: Ledger, user: string, credits: number): Promise<void> {
  const result = await spend(ledger, user, credits);
  if (result.exitCode !== 0) throw new Error(`spending ${credits} exited ${result.exitCode}: ${result.stderr}`);
}

/** A ledger with one department, one user in it and 10,000 credits in the org pool. */
async function ledgerWith(department: string, user: string): Promise<Ledger> {
  const ledger = await freshLedger();
  await ledger.ok(['init', '--org', 'Test GmbH']);
  await ledger.ok(['dept', 'add', department]);
  await ledger.ok(['user', 'add', user, '--dept', department]);
  await ledger.ok(['buy', 'professional', '--method', 'card']);
  return ledger;
}

type RunJson = { delivered: number; retrying: number; failed: number; errors: { channelId: number; eventId: string; error: string }[] };
type ChannelJson = {
  id: number;
  kind: string;
  target: string;
  signed: boolean;
  pending: number;
  failing: boolean;
  consecutiveFailures: number;
  lastError: string | null;
  lastDeliveredAtMs: number | null;
};

async function channels(ledger: Ledger): Promise<ChannelJson[]> {
  return (await ledger.ok(['notify', 'channels', '--json'])).json<{ channels: ChannelJson[] }>().channels;
}

/** `notify run` reads its clock from CREDITS_NOW: this moves it on, to pass a retry backoff. */
const inSeconds = (seconds: number) => ({ CREDITS_NOW: new Date(Date.now() + seconds * 1000).toISOString() });

describe(`webhook notifications on a ${TARGET} ledger`, () => {
  const secret = 'whsec-0123456789';
  let ledger: Ledger;
  let receiver: WebhookReceiver;
  /** Balance events of one account that reached the signed channel, in order of arrival. */
  const balanceEvents = (account: string) =>
    receiver.requests.filter((request) => request.path === '/hook?signed' && request.json.type.startsWith('balance.') && request.json.data.account === account);

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    ledger = await ledgerWith('Engineering', 'ada@example.com');
    await ledger.ok(['notify', 'channel', 'add', 'webhook', `${receiver.url}?signed`, '--secret', secret]);
    await ledger.ok(['notify', 'channel', 'add', 'webhook', `${receiver.url}?plain`]);
  });
  afterAll(async () => {
    await ledger?.close();
    await receiver?.close();
  });

  it('notify test ID posts one signed JSON event to that channel only, with the event id in a header', async () => {
    const result = (await ledger.ok(['notify', 'test', '1', '--json'])).json<RunJson & { eventId: string }>();
    expect(result).toMatchObject({ delivered: 1, retrying: 0, failed: 0 });
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests as [WebhookRequest];
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/hook?signed');
    expect(request.headers['content-type']).toContain('application/json');
    expect(Object.keys(request.json).sort()).toEqual(['data', 'id', 'occurredAt', 'text', 'type']);
    expect(request.json).toMatchObject({ id: result.eventId, type: 'test', data: {} });
    expect(request.json.text).toMatch(/test notification/i);
    expect(Math.abs(Date.parse(request.json.occurredAt) - Date.now())).toBeLessThan(60_000);
    expect(request.headers['x-credits-event-id']).toBe(result.eventId);
    expect(signatureValid(secret, request.body, request.headers['x-credits-signature'])).toBe(true);
    expect(signatureValid('another-secret', request.body, request.headers['x-credits-signature'])).toBe(false);
    expect(signatureValid(secret, request.body.replace('"test"', '"Test"'), request.headers['x-credits-signature'])).toBe(false);

    const missing = await ledger.run(['notify', 'test', '9', '--json']);
    expect(missing.exitCode).toBe(4);
    expect(JSON.parse(missing.stderr).error.code).toBe('CHANNEL_NOT_FOUND');
    expect(receiver.requests).toHaveLength(1);
  });

  it('fires 20%, 10% and depleted once each while a department spends down, and nothing in between', async () => {
    await ledger.ok(['transfer', '1000', '--from', 'org', '--to', 'Engineering']);
    // Each event carries the balance it fired at, which tells the step that fired it.
    const steps = [
      790, // 210 left: 21%, nothing
      20, // 190 left: below 20%
      10, // 180, still below 20%: no repeat
      85, // 95 left: below 10%
      95, // exactly 0: depleted
    ];
    for (const credits of steps) await spendOk(ledger, 'ada@example.com', credits);
    const run = await ledger.ok(['notify', 'run', '--json']);
    expect(run.json<RunJson>()).toMatchObject({ delivered: 6, retrying: 0, failed: 0 });
    const events = balanceEvents('Engineering');
    expect(events.map((request) => [request.json.type, request.json.data.levelPercent, request.json.data.balanceMillicredits])).toEqual([
      ['balance.low', 20, 190_000],
      ['balance.low', 10, 95_000],
      ['balance.depleted', 0, 0],
    ]);
    expect(events[0]!.json.text).toBe("Engineering is below 20% of this month's credits: 190.0 credits left of 1,000.0 (19.0%).");
    expect(events[2]!.json.text).toContain('Engineering has no credits left');
    expect(events[0]!.json.data).toMatchObject({ openingMillicredits: 0, inflowMillicredits: 1_000_000, percentLeft: 19 });
    for (const request of events) {
      expect(request.headers['x-credits-event-id']).toBe(request.json.id);
      expect(signatureValid(secret, request.body, request.headers['x-credits-signature'])).toBe(true);
    }
    expect(new Set(events.map((request) => request.json.id)).size).toBe(3);
    // The channel added without --secret got the very same events (same ids), signed with its generated secret.
    const plain = receiver.requests.filter((request) => request.path === '/hook?plain' && request.json.type.startsWith('balance.'));
    expect(plain.map((request) => request.json.id)).toEqual(events.map((request) => request.json.id));
    expect(plain.every((request) => request.headers['webhook-id'] === request.json.id)).toBe(true);
  });

  it('a top-up says recovered and re-arms: the next crossing fires again, one write crossing two levels fires both', async () => {
    const earlier = new Set(balanceEvents('Engineering').map((request) => request.json.id));
    // 1,000 of this month's 2,000 credits: back above every level, in one event naming them.
    await ledger.ok(['buy', 'basic', '--for', 'Engineering', '--method', 'card']);
    await spendOk(ledger, 'ada@example.com', 950); // 50 of 2,000 left: below 20% and 10% at once
    await ledger.ok(['notify', 'run']);
    const fresh = balanceEvents('Engineering').filter((request) => !earlier.has(request.json.id));
    expect(fresh.map((request) => [request.json.type, request.json.data.levelPercent, request.json.data.balanceMillicredits])).toEqual([
      ['balance.recovered', 20, 1_000_000],
      ['balance.low', 20, 50_000],
      ['balance.low', 10, 50_000],
    ]);
    expect(fresh[0]!.json.data.levelsPercent).toEqual([20, 10, 0]);
    expect(fresh[0]!.json.text).toBe('Engineering is back above 20%: 1,000.0 credits left of 2,000.0 this month (50.0%).');
    expect(fresh[1]!.json.data).toMatchObject({ inflowMillicredits: 2_000_000, percentLeft: 2.5 });
    // Everything is delivered; nothing waits.
    expect((await channels(ledger)).map((channel) => [channel.id, channel.signed, channel.pending, channel.failing])).toEqual([
      [1, true, 0, false],
      [2, true, 0, false],
    ]);
  });
});

describe(`two notify runs at once on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    ledger = await ledgerWith('Marketing', 'don@example.com');
    for (const name of ['a', 'b', 'c']) await ledger.ok(['notify', 'channel', 'add', 'webhook', `${receiver.url}?${name}`]);
  });
  afterAll(async () => {
    await ledger?.close();
    await receiver?.close();
  });

  it('deliver every event to every channel exactly once between them', async () => {
    // Two rounds of top-up and spend-to-zero in Marketing: 2 x (20%, 10%, depleted) and the
    // second top-up's "recovered" = 7 events, 21 deliveries over three channels.
    for (let round = 0; round < 2; round += 1) {
      await ledger.ok(['transfer', '100', '--from', 'org', '--to', 'Marketing']);
      await spendOk(ledger, 'don@example.com', 100);
    }
    // The receiver holds its first answer until a second request arrives. A run sends one delivery
    // at a time, so that second request comes from the other run: both hold claims at once.
    let overlap = () => {};
    const bothSending = new Promise<void>((resolve) => {
      overlap = resolve;
      setTimeout(resolve, 25_000);
    });
    receiver.reply = (_request, index) => {
      if (index === 1) overlap();
      return { status: 200, until: index === 0 ? bothSending : undefined, delayMs: 20 };
    };
    const run = () => ledger.run(['notify', 'run', '--timeout', '40', '--json']);
    const runs = await Promise.all([run(), run()]);
    for (const run of runs) expect(run.exitCode, run.stderr).toBe(0);
    const totals = runs.map((run) => run.json<RunJson>());
    expect(totals[0]!.delivered + totals[1]!.delivered).toBe(21);
    expect(totals.every((total) => total.delivered > 0)).toBe(true);

    const perDelivery = tally(receiver.requests.map((request) => `${request.path} ${request.json.id}`));
    expect(perDelivery.size).toBe(21);
    expect([...perDelivery.values()].every((count) => count === 1)).toBe(true);
    expect(new Set(receiver.requests.map((request) => request.json.id)).size).toBe(7);
    expect((await channels(ledger)).map((channel) => channel.pending)).toEqual([0, 0, 0]);
    // A third run finds nothing left to send.
    expect((await ledger.ok(['notify', 'run', '--json'])).json<RunJson>().delivered).toBe(0);
    expect(receiver.requests).toHaveLength(21);
  });
});

describe(`retries and failing receivers on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  let receiver: WebhookReceiver;
  let downIsUp = false;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    // Channel 1 answers 500 to the first two tries of each event, then 200; channel 2 is down.
    receiver.reply = (request) => {
      if (request.path === '/hook?flaky') {
        const tries = receiver.requests.filter((earlier) => earlier.path === request.path && earlier.json.id === request.json.id).length;
        return { status: tries < 2 ? 500 : 200 };
      }
      return { status: downIsUp ? 200 : 500 };
    };
    ledger = await ledgerWith('Engineering', 'ada@example.com');
    await ledger.ok(['notify', 'channel', 'add', 'webhook', `${receiver.url}?flaky`]);
    await ledger.ok(['notify', 'channel', 'add', 'webhook', `${receiver.url}?down`]);
    await ledger.ok(['transfer', '100', '--from', 'org', '--to', 'Engineering']);
    await spendOk(ledger, 'ada@example.com', 85); // 15 left: one event, Engineering below 20%
  });
  afterAll(async () => {
    await ledger?.close();
    await receiver?.close();
  });

  const at = (path: string) => receiver.requests.filter((request) => request.path === path);

  it('a receiver that fails twice then succeeds gets the event once, within one run; one that keeps failing is reported', async () => {
    const started = Date.now();
    const run = await ledger.run(['notify', 'run', '--json']);
    // A receiver that is down is not a failure of the run (cron stays quiet): exit 0, with the
    // failure in the output and in `notify channels`.
    expect(run.exitCode).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * (200 + 400));
    const totals = run.json<RunJson>();
    expect(totals).toMatchObject({ delivered: 1, retrying: 1, failed: 0 });
    expect(totals.errors).toHaveLength(1);
    expect(totals.errors[0]).toMatchObject({ channelId: 2 });
    expect(totals.errors[0]!.error).toContain('HTTP 500');

    const flaky = at('/hook?flaky');
    expect(flaky.map((request) => request.status)).toEqual([500, 500, 200]);
    expect(new Set(flaky.map((request) => request.json.id)).size).toBe(1);
    const eventId = flaky[0]!.json.id;
    expect(flaky[0]!.json).toMatchObject({ type: 'balance.low', data: { account: 'Engineering', levelPercent: 20 } });
    expect(receiver.accepted().filter((request) => request.json.id === eventId && request.path === '/hook?flaky')).toHaveLength(1);
    expect(at('/hook?down').map((request) => [request.status, request.json.id])).toEqual([
      [500, eventId],
      [500, eventId],
      [500, eventId],
    ]);

    const [first, second] = await channels(ledger);
    expect(first).toMatchObject({ id: 1, pending: 0, failing: false, consecutiveFailures: 0, lastError: null });
    expect(first!.lastDeliveredAtMs).not.toBeNull();
    expect(second).toMatchObject({ id: 2, pending: 1, failing: true, consecutiveFailures: 1 });
    expect(second!.lastError).toContain('HTTP 500');
  });

  it('retries a failing delivery only after its backoff, from later runs, with the same event id', async () => {
    const eventId = at('/hook?down')[0]!.json.id;
    // Right away: the delivery waits for its backoff (30 s), nothing is sent, still exit 0.
    const quiet = await ledger.run(['notify', 'run', '--quiet']);
    expect([quiet.exitCode, quiet.stdout, quiet.stderr]).toEqual([0, '', '']);
    expect(at('/hook?down')).toHaveLength(3);
    // 31 s later: three more tries, still down.
    const later = (await ledger.ok(['notify', 'run', '--json'], { env: inSeconds(31) })).json<RunJson>();
    expect(later).toMatchObject({ delivered: 0, retrying: 1 });
    expect(at('/hook?down')).toHaveLength(6);
    // The table a person reads says the same: one pending, failing twice in a row, the last error.
    const table = (await ledger.ok(['notify', 'channels'])).stdout.split('\n').find((line) => line.includes('?down'));
    expect(table).toMatch(/│\s+1\s+│\s+failing ×2: HTTP 500/);
    // The receiver comes back; the next due run delivers, once, with the same id.
    downIsUp = true;
    const recovered = (await ledger.ok(['notify', 'run', '--json'], { env: inSeconds(600) })).json<RunJson>();
    expect(recovered).toMatchObject({ delivered: 1, retrying: 0, failed: 0 });
    const down = at('/hook?down');
    expect(down).toHaveLength(7);
    expect(down.every((request) => request.json.id === eventId && request.headers['x-credits-event-id'] === eventId)).toBe(true);
    expect(down.at(-1)!.body).toBe(down[0]!.body);
    expect((await channels(ledger)).map((channel) => [channel.pending, channel.failing])).toEqual([
      [0, false],
      [0, false],
    ]);
    // The flaky channel, already served, never heard of the event again.
    expect(at('/hook?flaky')).toHaveLength(3);
  });

  it('notify test exits 6 (DELIVERY_FAILED) when its channel fails, and 0 when it works', async () => {
    downIsUp = false;
    const failed = await ledger.run(['notify', 'test', '2', '--json', '--timeout', '5']);
    expect(failed.exitCode).toBe(6);
    expect(JSON.parse(failed.stderr).error.code).toBe('DELIVERY_FAILED');
    expect(JSON.parse(failed.stderr).error.message).toContain('HTTP 500');
    const tested = await ledger.run(['notify', 'test', '1', '--json']);
    expect(tested.exitCode, tested.stderr).toBe(0);
    expect(tested.json<RunJson>().delivered).toBe(1);
    const failedChannel = (await channels(ledger))[1]!;
    expect(failedChannel).toMatchObject({ failing: true, pending: 1 });
  });
});
