import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreditsError } from '../core/errors.js';
import { nodeCrypto } from './nodeCrypto.js';

/**
 * Reads migrations/ as drizzle-kit wrote it (meta/_journal.json, one NNNN_name.sql per entry),
 * giving what drizzle-orm's readMigrationFiles gives: that function was all the ORM did at run
 * time, and the package weighs 17 MB installed. The hash and the time are what a ledger's
 * __drizzle_migrations rows hold, so they must stay exactly drizzle's (a test compares the two).
 */

/** One migration: its statements (split where drizzle-kit wrote a breakpoint), as drizzle-orm's MigrationMeta. */
export type MigrationFile = {
  sql: string[];
  /** The journal's `breakpoints` flag, carried over as drizzle does. */
  bps: boolean;
  /** The journal's `when`: the migration's time, which orders migrations and marks them applied. */
  folderMillis: number;
  /** sha256 (hex) of the whole file's text. */
  hash: string;
};

type JournalEntry = { idx: number; when: number; tag: string; breakpoints: boolean };

const STATEMENT_BREAKPOINT = '--> statement-breakpoint';

export function readJournal(folder: string): JournalEntry[] {
  const path = join(folder, 'meta', '_journal.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CreditsError('INTERNAL', `the migrations journal ${path} is missing from this installation`, { cause: error });
  }
  return (JSON.parse(text) as { entries: JournalEntry[] }).entries;
}

/** Every migration in the journal's order. */
export function readMigrationFiles(folder: string): MigrationFile[] {
  return readJournal(folder).map((entry) => {
    const path = join(folder, `${entry.tag}.sql`);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new CreditsError('INTERNAL', `the migration ${path} is missing from this installation`, { cause: error });
    }
    return {
      sql: text.split(STATEMENT_BREAKPOINT),
      bps: entry.breakpoints,
      folderMillis: entry.when,
      hash: nodeCrypto().createHash('sha256').update(text).digest('hex'),
    };
  });
}
