import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { balanceOf, seededLedger, type Ledger } from '../helpers/cli.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// A department-bound token's scope is checked inside the write transaction that posts: a user
// moved to another department after the request arrived, but before its write ran, is refused.
// The test holds the write lock, moves the user inside that transaction, and lets the request
// through only once the move has committed. A check made before the write (as the server did
// with its own queries) would have seen the user in Engineering and posted to Marketing.
describe('a user moved between the scope check and the write', () => {
  let ledger: Ledger;
  let server: ApiServer;
  let engineeringWriter: string;

  beforeAll(async () => {
    ledger = await seededLedger();
    await ledger.ok(['transfer', '3000', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['transfer', '3000', '--from', 'org', '--to', 'Marketing']);
    await ledger.ok(['user', 'add', 'eve@example.com', '--dept', 'Engineering']);
    await ledger.ok(['user', 'add', 'lou@example.com', '--dept', 'Engineering']);
    engineeringWriter = (await createToken(ledger, ['--role', 'usage-writer', '--dept', 'Engineering', '--name', 'eng-gateway'])).token;
    server = await startServer(ledger, [], { CREDITS_BUSY_TIMEOUT_MS: '30000' });
  });

  afterAll(async () => {
    await server?.stop();
    await ledger?.close();
  });

  /** Sends `send()` while another connection holds the write lock and moves `email` to Marketing in it. */
  async function whileMoving(email: string, send: () => Promise<{ status: number; body: any }>) {
    const other = new BetterSqlite3(ledger.location);
    try {
      other.exec('BEGIN IMMEDIATE');
      const pending = send();
      await sleep(400);
      other.prepare("UPDATE users SET department_id = (SELECT id FROM accounts WHERE name = 'Marketing') WHERE email = ?").run(email);
      other.exec('COMMIT');
      return await pending;
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
  }

  it('refuses one event of the moved user with 403 and posts nothing', async () => {
    const marketingBefore = await balanceOf(ledger, 'Marketing');
    const response = await whileMoving('ada@example.com', () =>
      server.request('POST', '/v1/usage', {
        token: engineeringWriter,
        body: { eventId: 'race-1', user: 'ada@example.com', model: 'gpt-4o', inputTokens: 523, outputTokens: 1247 },
      }),
    );
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('FORBIDDEN');
    expect(response.body.error.message).toContain('user "ada@example.com" is not in it');
    expect(await balanceOf(ledger, 'Marketing')).toBe(marketingBefore);
    const report = await ledger.ok(['report', '--by', 'user', '--json']);
    expect(report.json().totals.events).toBe(0);
  });

  it('refuses a batch naming the moved user, all of it', async () => {
    const engineeringBefore = await balanceOf(ledger, 'Engineering');
    const marketingBefore = await balanceOf(ledger, 'Marketing');
    const events = [
      { eventId: 'race-batch-1', user: 'lou@example.com', model: 'gpt-4o', inputTokens: 100 },
      { eventId: 'race-batch-2', user: 'eve@example.com', model: 'gpt-4o', inputTokens: 100 },
    ];
    const response = await whileMoving('eve@example.com', () => server.request('POST', '/v1/usage/batch', { token: engineeringWriter, body: { events } }));
    expect(response.status).toBe(403);
    expect(response.body.error.message).toContain('user "eve@example.com" is not in it');
    expect(await balanceOf(ledger, 'Engineering')).toBe(engineeringBefore);
    expect(await balanceOf(ledger, 'Marketing')).toBe(marketingBefore);
    const audit = await ledger.ok(['audit', '--json']);
    const refused = audit.json<{ entries: { outcome: string; command: string }[] }>().entries.filter((entry) => entry.outcome === 'forbidden');
    expect(refused.map((entry) => entry.command)).toEqual(expect.arrayContaining(['usage record', 'usage import']));
  });

  it('still posts an event of a user who stays in the department', async () => {
    await ledger.ok(['user', 'add', 'kim@example.com', '--dept', 'Engineering']);
    const response = await server.request('POST', '/v1/usage', {
      token: engineeringWriter,
      body: { eventId: 'race-ok', user: 'kim@example.com', model: 'gpt-4o', inputTokens: 523 },
    });
    expect(response.status).toBe(201);
  });
});
