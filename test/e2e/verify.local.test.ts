import BetterSqlite3 from 'better-sqlite3';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalTransactionContent } from '../../src/core/ledger.js';
import { chainHash } from '../../src/store/ledgerWriter.js';
import { removeDir, runCli, seededLedger, type Ledger, type RunResult } from '../helpers/cli.js';

/**
 * Someone edits the ledger file behind credits' back, the way a person with a SQLite shell
 * would, and `credits verify --json` (a cron job's "|| alert-team") must say so with exit 7.
 */
type VerifyReport = { ok: boolean; firstBrokenTransactionId: number | null; problems: { check: string; transactionId: number | null }[] };

describe('credits verify on a local ledger changed outside credits', () => {
  let ledger: Ledger;
  let copies: string;
  /** Transaction ids of the seeded history, in order. */
  const ids = { toEngineering: 0, toMarketing: 0, betweenDepartments: 0, usage: 0 };

  beforeAll(async () => {
    ledger = await seededLedger('local');
    copies = mkdtempSync(join(tmpdir(), 'credits-e2e-verify-'));
    const transfer = async (args: string[]) => (await ledger.ok(['transfer', ...args, '--json'])).json<{ transactionId: number }>().transactionId;
    ids.toEngineering = await transfer(['1000', '--from', 'org', '--to', 'Engineering', '--reason', 'Q4 budget']);
    ids.toMarketing = await transfer(['500', '--from', 'org', '--to', 'Marketing', '--reason', 'Q4 budget']);
    ids.betweenDepartments = await transfer(['100', '--from', 'Engineering', '--to', 'Marketing', '--reason', 'campaign help']);
    const usage = await ledger.ok([
      'usage',
      'record',
      '--user',
      'ada@example.com',
      '--model',
      'gpt-4o',
      '--input-tokens',
      '523',
      '--output-tokens',
      '1247',
      '--tool-calls',
      '2',
      '--at',
      '2026-11-20T10:00:00Z',
      '--json',
    ]);
    ids.usage = usage.json<{ transactionId: number }>().transactionId;
    expect(ids.toMarketing).toBeGreaterThan(ids.toEngineering);
    expect(ids.betweenDepartments).toBeGreaterThan(ids.toMarketing);
  });
  afterAll(async () => {
    await ledger?.close();
    if (copies) removeDir(copies);
  });

  /** A copy of the seeded ledger (every credits process has exited, so the file is complete). */
  function copyOfLedger(name: string): string {
    const path = join(copies, `${name}.db`);
    copyFileSync(ledger.location, path);
    if (existsSync(`${ledger.location}-wal`)) copyFileSync(`${ledger.location}-wal`, `${path}-wal`);
    return path;
  }

  function tamper(path: string, edit: (db: BetterSqlite3.Database) => void): void {
    const db = new BetterSqlite3(path);
    try {
      db.transaction(() => edit(db))();
    } finally {
      db.close();
    }
  }

  const verify = (path: string): Promise<RunResult> => runCli(['--db', path, 'verify', '--json'], {});

  function entryOf(db: BetterSqlite3.Database, transactionId: number, account: string): { id: number; accountId: number; amount: number } {
    return db
      .prepare(
        'SELECT e.id AS id, e.account_id AS accountId, e.amount_millicredits AS amount FROM entries e JOIN accounts a ON a.id = e.account_id WHERE e.transaction_id = ? AND a.name = ?',
      )
      .get(transactionId, account) as { id: number; accountId: number; amount: number };
  }

  /** Moves `delta` millicredits of an entry, and the account's stored balance with it. */
  function shiftEntry(db: BetterSqlite3.Database, transactionId: number, account: string, delta: number): void {
    const entry = entryOf(db, transactionId, account);
    db.prepare('UPDATE entries SET amount_millicredits = amount_millicredits + ? WHERE id = ?').run(delta, entry.id);
    db.prepare('UPDATE accounts SET balance_millicredits = balance_millicredits + ? WHERE id = ?').run(delta, entry.accountId);
  }

  function expectIntegrityFailure(result: RunResult, firstBroken?: number): void {
    expect(result.exitCode).toBe(7);
    const report = result.json<VerifyReport>();
    expect(report.ok).toBe(false);
    // README: with --json, an error goes to stderr as {"error":{"code",...}}; the report stays on stdout.
    expect(result.stderr, 'verify --json failed without the {"error": ...} document on stderr').not.toBe('');
    const { error } = JSON.parse(result.stderr) as { error: { code: string; message: string } };
    expect(error.code).toBe('INTEGRITY_FAILED');
    if (firstBroken !== undefined) {
      expect(report.firstBrokenTransactionId).toBe(firstBroken);
      expect(error.message).toContain(`transaction ${firstBroken}`);
    }
  }

  it('catches the 11 maximum custom purchases of an older version, hash chain intact: balances summed in BigInt, past the bound', async () => {
    const path = copyOfLedger('past-2-53');
    tamper(path, (db) => {
      // What 0.x wrote for 11 custom purchases of a trillion credits and one of a millicredit: a valid
      // chain, and balances summed in floating point, which rounds the odd millicredit away.
      const head = db.prepare('SELECT id, hash FROM ledger_transactions ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string };
      const ids = db.prepare("SELECT id, name FROM accounts WHERE name IN ('world', 'org')").all() as { id: number; name: string }[];
      const world = ids.find((row) => row.name === 'world')!.id;
      const org = ids.find((row) => row.name === 'org')!.id;
      let previous = head.hash;
      let floatSum = 0;
      const amounts = [...Array.from({ length: 11 }, () => 1_000_000_000_000_000), 1];
      for (const [index, amount] of amounts.entries()) {
        const id = head.id + 1 + index;
        const draft = {
          kind: 'purchase' as const,
          actor: 'old',
          memo: 'custom',
          createdAtMs: 1_780_000_000_000 + index,
          idempotencyKey: null,
          reversesTransactionId: null,
        };
        const entries = [
          { accountId: world, amountMillicredits: -amount },
          { accountId: org, amountMillicredits: amount },
        ];
        const hash = chainHash(previous, canonicalTransactionContent(id, { ...draft, entries }, ''));
        db.prepare(
          'INSERT INTO ledger_transactions (id, kind, actor, memo, created_at_ms, idempotency_key, reverses_transaction_id, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        ).run(id, draft.kind, draft.actor, draft.memo, draft.createdAtMs, null, null, hash);
        for (const entry of entries)
          db.prepare('INSERT INTO entries (transaction_id, account_id, amount_millicredits) VALUES (?, ?, ?)').run(
            id,
            entry.accountId,
            entry.amountMillicredits,
          );
        previous = hash;
        floatSum += amount;
      }
      expect(floatSum % 2).toBe(0); // the lost millicredit
      db.prepare('UPDATE accounts SET balance_millicredits = balance_millicredits + ? WHERE id = ?').run(floatSum, org);
      db.prepare('UPDATE accounts SET balance_millicredits = balance_millicredits - ? WHERE id = ?').run(floatSum, world);
    });
    const result = await verify(path);
    expectIntegrityFailure(result);
    const problems = result.json<{ problems: { check: string; account?: string; message: string }[] }>().problems;
    // No broken hash: only exact sums and the bound can see it.
    expect(problems.map((problem) => problem.check)).not.toContain('chain');
    expect(problems).toContainEqual(expect.objectContaining({ check: 'balance', account: 'org' }));
    expect(problems).toContainEqual(expect.objectContaining({ check: 'bound', account: 'org' }));
    expect(problems.find((problem) => problem.check === 'balance' && problem.account === 'org')?.message).toMatch(
      /shows 11000000008500000 millicredits but its entries sum to 11000000008500001$/,
    );
  });

  it('passes an untouched ledger: exit 0 and {"ok": true}', async () => {
    const result = await verify(copyOfLedger('untouched'));
    expect(result.exitCode).toBe(0);
    expect(result.json<VerifyReport>()).toMatchObject({ ok: true, firstBrokenTransactionId: null, problems: [] });
    expect(result.stderr).toBe('');
  });

  it("catches one entry changed together with its account's balance, naming that transaction", async () => {
    const path = copyOfLedger('one-entry');
    // Marketing got 500 credits; make it 400, and its balance agree with its entries again.
    tamper(path, (db) => shiftEntry(db, ids.toMarketing, 'Marketing', -100_000));
    expectIntegrityFailure(await verify(path), ids.toMarketing);
  });

  it('catches a change that keeps every sum right, and names the first of two altered transactions', async () => {
    const path = copyOfLedger('balanced');
    tamper(path, (db) => {
      // Both sides of the org -> Marketing allocation, and both balances: zero-sum and balances all agree.
      shiftEntry(db, ids.toMarketing, 'org', +100_000);
      shiftEntry(db, ids.toMarketing, 'Marketing', -100_000);
      // And a later transaction's reason.
      db.prepare("UPDATE ledger_transactions SET memo = 'office party' WHERE id = ?").run(ids.betweenDepartments);
    });
    const result = await verify(path);
    expectIntegrityFailure(result, ids.toMarketing);
    const brokenIds = result.json<VerifyReport>().problems.map((problem) => problem.transactionId);
    expect(brokenIds).toContain(ids.betweenDepartments);
  });

  it("catches a usage event's cost changed, even with the daily usage totals changed to match", async () => {
    const path = copyOfLedger('usage-cost');
    tamper(path, (db) => {
      const event = db.prepare('SELECT id, user_id AS userId, model, feature FROM usage_events WHERE transaction_id = ?').get(ids.usage) as {
        id: number;
        userId: number;
        model: string;
        feature: string;
      };
      expect(event).toBeDefined();
      db.prepare('UPDATE usage_events SET cost_millicredits = cost_millicredits - 3000 WHERE id = ?').run(event.id);
      db.prepare('UPDATE usage_daily SET millicredits = millicredits - 3000 WHERE user_id = ? AND model = ? AND feature = ?').run(
        event.userId,
        event.model,
        event.feature,
      );
    });
    // The usage posting is being reworked (a batch becomes one transaction): only the verdict is pinned here.
    expectIntegrityFailure(await verify(path));
  });

  it('passes a ledger written before the usage2 digest (0.1.0, text digest), and still catches an edit of its events', async () => {
    // test/fixtures/ledger-0.1-text-digest.db: written by commit 3bfd384 (init, a package, a transfer, `usage record`, an import of two events).
    const fixture = join(import.meta.dirname, '..', 'fixtures', 'ledger-0.1-text-digest.db');
    const untouched = join(copies, 'legacy.db');
    copyFileSync(fixture, untouched);
    const passed = await verify(untouched);
    expect(passed.exitCode).toBe(0);
    expect(passed.json<VerifyReport & { transactions: number }>()).toMatchObject({ ok: true, transactions: 4, problems: [] });

    const edited = join(copies, 'legacy-edited.db');
    copyFileSync(fixture, edited);
    tamper(edited, (db) => {
      expect(db.prepare("UPDATE usage_events SET input_tokens = input_tokens + 1 WHERE event_id = 'i1'").run().changes).toBe(1);
    });
    expectIntegrityFailure(await verify(edited), 4);
  });

  it('passes a ledger with limits written before soft limits (migration 0007 adds their kind), and its limits stay hard', async () => {
    // test/fixtures/ledger-0006-limits.db: written by commit e5daefb (init, a transfer, a user daily and a department premium monthly limit, `usage record`).
    const legacy = join(copies, 'limits-0006.db');
    copyFileSync(join(import.meta.dirname, '..', 'fixtures', 'ledger-0006-limits.db'), legacy);
    const passed = await verify(legacy);
    expect(passed.json<VerifyReport>()).toMatchObject({ ok: true, problems: [] });
    expect(passed.exitCode).toBe(0);
    const limits = (await runCli(['--db', legacy, 'limits', '--json'], {})).json<{ limits: { id: number; kind: string; amountMillicredits: number }[] }>();
    expect(limits.limits.map((row) => [row.id, row.kind, row.amountMillicredits])).toEqual([
      [1, 'hard', 50_000],
      [2, 'hard', 300_000],
    ]);
  });
});
