import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMigrationFiles as drizzleReadMigrationFiles } from 'drizzle-orm/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { readMigrationFiles } from '../../src/store/migrationFiles.js';
import { MIGRATIONS, tempDir } from './support.js';

/**
 * Our reader of migrations/ replaced drizzle-orm's at run time: a ledger's __drizzle_migrations
 * rows hold its hashes and times, so it must give exactly what drizzle's gives (drizzle-orm stays
 * a devDependency for this comparison and for drizzle-kit).
 */
describe('readMigrationFiles', () => {
  const folder = tempDir('migration-files');
  afterAll(() => folder.remove());

  it('gives what drizzle-orm/migrator gives for the real migrations folder', () => {
    const ours = readMigrationFiles(MIGRATIONS);
    expect(ours.length).toBeGreaterThan(10);
    expect(ours).toStrictEqual(drizzleReadMigrationFiles({ migrationsFolder: MIGRATIONS }));
  });

  it('keeps every migration later than the one before it: a ledger applies those after its newest, so a when written back in time is skipped or run twice', () => {
    const whens = readMigrationFiles(MIGRATIONS).map((migration) => migration.folderMillis);
    for (let index = 1; index < whens.length; index += 1)
      expect({ index, when: whens[index] }).toEqual({ index, when: expect.toSatisfy((when: number) => when > whens[index - 1]!) });
  });

  it('and for files drizzle-kit might write one day: CRLF, a byte order mark, non-ASCII, a trailing breakpoint, no breakpoints', () => {
    const files: [string, string, boolean][] = [
      ['0000_crlf', 'CREATE TABLE a (x integer);\r\n--> statement-breakpoint\r\nCREATE INDEX a_x ON a (x);\r\n', true],
      ['0001_bom', '\uFEFFALTER TABLE a ADD y text;--> statement-breakpoint\n', true],
      ['0002_umlaut', "INSERT INTO a (y) VALUES ('Müller — Straße 3 €');\n--> statement-breakpoint\n--> statement-breakpoint\n", true],
      ['0003_plain', 'CREATE TABLE b (z integer);\nCREATE TABLE c (z integer);\n', false],
    ];
    mkdirSync(join(folder.path, 'meta'));
    const entries = files.map(([tag, , breakpoints], idx) => ({ idx, version: '6', when: 1_700_000_000_000 + idx * 1000, tag, breakpoints }));
    writeFileSync(join(folder.path, 'meta', '_journal.json'), JSON.stringify({ version: '7', dialect: 'sqlite', entries }));
    for (const [tag, text] of files) writeFileSync(join(folder.path, `${tag}.sql`), text);

    const ours = readMigrationFiles(folder.path);
    expect(ours).toStrictEqual(drizzleReadMigrationFiles({ migrationsFolder: folder.path }));
    expect(ours.map((migration) => migration.sql.length)).toEqual([2, 2, 3, 1]);
    expect(ours.map((migration) => migration.bps)).toEqual([true, true, true, false]);
  });
});
