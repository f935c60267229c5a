import BetterSqlite3 from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCreditsError, type CreditsError } from '../../src/core/errors.js';
import { openRemoteDatabase } from '../../src/store/remoteDriver.js';
import { startSqld, type Sqld } from '../helpers/sqld.js';
import { dumpDatabase, latestKnownMigrationMs, open, tempDir } from './support.js';

async function refusal(promise: Promise<unknown>): Promise<CreditsError> {
  const error = await promise.then(
    (db) => {
      void (db as { close?: () => Promise<void> }).close?.();
      return new Error('the ledger was opened');
    },
    (reason: unknown) => reason,
  );
  if (!isCreditsError(error)) throw error;
  return error;
}

/** A note-taking app's database, in SQLite's default rollback-journal mode. */
const NOTES_APP = `
  CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL);
  CREATE TABLE tags (note_id INTEGER NOT NULL, tag TEXT NOT NULL);
  INSERT INTO notes (title, body) VALUES ('groceries', 'milk, bread'), ('ideas', 'a ledger for AI credits');
  INSERT INTO tags VALUES (1, 'home'), (2, 'work');
`;

function sqliteFile(path: string, script: string, options: { drizzleMigrationAt?: number } = {}): void {
  const db = new BetterSqlite3(path);
  try {
    db.exec(script);
    if (options.drizzleMigrationAt !== undefined) {
      db.exec('CREATE TABLE __drizzle_migrations (id INTEGER PRIMARY KEY, hash text NOT NULL, created_at numeric)');
      db.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('notes-app-0000', options.drizzleMigrationAt);
    }
  } finally {
    db.close();
  }
}

describe('a local path that holds something other than a ledger', () => {
  const dir = tempDir('foreign');
  afterAll(() => dir.remove());

  /** Both a normal command and `init` must refuse, leaving the file exactly as it was. */
  async function expectRefusedUntouched(path: string, code: string, message: RegExp): Promise<void> {
    const bytes = readFileSync(path);
    for (const mayCreate of [false, true]) {
      const error = await refusal(open(path, { mayCreate }));
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
      expect(readFileSync(path).equals(bytes)).toBe(true);
      expect(existsSync(`${path}-wal`)).toBe(false);
      expect(existsSync(`${path}-shm`)).toBe(false);
    }
  }

  it("another program's SQLite file is NOT_A_LEDGER (exit 2), named with its tables, and its bytes stay the same", async () => {
    const path = join(dir.path, 'notes.sqlite');
    sqliteFile(path, NOTES_APP);
    await expectRefusedUntouched(path, 'NOT_A_LEDGER', /notes\.sqlite holds tables of another program \(notes, tags\)/);
    const error = await refusal(open(path));
    expect(error.exitCode).toBe(2);
    expect(error.hint).toContain('credits init');
  });

  it('a SQLite file of another program that also keeps drizzle migrations is NOT_A_LEDGER, whether its migrations are older or newer than ours', async () => {
    for (const [name, at] of [
      ['older.sqlite', 1_600_000_000_000],
      ['newer.sqlite', latestKnownMigrationMs() + 86_400_000],
    ] as const) {
      const path = join(dir.path, name);
      sqliteFile(path, NOTES_APP, { drizzleMigrationAt: at });
      await expectRefusedUntouched(path, 'NOT_A_LEDGER', /another program/);
    }
  });

  it('a text file is NOT_A_LEDGER and keeps its text', async () => {
    const path = join(dir.path, 'ledger.txt');
    writeFileSync(path, 'department,credits\nEngineering,2500\nMarketing,500\n'.repeat(40));
    await expectRefusedUntouched(path, 'NOT_A_LEDGER', /ledger\.txt is not a SQLite database/);
  });

  it('a directory is NOT_A_LEDGER, and no ledger is created inside it', async () => {
    const path = join(dir.path, 'ledgers');
    mkdirSync(path);
    for (const mayCreate of [false, true]) {
      const error = await refusal(open(path, { mayCreate }));
      expect(error.code).toBe('NOT_A_LEDGER');
      expect(error.message).toContain(`${path} is a directory`);
    }
    expect(readdirSync(path)).toEqual([]);
  });

  it('an empty file is no ledger until init, and a missing one is not created by a command', async () => {
    const empty = join(dir.path, 'touched.db');
    writeFileSync(empty, '');
    const notYet = await refusal(open(empty));
    expect(notYet.code).toBe('LEDGER_NOT_FOUND');
    expect(notYet.exitCode).toBe(4);
    expect(readFileSync(empty).length).toBe(0);

    const missing = join(dir.path, 'missing', 'ledger.db');
    const absent = await refusal(open(missing));
    expect(absent.code).toBe('LEDGER_NOT_FOUND');
    expect(absent.hint).toContain('credits init');
    expect(existsSync(join(dir.path, 'missing'))).toBe(false);
  });
});

describe('a sqld database that holds no ledger', () => {
  let server: Sqld;
  beforeAll(async () => {
    server = await startSqld();
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function rawDump(): Promise<Record<string, unknown>> {
    const db = openRemoteDatabase({ url: server.wsUrl, authToken: undefined });
    try {
      return await dumpDatabase(db);
    } finally {
      await db.close();
    }
  }

  it('is LEDGER_NOT_FOUND while empty, and NOT_A_LEDGER once another program has put its tables there; neither is changed', async () => {
    const empty = await refusal(open(server.wsUrl));
    expect(empty.code).toBe('LEDGER_NOT_FOUND');
    expect(empty.message).toContain(server.wsUrl);
    expect(await rawDump()).toEqual({ schema: [] });

    const raw = openRemoteDatabase({ url: server.wsUrl, authToken: undefined });
    await raw.execScript(NOTES_APP).finally(() => raw.close());
    const before = await rawDump();
    for (const location of [server.wsUrl, server.httpUrl]) {
      for (const mayCreate of [false, true]) {
        const error = await refusal(open(location, { mayCreate }));
        expect(error.code).toBe('NOT_A_LEDGER');
        expect(error.message).toContain(`${location} holds tables of another program (notes, tags)`);
      }
    }
    expect(await rawDump()).toEqual(before);
  });
});
