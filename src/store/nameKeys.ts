import { emailKey, nameKey } from '../core/names.js';
import type { WriteTx } from './driver.js';

/** The migration whose new columns this fills (migrations/meta/_journal.json). */
export const NAME_KEYS_MIGRATION_TAG = '0002_name_keys';

/**
 * Fills accounts.name_key and users.email_key of a ledger written before they existed: SQLite
 * cannot compute NFKC and case folding, so this runs in JavaScript, in the migration's own
 * transaction. The older version kept names unique ignoring ASCII case only, so two rows may now
 * share a key (`équipe` and `Équipe`): the older row gets it, the later keeps NULL and stays
 * reachable by its exact spelling. Nothing else is changed, so hashes and `verify` are untouched.
 */
export async function fillNameKeys(tx: WriteTx): Promise<void> {
  const accounts = await tx.all<{ id: number; name: string }>('SELECT id, name FROM accounts WHERE name_key IS NULL ORDER BY id');
  tx.runMany(
    'UPDATE accounts SET name_key = ? WHERE id = ?',
    firstOfEachKey(accounts, (row) => nameKey(row.name)),
  );
  const users = await tx.all<{ id: number; email: string }>('SELECT id, email FROM users WHERE email_key IS NULL ORDER BY id');
  tx.runMany(
    'UPDATE users SET email_key = ? WHERE id = ?',
    firstOfEachKey(users, (row) => emailKey(row.email)),
  );
}

function firstOfEachKey<T extends { id: number }>(rows: readonly T[], keyOf: (row: T) => string): [string, number][] {
  const taken = new Set<string>();
  const updates: [string, number][] = [];
  for (const row of rows) {
    const key = keyOf(row);
    if (taken.has(key)) continue;
    taken.add(key);
    updates.push([key, row.id]);
  }
  return updates;
}
