import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET, seededLedger, type Ledger, type RunResult } from '../helpers/cli.js';

/**
 * Four processes at a time hold and capture against one department with little credit, for a
 * few seconds, while another reads the balance: every check runs inside the write transaction,
 * so the department never goes below zero, what is held never passes its balance, every capture
 * within its hold is posted, and what the captures cost is exactly what the department spent.
 * Every third hold or so is abandoned: it expires after 4 s and its credits serve the others
 * again (4 s leaves a capture time on a loaded machine: at 2 s, a busy run saw every one late).
 */
const WORKERS = 4;
const RUN_MS = 6000;
const START_CREDITS = 6;
const USERS = ['don@example.com', 'eve@example.com'];

type Account = { account: string; millicredits: number; heldMillicredits: number };
type Tally = { holds: number; captured: number[]; abandoned: number; refusals: RunResult[]; lateCaptures: number; unexpected: RunResult[] };

describe(`holds from ${WORKERS} processes at once on a ${TARGET} ledger`, () => {
  let ledger: Ledger;
  const marketing = async (env: Record<string, string> = {}): Promise<Account> =>
    (await ledger.ok(['balance', 'Marketing', '--json'], { env })).json().accounts[0];

  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['user', 'add', 'eve@example.com', '--dept', 'Marketing']);
    await ledger.ok(['transfer', String(START_CREDITS), '--from', 'org', '--to', 'Marketing']);
  });
  afterAll(async () => {
    await ledger?.close();
  });

  async function worker(index: number, deadline: number, tally: Tally): Promise<void> {
    const user = USERS[index % USERS.length]!;
    for (let held = 0; Date.now() < deadline; ) {
      const hold = await ledger.run(['usage', 'hold', '--user', user, '--model', 'llama-3.1-groq', '--max-credits', '2', '--expires', '4s', '--json']);
      if (hold.exitCode !== 0) {
        (hold.exitCode === 3 ? tally.refusals : tally.unexpected).push(hold);
        continue;
      }
      tally.holds += 1;
      held += 1;
      // Some holds of every worker are abandoned as well: they must expire.
      if ((held + index) % 3 === 1) {
        tally.abandoned += 1;
        continue;
      }
      // 20 tool calls on llama-3.1-groq: 1 credit, within the hold of 2.
      const capture = await ledger.run(['usage', 'record', '--hold', String(hold.json().holdId), '--tool-calls', '20', '--json']);
      if (capture.exitCode === 0) tally.captured.push(capture.json().costMillicredits);
      // A loaded machine may take longer than the hold's 4 s between the two processes: it expired.
      else if (capture.exitCode === 5 && JSON.parse(capture.stderr).error.message.includes('expired')) tally.lateCaptures += 1;
      else tally.unexpected.push(capture);
    }
  }

  it('never overspends, captures every hold in time, and releases abandoned holds when they expire', { timeout: 120_000 }, async () => {
    const before = await marketing();
    expect(before).toMatchObject({ millicredits: START_CREDITS * 1000, heldMillicredits: 0 });
    // A hold abandoned before the others start: a third of the credits, until it expires.
    await ledger.ok(['usage', 'hold', '--user', USERS[0]!, '--model', 'llama-3.1-groq', '--max-credits', '2', '--expires', '4s']);
    const tally: Tally = { holds: 1, captured: [], abandoned: 1, refusals: [], lateCaptures: 0, unexpected: [] };
    const seen: Account[] = [];
    const deadline = Date.now() + RUN_MS;
    let running = true;
    const watch = (async () => {
      while (running) seen.push(await marketing());
    })();
    await Promise.all(Array.from({ length: WORKERS }, (_unused, index) => worker(index, deadline, tally)));
    running = false;
    await watch;

    expect(tally.unexpected.map((result) => `${result.exitCode}: ${result.stderr}`)).toEqual([]);
    for (const refusal of tally.refusals) expect(JSON.parse(refusal.stderr).error.code).toBe('INSUFFICIENT_CREDITS');
    expect(tally.captured.length).toBeGreaterThan(0);
    for (const account of seen) {
      expect(account.millicredits).toBeGreaterThanOrEqual(0);
      expect(account.heldMillicredits).toBeLessThanOrEqual(account.millicredits);
    }
    const after = await marketing();
    const spent = tally.captured.reduce((sum, cost) => sum + cost, 0);
    expect(before.millicredits - after.millicredits).toBe(spent);
    expect(after.millicredits).toBeGreaterThanOrEqual(0);

    // An hour later every abandoned hold has expired; notify run closes those still marked open.
    const later = { CREDITS_NOW: new Date(Date.now() + 3_600_000).toISOString() };
    const run = (await ledger.ok(['notify', 'run', '--timeout', '1', '--json'], { env: later })).json();
    expect(run.holdsExpired).toBeLessThanOrEqual(tally.abandoned + tally.lateCaptures);
    expect(await marketing(later)).toMatchObject({ millicredits: after.millicredits, heldMillicredits: 0 });
    const verify = await ledger.run(['verify', '--json']);
    expect(verify.json().problems).toEqual([]);
    expect(verify.exitCode).toBe(0);
  });
});
