import { execa } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, TARGET, removeDir, seededLedger, type Ledger } from '../helpers/cli.js';

/**
 * `usage import` killed with SIGKILL part-way and run again must end with the very ledger that
 * one clean run of the same file makes. Two ledgers get the same organisation and the same
 * file: one imports it in one go, the other is killed and restarted. If this machine imports the
 * whole file before it can be killed, both ledgers go on with a four times larger file of the
 * next month's usage.
 */

const ADA = 'ada@example.com';
const DON = 'don@example.com';
const KILLS = TARGET === 'remote' ? 2 : 3;
const FIRST_SIZE = 30_000;
const ROUNDS = 3;

type ImportReport = { read: number; accepted: number; duplicates: number; refused: number; malformed: number; acceptedMillicredits: number };
type Transaction = { kind: string; entries: { account: string; millicredits: number }[] };
type Totals = { adaMillicredits: number; donMillicredits: number };

const pad = (value: number): string => String(value).padStart(2, '0');

/** Usage of ada and don in the first three days of `month`, on llama-3.1-groq (0.1 credits per 1k input tokens, 0.05 per tool call). */
function writeEvents(path: string, count: number, month: number): Totals {
  const lines: string[] = [];
  const totals: Totals = { adaMillicredits: 0, donMillicredits: 0 };
  for (let index = 0; index < count; index += 1) {
    const user = index % 2 === 0 ? ADA : DON;
    const toolCalls = 1 + (index % 4);
    const inputTokens = (index * 37) % 2000;
    const cost = toolCalls * 50 + Math.ceil((inputTokens * 100) / 1000);
    if (user === ADA) totals.adaMillicredits += cost;
    else totals.donMillicredits += cost;
    const at = `2026-${pad(month)}-0${1 + (index % 3)}T${pad(8 + (index % 10))}:${pad(index % 60)}:00Z`;
    lines.push(JSON.stringify({ eventId: `crash-${month}-${index}`, user, model: 'llama-3.1-groq', inputTokens, toolCalls, at }));
  }
  writeFileSync(path, lines.join('\n') + '\n');
  return totals;
}

/**
 * Budgets for a month's file: Engineering gets what all of ada's events cost, but her daily
 * limit stops the last tenth of each day; Marketing gets half of what don's cost. So the import
 * posts most events and refuses others, like a month that runs out of budget.
 */
async function budget(ledger: Ledger, totals: Totals, buyFirst: boolean): Promise<void> {
  if (buyFirst) await ledger.ok(['buy', 'enterprise', '--method', 'card']);
  await ledger.ok(['transfer', String(Math.ceil(totals.adaMillicredits / 1000)), '--from', 'org', '--to', 'Engineering']);
  await ledger.ok(['transfer', String(Math.floor(totals.donMillicredits / 2000)), '--from', 'org', '--to', 'Marketing']);
  await ledger.ok(['limits', 'set', '--user', ADA, '--daily', String(Math.floor((totals.adaMillicredits * 0.9) / 3 / 1000))]);
}

async function usageTransactions(ledger: Ledger): Promise<Transaction[] | null> {
  const result = await ledger.run(['history', '--kind', 'usage', '--limit', '999999', '--json']);
  return result.exitCode === 0 ? (result.json().transactions as Transaction[]) : null;
}

/** What a user can see of a ledger after an import: balances, ada's daily limit on day 2 of the month, the total moved to the world by usage, verify. */
async function observe(ledger: Ledger, month: number) {
  const [balance, limits, usage, verify] = await Promise.all([
    ledger.ok(['balance', '--json']),
    ledger.ok(['limits', '--json'], { env: { CREDITS_NOW: `2026-${pad(month)}-02T12:00:00Z` } }),
    usageTransactions(ledger),
    ledger.run(['verify', '--json']),
  ]);
  return {
    balances: Object.fromEntries(balance.json().accounts.map((row: { account: string; millicredits: number }) => [row.account, row.millicredits])) as Record<
      string,
      number
    >,
    limits: limits
      .json()
      .limits.map((limit: { periodKey: string; amountMillicredits: number; usedMillicredits: number }) => [
        limit.periodKey,
        limit.amountMillicredits,
        limit.usedMillicredits,
      ]),
    usageToWorld: (usage ?? [])
      .flatMap((transaction) => transaction.entries)
      .filter((entry) => entry.account === 'world')
      .reduce((sum, entry) => sum + entry.millicredits, 0),
    verify: { exitCode: verify.exitCode, ok: verify.exitCode === 0 ? verify.json().ok : false },
  };
}

describe(`usage import killed half-way on a ${TARGET} ledger`, () => {
  let dir: string;
  const opened: Ledger[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'credits-crash-'));
  });
  afterAll(async () => {
    await Promise.all(opened.map((ledger) => ledger.close()));
    if (dir) removeDir(dir);
  });

  // A generous timeout: a fast machine may need a second, larger file (see the loop).
  it(`ends with the same ledger as one clean run after kill -9 part-way (up to ${KILLS} times) and a re-run`, { timeout: 180_000 }, async () => {
    const [clean, crashed] = await Promise.all([seededLedger(), seededLedger()]);
    opened.push(clean, crashed);
    let orgMillicredits = 10_000_000; // the seeded Professional package
    for (let round = 1, size = FIRST_SIZE; round <= ROUNDS; round += 1, size *= 4) {
      const month = 4 + round;
      const path = join(dir, `events-${month}.jsonl`);
      const totals = writeEvents(path, size, month);
      const transfers = Math.ceil(totals.adaMillicredits / 1000) * 1000 + Math.floor(totals.donMillicredits / 2000) * 1000;
      const buyFirst = transfers > orgMillicredits;
      orgMillicredits += (buyFirst ? 100_000_000 : 0) - transfers;
      await Promise.all([budget(clean, totals, buyFirst), budget(crashed, totals, buyFirst)]);
      const args = ['usage', 'import', path, '--json'];

      // The clean run goes on in its own ledger while the other one is killed and restarted.
      const cleanRun = clean.run(args);
      const expectedLedger = cleanRun.then(() => observe(clean, month));
      const kills: { before: number; after: number }[] = [];
      const baseline = (await usageTransactions(crashed))!.length;
      let seen = baseline;
      let finishedAlone = false;
      while (kills.length < KILLS && !finishedAlone) {
        const child = execa('node', [BIN, '--db', crashed.location, ...args], {
          env: { CI: '1', NO_COLOR: '1' },
          extendEnv: true,
          reject: false,
          timeout: 120_000,
        });
        let exited = false;
        void child.finally(() => {
          exited = true;
        });
        // Kill it once the ledger shows one more committed usage batch than before this run.
        let committed = seen;
        while (!exited) {
          committed = (await usageTransactions(crashed))?.length ?? committed;
          if (committed > seen) break;
          await new Promise((resolveWait) => setTimeout(resolveWait, 25));
        }
        if (!exited) child.kill('SIGKILL');
        const result = await child;
        if (result.signal !== 'SIGKILL') {
          finishedAlone = true;
          expect(result.exitCode, result.stderr).toBe(3);
          break;
        }
        seen = (await usageTransactions(crashed))?.length ?? committed;
        kills.push({ before: committed, after: seen });
      }
      if (kills.length === 0 && round < ROUNDS) {
        // Imported whole before it could be killed: both ledgers hold this file; on with a larger one.
        expect((await cleanRun).exitCode).toBe(3);
        await expectedLedger;
        continue;
      }

      const rerun = await crashed.run(args);
      const cleanResult = await cleanRun;
      expect(cleanResult.exitCode, cleanResult.stderr).toBe(3); // some events are refused, by design
      expect(rerun.exitCode, rerun.stderr).toBe(3);
      expect(JSON.parse(rerun.stderr).error.code).toBe('EVENTS_REFUSED');
      const cleanReport = cleanResult.json<ImportReport>();
      const rerunReport = rerun.json<ImportReport>();
      expect(cleanReport).toMatchObject({ read: size, malformed: 0, duplicates: 0 });
      expect(cleanReport.accepted).toBeGreaterThan(size / 2);
      expect(cleanReport.refused).toBeGreaterThan(0);

      // The kills landed part-way: a batch was committed before the first one, and work was left after it.
      expect(kills.length).toBeGreaterThanOrEqual(1);
      expect(kills[0]!.after).toBeGreaterThan(baseline);
      const finalTransactions = (await usageTransactions(crashed))!.length;
      expect(finalTransactions).toBeGreaterThan(kills[0]!.after);

      // The re-run finds every event the clean run posted (posted before, or now) and refuses the same ones.
      expect(rerunReport.read).toBe(size);
      expect(rerunReport.duplicates).toBeGreaterThan(0);
      expect(rerunReport.accepted + rerunReport.duplicates).toBe(cleanReport.accepted);
      expect(rerunReport.refused).toBe(cleanReport.refused);

      // And the two ledgers agree on everything a user can see.
      const [expected, actual] = await Promise.all([expectedLedger, observe(crashed, month)]);
      expect(actual).toEqual(expected);
      expect(actual.verify).toEqual({ exitCode: 0, ok: true });
      return;
    }
  });
});
