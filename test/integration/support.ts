import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { Database } from '../../src/store/driver.js';
import { openLedger } from '../../src/store/open.js';

/**
 * Shared by the store integration tests. The expectations come from the migration files
 * themselves (what drizzle-kit wrote), not from the code under test.
 */
export const REPO = resolve(import.meta.dirname, '../..');
export const MIGRATIONS = join(REPO, 'migrations');

export type MigrationRow = { hash: string; created_at: number };

/** The rows a fully migrated ledger must hold in __drizzle_migrations, oldest first. */
export function knownMigrations(): MigrationRow[] {
  return readMigrationFiles({ migrationsFolder: MIGRATIONS }).map((migration) => ({ hash: migration.hash, created_at: migration.folderMillis }));
}

export function latestKnownMigrationMs(): number {
  return Math.max(...knownMigrations().map((row) => row.created_at));
}

/** Every table the migrations create (drizzle's `__new_x` tables are renamed back to x). */
export function ledgerTables(): string[] {
  const names = new Set<string>();
  for (const file of readdirSync(MIGRATIONS).filter((name) => name.endsWith('.sql'))) {
    for (const match of readFileSync(join(MIGRATIONS, file), 'utf8').matchAll(/CREATE TABLE [`"]?(\w+)[`"]?/g)) {
      if (!match[1]!.startsWith('__new_')) names.add(match[1]!);
    }
  }
  return [...names].sort();
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `credits-it-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function open(location: string, options: { mayCreate?: boolean; busyTimeoutMs?: number } = {}): Promise<Database> {
  return openLedger({ location, busyTimeoutMs: options.busyTimeoutMs ?? 5000 }, { mayCreate: options.mayCreate ?? false });
}

/** Opens, runs `work`, and always closes. */
export async function withLedger<T>(
  location: string,
  work: (db: Database) => Promise<T>,
  options: { mayCreate?: boolean; busyTimeoutMs?: number } = {},
): Promise<T> {
  const db = await open(location, options);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

export async function tableNames(db: Database): Promise<string[]> {
  const rows = await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  return rows.map((row) => row.name);
}

export async function migrationRows(db: Database): Promise<MigrationRow[]> {
  const rows = await db.all<{ hash: string; created_at: number }>('SELECT hash, created_at FROM __drizzle_migrations ORDER BY id');
  return rows.map((row) => ({ hash: row.hash, created_at: Number(row.created_at) }));
}

/** Everything in a database a user could miss after a refused open: schema and every row. */
export async function dumpDatabase(db: Database): Promise<Record<string, unknown>> {
  const schema = await db.all<{ type: string; name: string; sql: string | null }>(
    "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
  );
  const dump: Record<string, unknown> = { schema };
  for (const { name } of schema.filter((item) => item.type === 'table')) {
    dump[name] = await db.all(`SELECT * FROM "${name}" ORDER BY rowid`);
  }
  return dump;
}

/**
 * A second process on the same SQLite file, as another `credits` run would be: better-sqlite3
 * with a busy timeout, BEGIN IMMEDIATE, one audit row, COMMIT. It prints "waiting" before
 * BEGIN, "locked" once it holds the write lock, then holds it for holdMs.
 */
export type OtherWriter = { child: ChildProcess; output(): string; waitFor(text: string): Promise<void>; exited: Promise<number | null> };

const OTHER_WRITER = `
const [path, holdMs, command] = process.argv.slice(1);
const Database = require('better-sqlite3');
const db = new Database(path, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
process.stdout.write('waiting\\n');
db.exec('BEGIN IMMEDIATE');
db.prepare("INSERT INTO audit_log (at_ms, actor, command, args_json, outcome) VALUES (?, 'other-process', ?, '{}', 'ok')").run(Date.now(), command);
process.stdout.write('locked\\n');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(holdMs));
db.exec('COMMIT');
db.close();
process.stdout.write('done\\n');
`;

export function startOtherWriter(path: string, holdMs: number, command: string): OtherWriter {
  const child = spawn(process.execPath, ['-e', OTHER_WRITER, path, String(holdMs), command], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    text += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return {
    child,
    output: () => text,
    exited,
    waitFor: (wanted) =>
      new Promise<void>((resolveWait, reject) => {
        const check = (): void => {
          if (text.includes(wanted)) {
            listeners.delete(check);
            resolveWait();
          }
        };
        listeners.add(check);
        void exited.then((code) => {
          if (!text.includes(wanted)) reject(new Error(`the other writer exited with ${code} before "${wanted}": ${text}`));
        });
        check();
      }),
  };
}
