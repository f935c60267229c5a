import BetterSqlite3 from 'better-sqlite3';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, runCli, type RunResult } from '../helpers/cli.js';

/**
 * `credits verify --since-checkpoint` reads only what was written after the checkpoint: it passes
 * on an untouched ledger after new writes, and catches an edit of a new event, and an edit made
 * before the checkpoint to a balance or a day total (with the rows under them changed to match,
 * so that only the checkpoint's balances and day digests can tell); it refuses a checkpoint of
 * another ledger and an old-format one.
 */
type Problem = { check: string; message: string };
type Report = { ok: boolean; problems: Problem[]; transactions: number; sinceCheckpoint: { newEvents: number; daysChecked: number } | null };

const KEY = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const env = { CREDITS_SIGNING_KEY: KEY };

function events(prefix: string, count: number, firstMs: number): string {
  const lines: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const user = index % 2 ? 'ada@example.com' : 'bob@example.com';
    lines.push(
      JSON.stringify({
        eventId: `${prefix}-${index}`,
        user,
        model: 'gpt-4o-mini',
        inputTokens: 100 + index,
        outputTokens: 40,
        at: new Date(firstMs + index * 3_600_000).toISOString(),
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

describe('credits verify --since-checkpoint (incremental)', () => {
  let dir: string;
  let base: string;
  let checkpoint: string;
  let lastEventAtCheckpoint: number;
  let lastTransactionAtCheckpoint: number;

  const cli = async (path: string, args: string[], input?: string): Promise<RunResult> => runCli(['--db', path, ...args], env, input);
  const verify = async (path: string, file = checkpoint): Promise<RunResult & { report: Report }> => {
    const result = await cli(path, ['verify', '--json', '--since-checkpoint', file]);
    return Object.assign(result, { report: (result.stdout === '' ? { ok: false, problems: [] } : result.json()) as Report });
  };
  const copy = (name: string, edit: (db: BetterSqlite3.Database) => void): string => {
    const path = join(dir, `${name}.db`);
    copyFileSync(base, path);
    if (existsSync(`${base}-wal`)) copyFileSync(`${base}-wal`, `${path}-wal`);
    const db = new BetterSqlite3(path);
    try {
      db.transaction(() => edit(db))();
    } finally {
      db.close();
    }
    return path;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-e2e-verify-incremental-'));
    base = join(dir, 'ledger.db');
    const ok = async (args: string[], input?: string) => {
      const result = await cli(base, [...args, '--json'], input);
      expect(result.exitCode, result.stderr).toBe(0);
      return result;
    };
    await ok(['init', '--org', 'Incremental Org', '--timezone', 'UTC']);
    await ok(['dept', 'add', 'Engineering']);
    await ok(['user', 'add', 'ada@example.com', '--dept', 'Engineering']);
    await ok(['user', 'add', 'bob@example.com', '--dept', 'Engineering']);
    const bought = (await ok(['buy', 'custom', '--credits', '500000', '--discount', '0', '--method', 'invoice', '--for', 'Engineering', '--yes'])).json();
    await ok(['purchases', 'settle', String(bought.purchaseId), '--yes']);
    // Before the checkpoint: 48 events over Nov 1-2; after it: 48 more from Nov 2 12:00 (Nov 2 is on both sides).
    writeFileSync(join(dir, 'before.jsonl'), events('before', 48, Date.UTC(2026, 10, 1)));
    await ok(['usage', 'import', join(dir, 'before.jsonl')]);
    checkpoint = join(dir, 'checkpoint.json');
    writeFileSync(checkpoint, (await ok(['checkpoint'])).stdout);
    const state = JSON.parse(readFileSync(checkpoint, 'utf8'));
    lastEventAtCheckpoint = state.state.lastEventId;
    lastTransactionAtCheckpoint = state.head.transactionId;
    writeFileSync(join(dir, 'after.jsonl'), events('after', 48, Date.UTC(2026, 10, 2, 12)));
    await ok(['usage', 'import', join(dir, 'after.jsonl')]);
    await ok(['rates', 'set', 'gpt-4o', '--input', '5', '--output', '12']);
    await ok(['transfer', '10', '--from', 'Engineering', '--to', 'org']);
  }, 60_000);
  afterAll(() => {
    if (dir) removeDir(dir);
  });

  it('passes on the untouched ledger after new writes, reading only them (exit 0)', async () => {
    const result = await verify(base);
    expect(result.exitCode, result.stderr + JSON.stringify(result.report.problems)).toBe(0);
    expect(result.report.ok).toBe(true);
    expect(result.report.sinceCheckpoint).toMatchObject({ newEvents: 48, daysChecked: 3 });
    expect(result.report.transactions).toBe(2);
    const text = await cli(base, ['verify', '--since-checkpoint', checkpoint]);
    expect(text.stdout).toContain('ledger intact since the checkpoint');
  });

  it('catches an edit of an event written after the checkpoint (exit 7)', async () => {
    const path = copy('new-event', (db) => db.prepare('UPDATE usage_events SET input_tokens = input_tokens + 1 WHERE id = ?').run(lastEventAtCheckpoint + 5));
    const { exitCode, report } = await verify(path);
    expect(exitCode).toBe(7);
    expect(report.problems.map((problem) => problem.check)).toContain('chain');
  });

  it('catches an old balance changed with its entries (the full verify sees the chain; this one the checkpoint balance)', async () => {
    const path = copy('old-balance', (db) => {
      const entry = db
        .prepare(
          "SELECT e.transaction_id AS transactionId FROM entries e JOIN accounts a ON a.id = e.account_id WHERE a.name = 'Engineering' AND e.transaction_id <= ? ORDER BY e.id LIMIT 1",
        )
        .get(lastTransactionAtCheckpoint) as { transactionId: number };
      // Both sides of one old transaction, and the two balances: every sum still adds up.
      db.prepare(
        "UPDATE entries SET amount_millicredits = amount_millicredits + 7000 WHERE transaction_id = ? AND account_id = (SELECT id FROM accounts WHERE name = 'Engineering')",
      ).run(entry.transactionId);
      db.prepare(
        "UPDATE entries SET amount_millicredits = amount_millicredits - 7000 WHERE transaction_id = ? AND account_id <> (SELECT id FROM accounts WHERE name = 'Engineering')",
      ).run(entry.transactionId);
      db.prepare("UPDATE accounts SET balance_millicredits = balance_millicredits + 7000 WHERE name = 'Engineering'").run();
      db.prepare(
        "UPDATE accounts SET balance_millicredits = balance_millicredits - 7000 WHERE id = (SELECT account_id FROM entries WHERE transaction_id = ? AND account_id <> (SELECT id FROM accounts WHERE name = 'Engineering'))",
      ).run(entry.transactionId);
    });
    const { exitCode, report } = await verify(path);
    expect(exitCode).toBe(7);
    expect(report.problems.find((problem) => problem.message.startsWith('Engineering'))?.message).toMatch(
      /^Engineering shows \d+ millicredits but the checkpoint plus the entries since come to \d+/,
    );
  });

  it('catches an old day total changed with its events, on a day written to since; an untouched day is left to the full verify', async () => {
    const edit = (day: string) => (db: BetterSqlite3.Database) => {
      db.prepare(
        "UPDATE usage_events SET cost_millicredits = cost_millicredits + 3 WHERE id = (SELECT min(id) FROM usage_events WHERE event_id LIKE 'before-%' AND date(occurred_at_ms / 1000, 'unixepoch') = ?)",
      ).run(day);
      db.prepare(
        "UPDATE usage_daily SET millicredits = millicredits + 3 WHERE rowid = (SELECT min(rowid) FROM usage_daily WHERE day_key = ? AND user_id = (SELECT user_id FROM usage_events WHERE event_id LIKE 'before-%' AND date(occurred_at_ms / 1000, 'unixepoch') = ? ORDER BY id LIMIT 1))",
      ).run(day, day);
    };
    const touched = await verify(copy('touched-day', edit('2026-11-02')));
    expect(touched.exitCode).toBe(7);
    expect(touched.report.problems.map((problem) => problem.message)).toContain(
      "the usage totals of 2026-11-02 are not the checkpoint's plus the events since: they or the events were altered",
    );
    // Nov 1 had no event since the checkpoint: its digest is not read (README: what only the full verify catches).
    const untouched = copy('untouched-day', edit('2026-11-01'));
    expect((await verify(untouched)).exitCode).toBe(0);
    expect((await cli(untouched, ['verify', '--json'])).exitCode).toBe(7);
  });

  it('refuses a checkpoint of another ledger (exit 7) and an old-format one (exit 2)', async () => {
    const other = join(dir, 'other.db');
    expect((await cli(other, ['init', '--org', 'Other Org', '--timezone', 'UTC'])).exitCode).toBe(0);
    expect((await cli(other, ['dept', 'add', 'Engineering'])).exitCode).toBe(0);
    const foreign = await verify(other);
    expect(foreign.exitCode).toBe(7);
    expect(foreign.report.problems[0]?.message).toMatch(/^the (ledger was cut back|ledger forked from the checkpoint|state log)/);
    const old = JSON.parse(readFileSync(checkpoint, 'utf8'));
    delete old.state;
    old.format = 'credits-checkpoint-v1';
    const oldFile = join(dir, 'old.json');
    writeFileSync(oldFile, JSON.stringify(old));
    const refused = await verify(base, oldFile);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('INVALID_CHECKPOINT');
    expect(refused.stderr).toContain('credits checkpoint');
  });
});
