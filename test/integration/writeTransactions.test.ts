import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreditsError, isCreditsError } from '../../src/core/errors.js';
import type { Database } from '../../src/store/driver.js';
import { startSqld, type Sqld } from '../helpers/sqld.js';
import { open, startOtherWriter, tempDir } from './support.js';

async function refusal(promise: Promise<unknown>): Promise<CreditsError> {
  const error = await promise.then(
    () => new Error('the write went through'),
    (reason: unknown) => reason,
  );
  if (!isCreditsError(error)) throw error;
  return error;
}

const addAccount = 'INSERT INTO accounts (name, kind, created_at_ms) VALUES (?, ?, 0)';

async function accountsNamed(db: Database, prefix: string): Promise<string[]> {
  const rows = await db.all<{ name: string }>('SELECT name FROM accounts WHERE name LIKE ? ORDER BY id', [`${prefix}%`]);
  return rows.map((row) => row.name);
}

const dir = tempDir('writes');
let server: Sqld;
beforeAll(async () => {
  server = await startSqld();
  // The remote ledger is created once; the ws and http targets below share it.
  await (await open(server.wsUrl, { mayCreate: true })).close();
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

describe.each([
  { target: 'local file', p: 'Local-', location: () => join(dir.path, 'ledger.db') },
  { target: 'sqld over ws://', p: 'Ws-', location: () => server.wsUrl },
  { target: 'sqld over http://', p: 'Http-', location: () => server.httpUrl },
])('write transactions on a $target', ({ p, location }) => {
  // Each target names its rows with its own prefix p: the two sqld targets share one database.
  let db: Database;
  beforeAll(async () => {
    db = await open(location(), { mayCreate: true });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('undoes every statement of a write whose work throws, also statements the server has already run', async () => {
    const plain = await refusal(
      db.write(async (tx) => {
        tx.run(addAccount, [`${p}Sales`, 'department']);
        // A read inside the write: a remote ledger sends the queued insert before it.
        expect((await tx.all<{ name: string }>('SELECT name FROM accounts WHERE name = ?', [`${p}Sales`])).length).toBe(1);
        tx.run(addAccount, [`${p}Legal`, 'department']);
        throw new Error('the rate card could not be read');
      }),
    );
    expect(plain).toMatchObject({ code: 'INTERNAL', message: 'the rate card could not be read' });

    const refused = new CreditsError('LIMIT_EXCEEDED', 'the monthly limit of Sales is reached');
    expect(
      await refusal(
        db.write(async (tx) => {
          tx.run(addAccount, [`${p}Sales`, 'department']);
          throw refused;
        }),
      ),
    ).toBe(refused);

    expect(await accountsNamed(db, p)).toEqual([]);
  });

  it('undoes the earlier statements when the database refuses one, with our error codes', async () => {
    const duplicate = await refusal(
      db.write(async (tx) => {
        tx.run(addAccount, [`${p}Research`, 'department']);
        tx.run(addAccount, [`${p}RESEARCH`, 'department']);
      }),
    );
    expect(duplicate.code).toBe('DUPLICATE');
    expect(duplicate.exitCode).toBe(5);

    const overdraft = await refusal(
      db.write(async (tx) => {
        tx.run(addAccount, [`${p}Support`, 'department']);
        await tx.get('SELECT count(*) AS n FROM accounts');
        tx.run("UPDATE accounts SET balance_millicredits = -1 WHERE name = ? AND kind = 'department'", [`${p}Support`]);
      }),
    );
    expect(overdraft.code).toBe('INSUFFICIENT_CREDITS');
    expect(overdraft.exitCode).toBe(3);

    expect(await accountsNamed(db, p)).toEqual([]);
  });

  it('with dryRun, shows the work its own reads see and keeps none of it', async () => {
    const seen = await db.write(
      async (tx) => {
        tx.run(addAccount, [`${p}Trial`, 'department']);
        tx.run('UPDATE accounts SET balance_millicredits = 5000 WHERE name = ?', [`${p}Trial`]);
        return tx.all<{ name: string; balance: number }>('SELECT name, balance_millicredits AS balance FROM accounts WHERE name LIKE ?', [`${p}%`]);
      },
      { dryRun: true },
    );
    expect(seen).toEqual([{ name: `${p}Trial`, balance: 5000 }]);
    await db.write(async (tx) => tx.run(addAccount, [`${p}Blind`, 'department']), { dryRun: true });
    expect(await accountsNamed(db, p)).toEqual([]);

    await db.write(async (tx) => tx.run(addAccount, [`${p}Kept`, 'department']));
    expect(await accountsNamed(db, p)).toEqual([`${p}Kept`]);
  });

  it('runs concurrent writes of one process one after another: no update is lost, a failed one does not stop the rest', async () => {
    const key = `${p}counter`;
    await db.write(async (tx) => tx.run("INSERT INTO settings (key, value) VALUES (?, '0')", [key]));
    const jobs = Array.from({ length: 8 }, (_unused, index) =>
      db.write(async (tx) => {
        const seen = Number((await tx.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]))!.value);
        await sleep(5);
        if (index === 3) throw new CreditsError('INSUFFICIENT_CREDITS', 'job 3 is refused');
        tx.run('UPDATE settings SET value = ? WHERE key = ?', [String(seen + 1), key]);
        return seen;
      }),
    );
    const results = await Promise.allSettled(jobs);
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as CreditsError).code))).toEqual([
      0,
      1,
      2,
      'INSUFFICIENT_CREDITS',
      3,
      4,
      5,
      6,
    ]);
    expect(await db.get('SELECT value FROM settings WHERE key = ?', [key])).toEqual({ value: '7' });
  });
});

describe('two programs writing to one sqld database at once', () => {
  it('are serialised by the server: no update is lost', async () => {
    const clients = await Promise.all([open(server.wsUrl), open(server.httpUrl), open(server.wsUrl)]);
    try {
      await clients[0]!.write(async (tx) => tx.run("INSERT INTO settings (key, value) VALUES ('shared-counter', '0')"));
      await Promise.all(
        clients.flatMap((client) =>
          Array.from({ length: 3 }, () =>
            client.write(async (tx) => {
              const seen = Number((await tx.get<{ value: string }>("SELECT value FROM settings WHERE key = 'shared-counter'"))!.value);
              tx.run("UPDATE settings SET value = ? WHERE key = 'shared-counter'", [String(seen + 1)]);
            }),
          ),
        ),
      );
      expect(await clients[1]!.get("SELECT value FROM settings WHERE key = 'shared-counter'")).toEqual({ value: '9' });
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });
});

describe('two processes writing to one local ledger file', () => {
  const path = () => join(dir.path, 'shared.db');
  let db: Database;
  beforeAll(async () => {
    db = await open(path(), { mayCreate: true, busyTimeoutMs: 5000 });
  });
  afterAll(async () => {
    await db?.close();
  });

  const audit = (command: string) =>
    db.write(async (tx) =>
      tx.run("INSERT INTO audit_log (at_ms, actor, command, args_json, outcome) VALUES (?, 'this-process', ?, '{}', 'ok')", [Date.now(), command]),
    );
  const auditCommands = async (): Promise<string[]> =>
    (await db.all<{ command: string }>('SELECT command FROM audit_log ORDER BY id')).map((row) => row.command);

  it('both succeed when this one waits within busy_timeout for the other to commit', async () => {
    const other = startOtherWriter(path(), 400, 'theirs-first');
    await other.waitFor('locked');
    await audit('ours-second');
    expect(await other.exited).toBe(0);
    expect(await auditCommands()).toEqual(['theirs-first', 'ours-second']);
  });

  it('both succeed when the other waits for this one to commit', async () => {
    let other: ReturnType<typeof startOtherWriter> | undefined;
    await db.write(async (tx) => {
      tx.run("INSERT INTO audit_log (at_ms, actor, command, args_json, outcome) VALUES (?, 'this-process', 'ours-first', '{}', 'ok')", [Date.now()]);
      other = startOtherWriter(path(), 0, 'theirs-second');
      await other.waitFor('waiting');
      await sleep(300);
      // BEGIN IMMEDIATE is still waiting for us in the other process.
      expect(other.output()).not.toContain('locked');
    });
    expect(await other!.exited).toBe(0);
    expect((await auditCommands()).slice(-2)).toEqual(['ours-first', 'theirs-second']);
  });

  it('a write that waits longer than the busy timeout fails with STORAGE_BUSY (exit 6), writes nothing, and can be retried', async () => {
    const impatient = await open(path(), { busyTimeoutMs: 100 });
    try {
      const other = startOtherWriter(path(), 1000, 'theirs-long');
      await other.waitFor('locked');
      const busy = await refusal(
        impatient.write(async (tx) =>
          tx.run("INSERT INTO audit_log (at_ms, actor, command, args_json, outcome) VALUES (?, 'impatient', 'ours-too-early', '{}', 'ok')", [Date.now()]),
        ),
      );
      expect(busy.code).toBe('STORAGE_BUSY');
      expect(busy.exitCode).toBe(6);
      expect(busy.message).toContain(path());
      expect(busy.hint).toContain('CREDITS_BUSY_TIMEOUT_MS');
      expect(await other.exited).toBe(0);
      expect((await auditCommands()).at(-1)).toBe('theirs-long');
      await impatient.write(async (tx) =>
        tx.run("INSERT INTO audit_log (at_ms, actor, command, args_json, outcome) VALUES (?, 'impatient', 'ours-retried', '{}', 'ok')", [Date.now()]),
      );
      expect((await auditCommands()).slice(-2)).toEqual(['theirs-long', 'ours-retried']);
    } finally {
      await impatient.close();
    }
  });
});
