import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, seededLedger, type Ledger } from '../helpers/cli.js';
import { startWebhookReceiver, tally, type WebhookReceiver } from '../helpers/receivers.js';

type ChannelJson = { id: number; pending: number; failing: boolean };
type RunJson = { delivered: number; retrying: number; failed: number };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * kill -9 in the middle of `notify run`: the receiver holds its answer for a second, and the run
 * is killed as soon as the first request has arrived. Nothing may be lost, and an event sent again
 * must carry the same id (the receiver's way to drop the repeat).
 */
describe('notify run killed mid-send on a local ledger', () => {
  let ledger: Ledger;
  let receiver: WebhookReceiver;
  let slow = true;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    receiver.reply = () => ({ status: 200, delayMs: slow ? 1000 : 0 });
    ledger = await seededLedger('local');
    await ledger.ok(['notify', 'channel', 'add', 'webhook', receiver.url]);
  });
  afterAll(async () => {
    await ledger?.close();
    await receiver?.close();
  });

  const pending = async () => (await ledger.ok(['notify', 'channels', '--json'])).json<{ channels: ChannelJson[] }>().channels[0]!.pending;

  /** Tops a department up and spends it to zero: 20%, 10% and depleted, three events. */
  async function threeEvents(department: string, user: string): Promise<void> {
    await ledger.ok(['transfer', '100', '--from', 'org', '--to', department]);
    await ledger.ok(['usage', 'record', '--user', user, '--model', 'llama-3.1-groq', '--tool-calls', '2000', '--quiet']);
  }

  /** Starts `notify run`, waits for its first request to reach the receiver, and kills it with SIGKILL. */
  async function killMidSend(extra: string[]): Promise<void> {
    slow = true;
    const before = receiver.requests.length;
    const run = execa('node', [BIN, '--db', ledger.location, 'notify', 'run', '--json', ...extra], { reject: false, env: { CI: '1', NO_COLOR: '1' } });
    try {
      await receiver.waitFor(before + 1, 30_000);
    } finally {
      run.kill('SIGKILL');
    }
    const result = await run;
    expect(result.signal).toBe('SIGKILL');
    slow = false;
    // The request in flight was taken by the receiver, but the run never learnt it.
    expect(receiver.requests.length).toBe(before + 1);
  }

  it('holds the claimed events for the lease, then sends them all, the interrupted one again with the same id', async () => {
    await threeEvents('Engineering', 'ada@example.com');
    await threeEvents('Marketing', 'don@example.com');
    expect(await pending()).toBe(6);

    await killMidSend([]); // the default lease: 300 s
    expect(await pending()).toBe(6);
    // Another run now finds every delivery still claimed by the dead run: it sends nothing.
    const early = await ledger.ok(['notify', 'run', '--json']);
    expect(early.json<RunJson>()).toMatchObject({ delivered: 0, retrying: 0 });
    expect(receiver.requests).toHaveLength(1);
    // Once the lease is over (the clock moved 301 s on), the next run takes them over.
    const later = await ledger.ok(['notify', 'run', '--json'], { env: { CREDITS_NOW: new Date(Date.now() + 301_000).toISOString() } });
    expect(later.json<RunJson>()).toMatchObject({ delivered: 6, retrying: 0, failed: 0 });
    expect(await pending()).toBe(0);

    const counts = tally(receiver.requests.map((request) => request.json.id));
    expect(counts.size).toBe(6);
    const interrupted = receiver.requests[0]!;
    expect(counts.get(interrupted.json.id)).toBe(2);
    expect([...counts.values()].sort()).toEqual([1, 1, 1, 1, 1, 2]);
    const repeat = receiver.requests.slice(1).find((request) => request.json.id === interrupted.json.id)!;
    expect(repeat.headers['x-credits-event-id']).toBe(interrupted.json.id);
    expect(repeat.body).toBe(interrupted.body);
    expect(receiver.requests.every((request) => request.json.type.startsWith('balance.'))).toBe(true);
  });

  it('with --lease 1, the next run more than a second later sends everything the killed run had claimed', async () => {
    const seen = receiver.requests.length;
    // Engineering was spent to zero before: its top-up also says "recovered", a fourth event.
    await threeEvents('Engineering', 'ada@example.com');
    expect(await pending()).toBe(4);

    await killMidSend(['--lease', '1']);
    await sleep(1200);
    const rerun = await ledger.ok(['notify', 'run', '--lease', '1', '--json']);
    expect(rerun.json<RunJson>()).toMatchObject({ delivered: 4, retrying: 0, failed: 0 });
    expect(await pending()).toBe(0);

    const fresh = receiver.requests.slice(seen);
    const counts = tally(fresh.map((request) => request.json.id));
    expect(counts.size).toBe(4);
    expect(counts.get(fresh[0]!.json.id)).toBe(2);
    expect([...counts.values()].sort()).toEqual([1, 1, 1, 2]);
    // And nothing more goes out afterwards.
    expect((await ledger.ok(['notify', 'run', '--json'])).json<RunJson>().delivered).toBe(0);
    expect(receiver.requests.length).toBe(seen + 5);
  });
});
