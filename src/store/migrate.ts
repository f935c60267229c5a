import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreditsError } from '../core/errors.js';
import type { Database } from './driver.js';
import { readJournal, readMigrationFiles } from './migrationFiles.js';
import { NAME_KEYS_MIGRATION_TAG, fillNameKeys } from './nameKeys.js';
import { PROVIDER_MIGRATION_TAG, adoptOrganisationAsProvider } from './providerMigration.js';
import { installStateLog } from './stateLog.js';

/** Found by walking up from this module: dist/credits.js and src/store/migrate.ts both work. */
export function migrationsFolder(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth += 1) {
    const candidate = join(folder, 'migrations');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
    folder = dirname(folder);
  }
  throw new CreditsError('INTERNAL', 'the migrations folder is missing from this installation');
}

function knownMigrationsMs(folder: string): { firstMs: number; latestMs: number; nameKeysMs: number | undefined; providerMs: number | undefined } {
  const entries = readJournal(folder);
  const whens = entries.map((entry) => entry.when);
  const nameKeysMs = entries.find((entry) => entry.tag === NAME_KEYS_MIGRATION_TAG)?.when;
  const providerMs = entries.find((entry) => entry.tag === PROVIDER_MIGRATION_TAG)?.when;
  return { firstMs: Math.min(...whens), latestMs: Math.max(...whens), nameKeysMs, providerMs };
}

function schemaTooNew(location: string): CreditsError {
  return new CreditsError('SCHEMA_TOO_NEW', `the ledger ${location} was written by a newer version of credits`, {
    hint: 'upgrade credits; this version will not change a ledger it does not understand',
  });
}

export type SchemaState = 'current' | 'empty' | 'foreign';

/**
 * Brings the ledger's schema up to this program's, in the drizzle migration table's format so
 * drizzle-kit tooling keeps working. A ledger written by a newer program is refused untouched,
 * and so is a database that holds some other program's tables. A migration that changed what
 * the user's data means says so in a note, given to `onNote` once the migration has committed.
 */
export async function ensureSchema(db: Database, options: { mayCreate: boolean; onNote?: ((note: string) => void) | undefined }): Promise<void> {
  const folder = migrationsFolder();
  const { firstMs: firstKnownMs, latestMs: latestKnownMs, nameKeysMs, providerMs } = knownMigrationsMs(folder);
  let appliedMs: number | null;
  try {
    const row = await db.get<{ first: number | null; last: number | null }>(
      'SELECT min(created_at) AS first, max(created_at) AS last FROM __drizzle_migrations',
    );
    if (row?.last === null || row?.last === undefined) {
      appliedMs = null;
    } else if (Number(row.first) !== firstKnownMs) {
      // Another program that keeps its schema with drizzle has the same table; every credits
      // ledger, old or new, starts with our first migration.
      throw new CreditsError('NOT_A_LEDGER', `${db.location} holds the migrations of another program, not a credits ledger`, {
        hint: 'point --db at a ledger made by `credits init`, or at a new file',
      });
    } else {
      appliedMs = Number(row.last);
    }
  } catch (error) {
    if (!/no such table/i.test(String((error as Error).message))) throw error;
    appliedMs = null;
  }

  if (appliedMs === null) {
    const tables = await db.all<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__drizzle_migrations'",
    );
    if (tables.length > 0) {
      throw new CreditsError(
        'NOT_A_LEDGER',
        `${db.location} holds tables of another program (${tables
          .slice(0, 3)
          .map((t) => t.name)
          .join(', ')}), not a credits ledger`,
        {
          hint: 'point --db at a ledger made by `credits init`, or at a new file',
        },
      );
    }
    if (!options.mayCreate) {
      throw new CreditsError('LEDGER_NOT_FOUND', `${db.location} is empty: no ledger has been created there`, { hint: 'run `credits init` first' });
    }
    appliedMs = 0;
  }

  if (appliedMs > latestKnownMs) throw schemaTooNew(db.location);
  if (appliedMs === latestKnownMs) return;

  const notes: string[] = [];
  const pending = readMigrationFiles(folder).filter((migration) => migration.folderMillis > (appliedMs ?? 0));
  await db.write(
    async (tx) => {
      notes.length = 0;
      tx.run('CREATE TABLE IF NOT EXISTS __drizzle_migrations (id INTEGER PRIMARY KEY, hash text NOT NULL, created_at numeric)');
      // Another process may have migrated while we waited for the write lock.
      const again = await tx.get<{ last: number | null }>('SELECT max(created_at) AS last FROM __drizzle_migrations');
      const alreadyMs = Number(again?.last ?? 0);
      if (alreadyMs > latestKnownMs) throw schemaTooNew(db.location);
      for (const migration of pending) {
        if (migration.folderMillis <= alreadyMs) continue;
        for (const statement of migration.sql) {
          if (statement.trim() !== '') tx.run(statement);
        }
        // The one step SQL cannot do: the keys of existing rows are computed in JavaScript.
        if (migration.folderMillis === nameKeysMs) await fillNameKeys(tx);
        if (migration.folderMillis === providerMs) {
          const note = await adoptOrganisationAsProvider(tx);
          if (note !== null) notes.push(note);
        }
        tx.run('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)', [migration.hash, migration.folderMillis]);
      }
      // The triggers follow the columns the migrations left; a table with new columns is folded in again.
      await installStateLog(tx);
    },
    { migrating: true },
  );
  for (const note of notes) options.onNote?.(note);
}
