import BetterSqlite3 from 'better-sqlite3';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { balanceOf, removeDir, runCli, type Ledger } from '../helpers/cli.js';
import { createToken, startServer } from './apiServer.js';

/**
 * Ledgers written before name keys existed: 0.1 compared names with SQLite's NOCASE (ASCII only),
 * so `équipe` and `Équipe` could both be made. Such a ledger must open, get its keys, verify, and
 * keep a token bound to one of the pair away from the other.
 */
// test/fixtures/ledger-0.1-text-digest.db: written by commit 3bfd384 (Engineering, ada@example.com, a few transactions).
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'ledger-0.1-text-digest.db');

function ledgerAt(location: string): Ledger {
  const ledger: Ledger = {
    location,
    run: (args, options = {}) => runCli(['--db', location, ...args], { ...options.env }, options.input),
    async ok(args, options) {
      const result = await ledger.run(args, options);
      if (result.exitCode !== 0) throw new Error(`credits ${args.join(' ')} exited ${result.exitCode}: ${result.stderr}`);
      return result;
    },
    close: async () => undefined,
  };
  return ledger;
}

function keysOf(path: string): { accounts: unknown[]; users: unknown[] } {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return {
      accounts: db.prepare('SELECT name, name_key AS key FROM accounts ORDER BY id').all(),
      users: db.prepare('SELECT email, email_key AS key FROM users ORDER BY id').all(),
    };
  } finally {
    db.close();
  }
}

describe('a ledger from before name keys', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'credits-namekeys-'));
  });

  afterAll(() => {
    removeDir(dir);
  });

  it('opens, gets its keys, verifies, and finds its names by any spelling', async () => {
    const ledger = ledgerAt(join(dir, 'old.db'));
    copyFileSync(FIXTURE, ledger.location);
    expect((await ledger.ok(['verify', '--json'])).json()).toMatchObject({ ok: true, transactions: 4, problems: [] });
    expect(keysOf(ledger.location)).toEqual({
      accounts: [
        { name: 'world', key: 'world' },
        { name: 'org', key: 'org' },
        { name: 'Engineering', key: 'engineering' },
      ],
      users: [{ email: 'ada@example.com', key: 'ada@example.com' }],
    });
    const wide = (await ledger.ok(['balance', 'Ｅｎｇｉｎｅｅｒｉｎｇ', '--json'])).json<{ accounts: { account: string }[] }>();
    expect(wide.accounts.map((row) => row.account)).toEqual(['Engineering']);
    expect((await ledger.run(['dept', 'add', 'ENGINEERING'])).exitCode).toBe(5);
    expect((await ledger.run(['user', 'add', 'ADA@example.com', '--dept', 'Engineering'])).exitCode).toBe(5);
  });

  it('keeps two departments the old version let differ only by non-ASCII case apart, and a token bound to one off the other', async () => {
    const ledger = ledgerAt(join(dir, 'twins.db'));
    copyFileSync(FIXTURE, ledger.location);
    // What 0.1 allowed: NOCASE saw `équipe` and `Équipe` as different names.
    const old = new BetterSqlite3(ledger.location);
    old
      .prepare("INSERT INTO accounts (name, kind, created_at_ms) VALUES ('équipe', 'department', 1795168800000), ('Équipe', 'department', 1795168800000)")
      .run();
    old.close();

    expect((await ledger.ok(['verify', '--json'])).json()).toMatchObject({ ok: true, problems: [] });
    await ledger.ok(['transfer', '100', '--from', 'org', '--to', 'Équipe']);
    await ledger.ok(['transfer', '30', '--from', 'org', '--to', 'ÉQUIPE']);
    // The exact spelling of the later one still finds it; every other spelling finds the earlier one.
    expect(await balanceOf(ledger, 'Équipe')).toBe(100_000);
    expect(await balanceOf(ledger, 'équipe')).toBe(30_000);
    expect((await ledger.run(['dept', 'add', 'EQUIPE'])).exitCode).toBe(0);
    expect((await ledger.run(['dept', 'add', 'e\u0301QUIPE'])).exitCode).toBe(5);

    const token = (await createToken(ledger, ['--role', 'operator', '--dept', 'équipe'])).token;
    const server = await startServer(ledger);
    try {
      for (const spelling of ['Équipe', 'E\u0301quipe']) {
        const read = await server.request('GET', `/v1/balances?account=${encodeURIComponent(spelling)}`, { token });
        const moved = await server.request('POST', '/v1/transfers', { token, body: { amount: '1', from: spelling, to: 'org' } });
        expect({ spelling, read: read.status, moved: moved.status, code: moved.body.error?.code }).toEqual({
          spelling,
          read: 403,
          moved: 403,
          code: 'FORBIDDEN',
        });
      }
      const list = await server.request('POST', '/v1/commands/dept/list', { token, body: {} });
      expect(list.body.data.departments.map((row: { name: string }) => row.name)).toEqual(['équipe']);
    } finally {
      await server.stop();
    }
    expect(await balanceOf(ledger, 'Équipe')).toBe(100_000);
    expect((await ledger.ok(['verify', '--json'])).json()).toMatchObject({ ok: true, problems: [] });
  });
});
