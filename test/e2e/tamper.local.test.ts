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
  usage_reversals: ['reversal', 'chain'],
  state_log: ['state'],
  // Who may write now, not ledger state: verify checks nothing there (an edited lease only moves the writer).
  writer_lease: [],
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
    await ok([
      'provider',
      'set',
      '--name',
      'Credits Provider GmbH',
      '--address',
      'Am Markt 1\\n04109 Leipzig',
      '--vat-id',
      'DE987654321',
      '--iban',
      'DE89370400440532013000',
    ]);
    await ok(['buy', 'basic', '--method', 'card', '--for', 'Marketing']);
    await ok(['invoice', '1', '--output', join(dir, 'invoice-1.pdf')]);
    await ok(['invoice', '2', '--output', join(dir, 'invoice-2.pdf')]);
    await ok(['rates', 'set', 'gpt-4o', '--input', '5', '--output', '12']);
    await ok(['limits', 'set', '--user', 'ada@example.com', '--daily', '100']);
    await ok(['limits', 'set', '--dept', 'Marketing', '--monthly', '900']);
    // Holds: one captured, one released (before the last transactions, which a test below cuts off).
    await ok(['usage', 'hold', '--user', 'don@example.com', '--model', 'gpt-4o', '--max-credits', '5', '--event-id', 'tamper-hold']);
    await ok(['usage', 'record', '--hold', '1', '--input-tokens', '100']);
    await ok(['usage', 'hold', '--user', 'don@example.com', '--model', 'gpt-4o', '--max-credits', '3']);
    await ok(['usage', 'release', '2']);
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
    // Two schedules: rows to tamper with (only `recharge run`, not run here, buys).
    await ok(['recharge', 'schedule', '--for', 'Engineering', '--monthly-on', '1', '--package', 'basic']);
    await ok(['recharge', 'schedule', '--for', 'Marketing', '--monthly-on', '28', '--package', 'basic']);
    await ok(['usage', 'record', '--user', 'don@example.com', '--model', 'gpt-4o', '--input-tokens', '523', '--output-tokens', '1247']);
    await ok([
      'usage',
      'record',
      '--user',
      'ada@example.com',
      '--model',
      'gpt-4o-mini',
      '--input-tokens',
      '100',
      '--event-id',
      'tamper-1',
      '--tag',
      'project=apollo',
    ]);
    await ok(['usage', 'reverse', 'tamper-1', '--reason', 'a reversal to tamper with']);
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

  it('keeps a raw edit unsealed and named after later credits writes (they seal only their own records)', async () => {
    const path = copy('sealed-later');
    tamper(path, (db) => db.exec('UPDATE limits SET amount_millicredits = amount_millicredits * 10 WHERE id = 1'));
    expect((await runCli(['--db', path, 'transfer', '1', '--from', 'org', '--to', 'Marketing'], env)).exitCode).toBe(0);
    expect((await runCli(['--db', path, 'limits', 'set', '--dept', 'Engineering', '--daily', '10'], env)).exitCode).toBe(0);
    const { exitCode, report } = await verify(path);
    expect(exitCode).toBe(7);
    expect(report.problems).toEqual([expect.objectContaining({ check: 'state', table: 'limits', rowKey: '[1]', field: 'amount_millicredits' })]);
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
    for (const table of ['ledger_transactions', 'entries', 'usage_events', 'usage_batches', 'usage_daily', 'usage_reversals']) {
      const column =
        table === 'ledger_transactions'
          ? 'memo'
          : table === 'entries'
            ? 'amount_millicredits'
            : table === 'usage_events'
              ? 'input_tokens'
              : table === 'usage_reversals'
                ? 'transaction_id'
                : 'millicredits';
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
            ['id', 'transaction_id', 'day_key', 'event_id', 'usage_event_id'].includes(name)
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
    // Tags are facts of the event its usage transaction's hash covers: changed, added or taken away.
    const setTags = (value: string, where: string) => (db: BetterSqlite3.Database) => db.exec(`UPDATE usage_events SET tags = ${value} WHERE ${where}`);
    cases.push({ table: 'usage_events', name: 'tags edit', edit: setTags(`'{"project":"hermes"}'`, "event_id = 'tamper-1'") });
    cases.push({ table: 'usage_events', name: 'tags removed', edit: setTags('NULL', "event_id = 'tamper-1'") });
    cases.push({ table: 'usage_events', name: 'tags added', edit: setTags(`'{"project":"apollo"}'`, "event_id = 'tamper-hold'") });
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
  /** Cuts every transaction after `keepId` off, with its entries, usage rows and day totals, and sets the balances to match. */
  function cutBack(db: BetterSqlite3.Database, keepId: number): void {
    const cut = db
      .prepare(
        'SELECT user_id AS userId, department_id AS departmentId, model, feature, cost_millicredits AS cost, drawn_from_org_millicredits AS drawn FROM usage_events WHERE transaction_id > ?',
      )
      .all(keepId) as {
      userId: number;
      departmentId: number;
      model: string;
      feature: string;
      cost: number;
      drawn: number;
    }[];
    for (const event of cut) {
      db.prepare(
        `UPDATE usage_daily SET event_count = event_count - 1, millicredits = millicredits - ?, drawn_from_org_millicredits = drawn_from_org_millicredits - ?
         WHERE user_id = ? AND department_id = ? AND model = ? AND feature = ? AND day_key = (SELECT max(day_key) FROM usage_daily WHERE user_id = ? AND model = ? AND feature = ?)`,
      ).run(event.cost, event.drawn, event.userId, event.departmentId, event.model, event.feature, event.userId, event.model, event.feature);
    }
    db.exec('DELETE FROM usage_daily WHERE event_count = 0');
    for (const table of ['entries', 'usage_events', 'usage_batches', 'usage_reversals'])
      db.prepare(`DELETE FROM ${table} WHERE transaction_id > ?`).run(keepId);
    db.prepare('DELETE FROM ledger_transactions WHERE id > ?').run(keepId);
    db.exec('UPDATE accounts SET balance_millicredits = (SELECT coalesce(sum(amount_millicredits), 0) FROM entries WHERE account_id = accounts.id)');
  }

  const checkpointOf = async (path: string): Promise<string> => {
    const file = join(dir, `checkpoint-${Math.random().toString(36).slice(2)}.json`);
    const result = await runCli(['--db', path, 'checkpoint', '--json'], env);
    expect(result.exitCode, result.stderr).toBe(0);
    writeFileSync(file, result.stdout);
    return file;
  };

  it('catches a tail cut (transactions with their balances and day totals) and a lost WAL only through a checkpoint taken before', async () => {
    const before = await checkpointOf(base);
    const cut = copy('cut');
    const head = (await verify(cut)).report.head;
    tamper(cut, (db) => cutBack(db, head.transactionId - 2));
    const alone = await verify(cut);
    // The chain is consistent, just shorter: only the checkpoint can tell.
    expect(alone.exitCode, JSON.stringify(alone.report.problems)).toBe(0);
    const caught = await verify(cut, ['--since-checkpoint', before]);
    expect(caught.exitCode).toBe(7);
    expect(caught.report.problems[0]?.message).toContain(
      `the ledger was cut back: the checkpoint saw transaction ${head.transactionId}, the ledger now ends at ${head.transactionId - 2}`,
    );

    // Three transfers committed into the WAL (a reader keeps SQLite from folding it back), then the WAL is lost.
    const live = copy('wal');
    const holder = open(live);
    holder.pragma('wal_checkpoint(TRUNCATE)');
    for (const amount of ['1', '2', '3']) {
      expect((await runCli(['--db', live, 'transfer', amount, '--from', 'org', '--to', 'Marketing'], env)).exitCode).toBe(0);
    }
    const afterTransfers = await checkpointOf(live);
    const lost = join(dir, 'wal-lost.db');
    copyFileSync(live, lost);
    holder.close();
    expect(existsSync(`${lost}-wal`)).toBe(false);
    expect((await verify(lost)).exitCode).toBe(0);
    const walCaught = await verify(lost, ['--since-checkpoint', afterTransfers]);
    expect(walCaught.exitCode).toBe(7);
    expect(walCaught.report.problems[0]?.message).toMatch(/the ledger was cut back: the checkpoint saw transaction \d+, the ledger now ends at \d+/);
  });

  it('refuses a checkpoint signed with another key, an altered one, and a fork; takes one from standard input', async () => {
    const original = await checkpointOf(base);
    const forked = copy('forked');
    const other = copy('other-branch');
    expect((await runCli(['--db', forked, 'transfer', '5', '--from', 'org', '--to', 'Marketing'], env)).exitCode).toBe(0);
    expect((await runCli(['--db', other, 'transfer', '6', '--from', 'org', '--to', 'Marketing'], env)).exitCode).toBe(0);
    const otherHead = await checkpointOf(other);
    const altered = join(dir, 'altered.json');
    writeFileSync(altered, readFileSync(original, 'utf8').replace(/"at": "[^"]+"/, '"at": "2020-01-01T00:00:00.000Z"'));
    const [otherKey, alteredResult, fork, fromStdin, noKey, garbage] = await Promise.all([
      verify(base, ['--since-checkpoint', original], { key: OTHER_KEY }),
      verify(base, ['--since-checkpoint', altered]),
      verify(forked, ['--since-checkpoint', otherHead]),
      verify(forked, ['--since-checkpoint', '-'], { input: readFileSync(original, 'utf8') }),
      runCli(['--db', base, 'verify', '--json', '--since-checkpoint', original], {}),
      verify(base, ['--since-checkpoint', '-'], { input: '{"format":"credits-checkpoint-v1"}' }),
    ]);
    expect(otherKey.exitCode).toBe(7);
    expect(otherKey.report.problems[0]?.message).toMatch(/^the checkpoint was signed with another key \(.+\) than the configured one/);
    expect(alteredResult.exitCode).toBe(7);
    expect(alteredResult.report.problems[0]?.message).toContain('signature does not match');
    expect(fork.exitCode).toBe(7);
    expect(fork.report.problems[0]?.message).toMatch(/^the ledger forked from the checkpoint: transaction \d+ has another hash/);
    expect(fromStdin.exitCode, fromStdin.stderr).toBe(0);
    expect(noKey.exitCode).toBe(2);
    expect(noKey.stderr).toContain('SIGNING_KEY_MISSING');
    expect(garbage.exitCode).toBe(2);
    expect(garbage.stderr).toContain('INVALID_CHECKPOINT');
  });

  it('makes a signing key once (0600) and refuses to replace it', async () => {
    const configHome = join(dir, 'config');
    const first = await runCli(['--db', base, 'checkpoint', '--init-key', '--json'], { XDG_CONFIG_HOME: configHome });
    expect(first.exitCode, first.stderr).toBe(0);
    const path = join(configHome, 'credits', 'signing-key');
    expect(first.json<{ path: string }>().path).toBe(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const key = readFileSync(path, 'utf8');
    const again = await runCli(['--db', base, 'checkpoint', '--init-key'], { XDG_CONFIG_HOME: configHome });
    expect(again.exitCode).toBe(5);
    expect(again.stderr).toContain('SIGNING_KEY_EXISTS');
    expect(readFileSync(path, 'utf8')).toBe(key);
    // The key file signs a checkpoint that the same key file then accepts.
    const signed = await runCli(['--db', base, 'checkpoint'], { XDG_CONFIG_HOME: configHome });
    expect(signed.exitCode).toBe(0);
    const checked = await runCli(['--db', base, 'verify', '--since-checkpoint', '-'], { XDG_CONFIG_HOME: configHome }, signed.stdout);
    expect(checked.exitCode, checked.stderr).toBe(0);
  });

  it('verifies and checkpoints a remote (sqld) ledger the same way', async () => {
    const remote = await seededLedger('remote');
    try {
      const client = createClient({ url: remote.location });
      const remoteVerify = async (extra: string[] = [], input?: string) => {
        const result = await runCli(['--db', remote.location, 'verify', '--json', ...extra], env, input);
        return { exitCode: result.exitCode, report: result.json<Report>() };
      };
      await remote.ok(['transfer', '100', '--from', 'org', '--to', 'Engineering'], { env });
      const checkpoint = await remote.ok(['checkpoint', '--json'], { env });
      expect((await remoteVerify(['--since-checkpoint', '-'], checkpoint.stdout)).exitCode).toBe(0);
      const head = checkpoint.json<{ head: Report['head'] }>().head;
      // Cut the transfer off, balances included: the chain alone holds; the checkpoint does not.
      await client.batch([
        `DELETE FROM entries WHERE transaction_id = ${head.transactionId}`,
        `DELETE FROM ledger_transactions WHERE id = ${head.transactionId}`,
        'UPDATE accounts SET balance_millicredits = (SELECT coalesce(sum(amount_millicredits), 0) FROM entries WHERE account_id = accounts.id)',
      ]);
      expect((await remoteVerify()).exitCode).toBe(0);
      const cut = await remoteVerify(['--since-checkpoint', '-'], checkpoint.stdout);
      expect(cut.exitCode).toBe(7);
      expect(cut.report.problems[0]?.message).toContain('the ledger was cut back');
      await client.execute("UPDATE model_rates SET tier = 'economy' WHERE id = 1");
      const edited = await remoteVerify();
      expect(edited.exitCode).toBe(7);
      expect(edited.report.problems.find((problem) => problem.check === 'state')).toMatchObject({ table: 'model_rates', field: 'tier' });
      client.close();
    } finally {
      await remote.close();
    }
  });
});
