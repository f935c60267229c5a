import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { isRemoteLocation } from './open.js';

/** What shell completion can ask the ledger for (OptionSpec['dynamic'] in cli/spec.ts). */
export const COMPLETION_NAME_KINDS = ['departments', 'accounts', 'users', 'models', 'purchases'] as const;
export type CompletionNameKind = (typeof COMPLETION_NAME_KINDS)[number];

export function isCompletionNameKind(text: string): text is CompletionNameKind {
  return (COMPLETION_NAME_KINDS as readonly string[]).includes(text);
}

const QUERIES: Record<CompletionNameKind, string> = {
  departments: `SELECT name FROM accounts WHERE kind = 'department' ORDER BY name COLLATE NOCASE`,
  // `org` first: it is what --from/--to/--for mean most often.
  accounts: `SELECT name FROM accounts WHERE kind IN ('org', 'department') ORDER BY kind = 'department', name COLLATE NOCASE`,
  users: `SELECT email AS name FROM users ORDER BY email COLLATE NOCASE`,
  models: `SELECT DISTINCT model AS name FROM model_rates ORDER BY model`,
  // Cancelled purchases can be neither settled, cancelled nor invoiced: they would only be noise.
  purchases: `SELECT id AS name FROM purchases WHERE status <> 'cancelled' ORDER BY id`,
};

/**
 * Names for completion, read straight from an open SQLite handle: no schema check, no
 * migrations, nothing written. Completion runs on every Tab press, so this stays one query.
 */
export function completionNames(db: BetterSqlite3.Database, kind: CompletionNameKind): string[] {
  const rows = db.prepare(QUERIES[kind]).all() as { name: string | number }[];
  return rows.map((row) => String(row.name)).filter((name) => name !== '' && !name.includes('\n'));
}

/**
 * The compiled addon's path, handed to better-sqlite3 so that it skips its `bindings` lookup
 * (a stack-trace walk and a search of several folders, a few milliseconds of every Tab press).
 */
function addonPath(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
  } catch {
    return undefined;
  }
}

/**
 * Names of a local ledger file, opened read-only without migrations; [] for a remote ledger,
 * where names would cost a network round trip per Tab. Throws when the file cannot be read.
 */
export async function readCompletionNames(location: string, kind: CompletionNameKind): Promise<string[]> {
  if (isRemoteLocation(location)) return [];
  const { default: Sqlite } = await import('better-sqlite3');
  const nativeBinding = addonPath();
  const db = new Sqlite(resolve(location.replace(/^file:/, '')), {
    readonly: true,
    fileMustExist: true,
    timeout: 200,
    ...(nativeBinding ? { nativeBinding } : {}),
  });
  try {
    return completionNames(db, kind);
  } finally {
    db.close();
  }
}
