import BetterSqlite3 from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSqld, type Sqld } from '../helpers/sqld.js';
import { dumpDatabase, knownMigrations, ledgerTables, migrationRows, open, tableNames, tempDir, withLedger } from './support.js';

describe('a fresh local ledger file', () => {
  const dir = tempDir('open');
  afterAll(() => dir.remove());

  it('is created with every table and the migration rows, in a folder that did not exist yet', async () => {
    const path = join(dir.path, 'not', 'yet', 'ledger.db');
    await withLedger(
      path,
      async (db) => {
        expect(db.kind).toBe('local');
        expect(db.location).toBe(path);
        expect(await tableNames(db)).toEqual([...ledgerTables(), '__drizzle_migrations'].sort());
        expect(await migrationRows(db)).toEqual(knownMigrations());
      },
      { mayCreate: true },
    );
    const raw = new BetterSqlite3(path, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('is left byte for byte alone when opened again, by a command or by init', async () => {
    const path = join(dir.path, 'again.db');
    await withLedger(path, async (db) => db.write(async (tx) => tx.run("INSERT INTO settings (key, value) VALUES ('organisation.name', 'Test GmbH')")), {
      mayCreate: true,
    });
    const bytes = readFileSync(path);

    for (const mayCreate of [false, true]) {
      await withLedger(
        path,
        async (db) => {
          expect(await migrationRows(db)).toEqual(knownMigrations());
          expect(await db.all('SELECT key, value FROM settings')).toEqual([{ key: 'organisation.name', value: 'Test GmbH' }]);
        },
        { mayCreate },
      );
      expect(readFileSync(path).equals(bytes)).toBe(true);
      expect(existsSync(`${path}-wal`)).toBe(false);
    }
  });
});

describe.each([
  { scheme: 'http', url: (server: Sqld) => server.httpUrl, other: (server: Sqld) => server.wsUrl },
  { scheme: 'ws', url: (server: Sqld) => server.wsUrl, other: (server: Sqld) => server.httpUrl },
])('a fresh sqld database over $scheme://', ({ url, other }) => {
  let server: Sqld;
  beforeAll(async () => {
    server = await startSqld();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('gets every table and the migration rows on the first open', async () => {
    await withLedger(
      url(server),
      async (db) => {
        expect(db.kind).toBe('remote');
        expect(db.location).toBe(url(server));
        expect(await tableNames(db)).toEqual([...ledgerTables(), '__drizzle_migrations'].sort());
        expect(await migrationRows(db)).toEqual(knownMigrations());
        await db.write(async (tx) => tx.run("INSERT INTO settings (key, value) VALUES ('organisation.name', 'Remote AG')"));
      },
      { mayCreate: true },
    );
  });

  it('is unchanged when opened again, over either scheme and as a libsql:// URL', async () => {
    const before = await withLedger(url(server), dumpDatabase);
    const port = new URL(server.httpUrl).port;
    const opens = [
      { location: url(server), mayCreate: false },
      { location: other(server), mayCreate: true },
      { location: `libsql://127.0.0.1:${port}?tls=0`, mayCreate: false },
    ];
    for (const { location, mayCreate } of opens) {
      expect(await withLedger(location, dumpDatabase, { mayCreate })).toEqual(before);
    }
    expect((before.settings as unknown[]).length).toBe(1);
  });
});

describe('two programs opening one fresh sqld database at the same moment', () => {
  let server: Sqld;
  beforeAll(async () => {
    server = await startSqld();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('both get the ledger, migrated exactly once', async () => {
    const opened = await Promise.all([
      open(server.wsUrl, { mayCreate: true }),
      open(server.httpUrl, { mayCreate: true }),
      open(server.wsUrl, { mayCreate: true }),
    ]);
    try {
      for (const db of opened) expect(await migrationRows(db)).toEqual(knownMigrations());
      expect(await tableNames(opened[0]!)).toEqual([...ledgerTables(), '__drizzle_migrations'].sort());
    } finally {
      await Promise.all(opened.map((db) => db.close()));
    }
  });
});
