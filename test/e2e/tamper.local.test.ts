import { createClient } from '@libsql/client';
import BetterSqlite3 from 'better-sqlite3';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECOMPUTED_TABLES, TRACKED_TABLES } from '../../src/store/stateLog.js';
import { removeDir, runCli, seededLedger, type Ledger, type RunResult } from '../helpers/cli.js';

/**
 * Someone with write access to the ledger file edits, inserts and deletes rows of every table
 * with better-sqlite3, with the state log's triggers in place or dropped first, cuts the newest
 * transactions off, or loses the WAL; `credits verify --json` must say so with exit 7, naming the
 * table, or (for a cut) through a checkpoint taken before.
 */
type Problem = { check: string; table?: string; field?: string | null; message: string; transactionId: number | null };
type Report = { ok: boolean; problems: Problem[]; head: { transactionId: number; stateSeq: number; hash: string } };

/** How each table of the schema is covered: by the state log, or by verify's recomputation (and which check names it). */
const SUITE_TABLES: Record<string, 'state' | readonly string[]> = {
  ...Object.fromEntries(TRACKED_TABLES.map((table) => [table, 'state' as const])),
  ledger_transactions: ['chain', 'sequence', 'balanced', 'balance'],
  entries: ['chain', 'balanced', 'balance'],
  usage_events: ['chain', 'usage', 'rollup'],
  usage_batches: ['rollup'],
  usage_daily: ['rollup'],
  state_log: ['state'],
};

const pem = (): string => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const KEY = pem();
const OTHER_KEY = pem();

/** As an attacker opens it: foreign keys off (better-sqlite3 turns them on), so any row can go. */
function open(path: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(path);
  db.pragma('foreign_keys = OFF');
  return db;
}

type RowValue = string | number | null;

/** The table's rows with their rowid, oldest first. */
function rowsOf(db: BetterSqlite3.Database, table: string): Record<string, RowValue>[] {
  return db.prepare(`SELECT rowid AS __rowid, * FROM "${table}" ORDER BY rowid`).all() as Record<string, RowValue>[];
}

/** An edit of the oldest row, an insert (a copy of the newest with every value changed) and a delete of the newest. */
function editInsertDelete(db: BetterSqlite3.Database, table: string, column: (columns: string[]) => string): string {
  const rows = rowsOf(db, table);
  expect(rows.length, `${table} has rows to tamper with`).toBeGreaterThanOrEqual(2);
  const columns = Object.keys(rows[0]!).filter((name) => name !== '__rowid');
  const edited = column(columns);
  const first = rows[0]!;
  const changed = typeof first[edited] === 'number' ? Number(first[edited]) + 7 : `${first[edited] ?? ''}-x`;
  db.prepare(`UPDATE "${table}" SET "${edited}" = ? WHERE rowid = ?`).run(changed, first.__rowid);
  // Forged from the newest row (for accounts a department, never below zero), which is then deleted.
  const last = rows[rows.length - 1]!;
  const forged = columns.map((name) => {
    const value = last[name] ?? null;
    return typeof value === 'number' ? value + 100_000 : typeof value === 'string' ? `${value}-forged` : value;
  });
  db.prepare(`INSERT INTO "${table}" (${columns.map((name) => `"${name}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(...forged);
  db.prepare(`DELETE FROM "${table}" WHERE rowid = ?`).run(rows[rows.length - 1]!.__rowid);
  return edited;
}

/** A column that is not part of the primary key. */
function notKey(db: BetterSqlite3.Database, table: string): (columns: string[]) => string {
  const keys = (db.prepare('SELECT name FROM pragma_table_info(?) WHERE pk > 0').all(table) as { name: string }[]).map((row) => row.name);
  return (columns) => columns.find((name) => !keys.includes(name) && name !== 'balance_millicredits')!;
}

describe('tamper evidence of a local ledger (every table, cut tails, a lost WAL, checkpoints)', () => {
  let ledger: Ledger;
  let dir: string;
  let base: string;
  const env = { CREDITS_SIGNING_KEY: KEY };

  const verify = async (path: string, extra: string[] = [], options: { key?: string; input?: string } = {}): Promise<RunResult & { report: Report }> => {
    const result = await runCli(['--db', path, 'verify', '--json', ...extra], { CREDITS_SIGNING_KEY: options.key ?? KEY }, options.input);
    return Object.assign(result, { report: (result.stdout === '' ? { ok: false, problems: [] } : result.json()) as Report });
  };

  function copy(name: string, from = base): string {
    const path = join(dir, `${name}.db`);
    copyFileSync(from, path);
    if (existsSync(`${from}-wal`)) copyFileSync(`${from}-wal`, `${path}-wal`);
    return path;
  }

  function tamper(path: string, edit: (db: BetterSqlite3.Database) => void): void {
    const db = open(path);
    try {
      db.transaction(() => edit(db))();
    } finally {
      db.close();
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-e2e-tamper-'));
    ledger = await seededLedger('local');
    const events = join(dir, 'events.jsonl');
    const ok = (args: string[]) => ledger.ok(args, { env });
    await ok(['org', 'set', '--address', 'Hauptstr. 1\\n10115 Berlin', '--vat-id', 'DE123456789']);
    await ok(['buy', 'basic', '--method', 'card', '--for', 'Marketing']);
    await ok(['invoice', '1', '--output', join(dir, 'invoice-1.pdf')]);
    await ok(['invoice', '2', '--output', join(dir, 'invoice-2.pdf')]);
    await ok(['rates', 'set', 'gpt-4o', '--input', '5', '--output', '12']);
    await ok(['limits', 'set', '--user', 'ada@example.com', '--daily', '100']);
    await ok(['limits', 'set', '--dept', 'Marketing', '--monthly', '900']);
    await ok(['notify', 'channel', 'add', 'command', `cat >> '${events}'; echo >> '${events}'`]);
    await ok(['notify', 'channel', 'add', 'webhook', 'http://127.0.0.1:9/never']);
    await ok(['token', 'create', '--role', 'reader', '--name', 'ci-1']);
    await ok(['token', 'create', '--role', 'usage-writer', '--name', 'ci-2']);
    await ok(['transfer', '1000', '--from', 'org', '--to', 'Engineering', '--idempotency-key', 'q4-eng']);
    // Down to 5% of the top-up: the 20% and 10% levels fire (balance_alerts, outbox, deliveries).
    await ok(['transfer', '950', '--from', 'Engineering', '--to', 'Marketing', '--idempotency-key', 'q4-mkt']);
    // After the transfers: a rule set on an empty department would recharge it at once.
    await ok(['recharge', 'set', '--for', 'Engineering', '--threshold', '1', '--package', 'basic', '--method', 'card', '--monthly-cap', '50']);
    await ok(['recharge', 'set', '--for', 'Marketing', '--threshold', '1', '--package', 'basic', '--method', 'card', '--monthly-cap', '50']);
    await ok(['usage', 'record', '--user', 'don@example.com', '--model', 'gpt-4o', '--input-tokens', '523', '--output-tokens', '1247']);
    await ok(['notify', 'run', '--timeout', '1']);
    await ok(['notify', 'run', '--timeout', '1']);
    base = ledger.location;
    const daily = readFileSync(events, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { type: string; data: { checkpoint?: object } })
      .filter((event) => event.type === 'checkpoint.daily');
    // Once per day, however often notify run runs; the event carries a checkpoint verify accepts.
    expect(daily).toHaveLength(1);
    writeFileSync(join(dir, 'daily.json'), JSON.stringify(daily[0]!.data.checkpoint));
  }, 120_000);
  afterAll(async () => {
    await ledger?.close();
    if (dir) removeDir(dir);
  });

  it('covers every table of the schema, and the untouched ledger verifies against the daily checkpoint from notify run', async () => {
    const db = open(base);
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__drizzle_migrations'").all() as {
        name: string;
      }[]
    ).map((row) => row.name);
    db.close();
    // A new table needs a line in SUITE_TABLES and a place in TRACKED_TABLES or RECOMPUTED_TABLES.
    expect(Object.keys(SUITE_TABLES).sort()).toEqual([...tables].sort());
    expect([...TRACKED_TABLES, ...Object.keys(RECOMPUTED_TABLES)].sort()).toEqual([...tables].sort());
    const result = await verify(base, ['--since-checkpoint', join(dir, 'daily.json')]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.report.ok).toBe(true);
  });

  it('names every tracked table edited, inserted into and deleted from, with the triggers in place (unsealed records)', async () => {
    const path = copy('unsealed');
    tamper(path, (db) => {
      for (const table of TRACKED_TABLES) editInsertDelete(db, table, notKey(db, table));
    });
    const { exitCode, report } = await verify(path);
    expect(exitCode).toBe(7);
    for (const table of TRACKED_TABLES) {
      const mine = report.problems.filter((problem) => problem.check === 'state' && problem.table === table).map((problem) => problem.message);
      expect(
        mine.some((message) => message.includes('unsealed change of')),
        `${table}: ${mine.join(' | ')}`,
      ).toBe(true);
      expect(
        mine.some((message) => message.includes('unsealed insert')),
        `${table}: ${mine.join(' | ')}`,
      ).toBe(true);
      expect(
        mine.some((message) => message.includes('unsealed delete')),
        `${table}: ${mine.join(' | ')}`,
      ).toBe(true);
    }
  });

  it('names every tracked table, row and field changed with the triggers dropped first (the rows differ from the log)', async () => {
    const path = copy('dropped');
    const editedColumns = new Map<string, string>();
    tamper(path, (db) => {
      for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as { name: string }[]) db.exec(`DROP TRIGGER "${name}"`);
      for (const table of TRACKED_TABLES) editedColumns.set(table, editInsertDelete(db, table, notKey(db, table)));
    });
    const { exitCode, report } = await verify(path);
    expect(exitCode).toBe(7);
    for (const table of TRACKED_TABLES) {
      const mine = report.problems.filter((problem) => problem.check === 'state' && problem.table === table);
      const messages = mine.map((problem) => problem.message).join(' | ');
      expect(messages, table).toContain('lost its state log trigger');
      expect(
        mine.some((problem) => problem.field === editedColumns.get(table)),
        `${table}: ${messages}`,
      ).toBe(true);
      expect(messages, table).toContain('was inserted outside credits');
      expect(messages, table).toContain('was deleted outside credits');
    }
  });

  it('catches an edit, an insert and a delete in each table verify recomputes, and in the state log itself', async () => {
    const cases: { table: string; name: string; edit: (db: BetterSqlite3.Database) => void }[] = [];
    for (const table of ['ledger_transactions', 'entries', 'usage_events', 'usage_batches', 'usage_daily']) {
      const column =
        table === 'ledger_transactions' ? 'memo' : table === 'entries' ? 'amount_millicredits' : table === 'usage_events' ? 'input_tokens' : 'millicredits';
      cases.push({
        table,
        name: 'edit',
        edit: (db) => db.exec(`UPDATE "${table}" SET "${column}" = "${column}" || '1' WHERE rowid = (SELECT max(rowid) FROM "${table}")`),
      });
      cases.push({
        table,
        name: 'insert',
        edit: (db) => {
          const columns = Object.keys(rowsOf(db, table)[0]!).filter((name) => name !== '__rowid');
          const keyed = columns.map((name) =>
            ['id', 'transaction_id', 'day_key', 'event_id'].includes(name)
              ? `CASE WHEN typeof("${name}") = 'text' THEN "${name}" || 'x' ELSE "${name}" + 1000 END`
              : `"${name}"`,
          );
          db.exec(
            `INSERT INTO "${table}" (${columns.map((name) => `"${name}"`).join(', ')}) SELECT ${keyed.join(', ')} FROM "${table}" WHERE rowid = (SELECT max(rowid) FROM "${table}")`,
          );
        },
      });
      cases.push({ table, name: 'delete', edit: (db) => db.exec(`DELETE FROM "${table}" WHERE rowid = (SELECT max(rowid) FROM "${table}")`) });
    }
    cases.push({
      table: 'state_log',
      name: 'edit',
      edit: (db) => db.exec("UPDATE state_log SET row_json = replace(row_json, 'ada', 'eve') WHERE table_name = 'users'"),
    });
    cases.push({
      table: 'state_log',
      name: 'insert',
      edit: (db) => db.exec("INSERT INTO state_log (table_name, row_key, op, row_json, prev_hash, hash) VALUES ('limits', '[1]', 'delete', NULL, 'x', 'y')"),
    });
    cases.push({
      table: 'state_log',
      name: 'delete',
      edit: (db) => db.exec("DELETE FROM state_log WHERE seq = (SELECT max(seq) FROM state_log WHERE table_name = 'limits')"),
    });
    const results: ((typeof cases)[number] & { result: Awaited<ReturnType<typeof verify>> })[] = [];
    // Three at a time: the machine that runs the suite has two cores.
    for (let start = 0; start < cases.length; start += 3) {
      const chunk = cases.slice(start, start + 3).map(async (testCase, offset) => {
        const path = copy(`recomputed-${start + offset}`);
        tamper(path, testCase.edit);
        return { ...testCase, result: await verify(path) };
      });
      results.push(...(await Promise.all(chunk)));
    }
    for (const { table, name, result } of results) {
      expect(result.exitCode, `${table} ${name}: ${result.stderr}`).toBe(7);
      const expected = SUITE_TABLES[table] as readonly string[];
      expect(
        result.report.problems.some((problem) => expected.includes(problem.check)),
        `${table} ${name}: ${result.report.problems.map((problem) => problem.message).join(' | ')}`,
      ).toBe(true);
    }
  });
});
