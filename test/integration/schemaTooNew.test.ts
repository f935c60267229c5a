import BetterSqlite3 from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCreditsError, type CreditsError } from '../../src/core/errors.js';
import { openRemoteDatabase } from '../../src/store/remoteDriver.js';
import { startSqld, type Sqld } from '../helpers/sqld.js';
import { dumpDatabase, latestKnownMigrationMs, open, tempDir, withLedger } from './support.js';

/**
 * migrate.ts judges a ledger "newer" when the latest created_at in __drizzle_migrations is
 * later than the latest `when` in this program's migrations/meta/_journal.json. A later
 * program adds its migration row (and its tables); this one must refuse, touching nothing.
 */
const FUTURE_MIGRATION = () => ({ hash: 'migration-of-a-later-credits', createdAt: latestKnownMigrationMs() + 1 });
const FUTURE_TABLE = 'CREATE TABLE spend_forecasts (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, millicredits INTEGER NOT NULL)';

async function refusal(promise: Promise<unknown>): Promise<CreditsError> {
  const error = await promise.then(
    () => new Error('the ledger was opened'),
    (reason: unknown) => reason,
  );
  if (!isCreditsError(error)) throw error;
  return error;
}

describe('a local ledger written by a newer credits', () => {
  const dir = tempDir('newer');
  const path = join(dir.path, 'ledger.db');
  beforeAll(async () => {
    await withLedger(path, async (db) => db.write(async (tx) => tx.run("INSERT INTO settings (key, value) VALUES ('organisation.name', 'Future GmbH')")), {
      mayCreate: true,
    });
    const later = new BetterSqlite3(path);
    try {
      const { hash, createdAt } = FUTURE_MIGRATION();
      later.exec(FUTURE_TABLE);
      later.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run(hash, createdAt);
    } finally {
      later.close();
    }
  });
  afterAll(() => dir.remove());

  it('is refused with SCHEMA_TOO_NEW (exit 6) by every command and by init, and stays byte for byte the same', async () => {
    const bytes = readFileSync(path);
    for (const mayCreate of [false, true]) {
      const error = await refusal(open(path, { mayCreate }));
      expect(error.code).toBe('SCHEMA_TOO_NEW');
      expect(error.exitCode).toBe(6);
      expect(error.message).toContain(path);
      expect(error.hint).toMatch(/upgrade/i);
      expect(readFileSync(path).equals(bytes)).toBe(true);
      expect(existsSync(`${path}-wal`)).toBe(false);
    }
  });
});

describe('a sqld ledger written by a newer credits', () => {
  let server: Sqld;
  beforeAll(async () => {
    server = await startSqld();
    await withLedger(
      server.wsUrl,
      async (db) => {
        const { hash, createdAt } = FUTURE_MIGRATION();
        await db.write(async (tx) => {
          tx.run("INSERT INTO settings (key, value) VALUES ('organisation.name', 'Future AG')");
          tx.run(FUTURE_TABLE);
          tx.run('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)', [hash, createdAt]);
        });
      },
      { mayCreate: true },
    );
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Read past our own schema check, as a person with a SQL shell would. */
  async function rawDump(): Promise<Record<string, unknown>> {
    const db = openRemoteDatabase({ url: server.wsUrl, authToken: undefined });
    try {
      return await dumpDatabase(db);
    } finally {
      await db.close();
    }
  }

  it('is refused with SCHEMA_TOO_NEW naming the URL, over ws:// and http://, and nothing in it changes', async () => {
    const before = await rawDump();
    expect(before).toHaveProperty('spend_forecasts');
    for (const location of [server.wsUrl, server.httpUrl]) {
      for (const mayCreate of [false, true]) {
        const error = await refusal(open(location, { mayCreate }));
        expect(error.code).toBe('SCHEMA_TOO_NEW');
        expect(error.message).toContain(location);
      }
    }
    expect(await rawDump()).toEqual(before);
  });
});
