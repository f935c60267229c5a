import BetterSqlite3 from 'better-sqlite3';
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalDatabase } from '../../src/store/localDriver.js';
import { walkInThreads } from '../../src/store/verifyThreads.js';
import { removeDir, runCli } from '../helpers/cli.js';

/**
 * `credits verify` of a local ledger on worker threads must say what the one-thread verify says,
 * word for word: a usage event edited far into 20,000 of them (in the second thread's range) is
 * found and named the same with threads and with CREDITS_VERIFY_THREADS=1.
 */
const EVENTS = 20_000;
const WORKER = resolve(import.meta.dirname, '../../dist/verifyWorker.cjs');

describe('credits verify on worker threads', () => {
  let dir: string;
  let ledger: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-e2e-verify-threads-'));
    ledger = join(dir, 'ledger.db');
    const cli = async (args: string[]) => {
      const result = await runCli(['--db', ledger, ...args, '--json'], {});
      expect(result.exitCode, result.stderr).toBe(0);
      return result.json();
    };
    await cli(['init', '--org', 'Threads Org', '--timezone', 'UTC']);
    await cli(['dept', 'add', 'Engineering']);
    await cli(['user', 'add', 'ada@example.com', '--dept', 'Engineering']);
    await cli(['user', 'add', 'bob@example.com', '--dept', 'Engineering']);
    const bought = await cli(['buy', 'custom', '--credits', '500000', '--discount', '0', '--method', 'invoice', '--for', 'Engineering', '--yes']);
    await cli(['purchases', 'settle', String(bought.purchaseId), '--yes']);
    const lines: string[] = [];
    for (let index = 0; index < EVENTS; index += 1) {
      const at = new Date(Date.UTC(2026, 9, 1) + index * 60_000).toISOString();
      const user = index % 3 === 0 ? 'bob@example.com' : 'ada@example.com';
      lines.push(
        JSON.stringify({
          eventId: `t-${index}`,
          user,
          model: index % 2 ? 'gpt-4o-mini' : 'claude-3-haiku',
          inputTokens: 100 + (index % 50),
          outputTokens: 40,
          at,
        }),
      );
    }
    writeFileSync(join(dir, 'events.jsonl'), `${lines.join('\n')}\n`);
    const imported = await cli(['usage', 'import', join(dir, 'events.jsonl')]);
    expect(imported.accepted).toBe(EVENTS);
  }, 60_000);
  afterAll(() => {
    if (dir) removeDir(dir);
  });

  function copy(name: string, edit?: (db: BetterSqlite3.Database) => void): string {
    const path = join(dir, `${name}.db`);
    copyFileSync(ledger, path);
    if (existsSync(`${ledger}-wal`)) copyFileSync(`${ledger}-wal`, `${path}-wal`);
    if (edit) {
      const db = new BetterSqlite3(path);
      edit(db);
      db.close();
    }
    return path;
  }

  /** `verify --json` with threads and on one thread: the same exit code and the same document. */
  async function bothWays(
    path: string,
  ): Promise<{ exitCode: number; report: { ok: boolean; firstBrokenTransactionId: number | null; problems: { check: string; message: string }[] } }> {
    const threaded = await runCli(['--db', path, 'verify', '--json'], { CREDITS_VERIFY_THREADS: '2' });
    const single = await runCli(['--db', path, 'verify', '--json'], { CREDITS_VERIFY_THREADS: '1' });
    expect(threaded.stdout).toBe(single.stdout);
    expect(threaded.exitCode).toBe(single.exitCode);
    // The threaded run above did use threads: the ranges join without a fall back to one thread.
    const db = openLocalDatabase({ path, fileMustExist: true, busyTimeoutMs: 5000 });
    try {
      const walked = await walkInThreads(db, { threads: 2, workerPath: WORKER, busyTimeoutMs: 5000 });
      expect(walked).not.toBeNull();
    } finally {
      await db.close();
    }
    return { exitCode: threaded.exitCode, report: threaded.json() };
  }

  it('passes the untouched ledger, and names an edited event far into it the same way on one thread and on two', async () => {
    const clean = await bothWays(copy('clean'));
    expect(clean.exitCode).toBe(0);
    expect(clean.report.ok).toBe(true);

    let transactionId = 0;
    const edited = copy('edited', (db) => {
      const row = db.prepare('SELECT id, transaction_id AS transactionId FROM usage_events ORDER BY id LIMIT 1 OFFSET ?').get(EVENTS - 1234) as {
        id: number;
        transactionId: number;
      };
      transactionId = row.transactionId;
      db.prepare('UPDATE usage_events SET input_tokens = input_tokens + 1 WHERE id = ?').run(row.id);
    });
    const found = await bothWays(edited);
    expect(found.exitCode).toBe(7);
    expect(found.report.firstBrokenTransactionId).toBe(transactionId);
    expect(found.report.problems[0]).toMatchObject({ check: 'chain' });
  }, 30_000);

  it('reports a changed cost and a lost batch row (the rollups tallied by the threads) as one thread does', async () => {
    const edited = copy('rollups', (db) => {
      const late = db.prepare('SELECT id FROM usage_events ORDER BY id LIMIT 1 OFFSET ?').get(EVENTS - 10) as { id: number };
      db.prepare('UPDATE usage_events SET cost_millicredits = cost_millicredits + 7 WHERE id = ?').run(late.id);
      db.prepare('DELETE FROM usage_batches WHERE rowid = (SELECT min(rowid) FROM usage_batches)').run();
      db.prepare("UPDATE usage_daily SET model = 'gpt-4o' WHERE rowid = (SELECT max(rowid) FROM usage_daily)").run();
    });
    const found = await bothWays(edited);
    expect(found.exitCode).toBe(7);
    expect(found.report.problems.filter((problem) => problem.check === 'rollup').length).toBeGreaterThan(2);
  }, 30_000);
});
